//! Channels, contacts, templates, sessions, messages, notes, uploads, account settings.

use crate::dto::{MessagePageView, MessageView, SessionPageView, SessionView, StartedView};
use atende_core::accounts::Account;
use atende_core::accounts::settings::{self as account_settings, AccountPatch};
use atende_core::conversations::channels::{self, ChannelList, ChannelPatch, NewChannel};
use atende_core::conversations::contacts::{self, ContactFilter, ContactPage, ContactPatch, NewContact};
use atende_core::conversations::lifecycle::{self, BulkFilter, BulkResult};
use atende_core::conversations::messages::{self, Restart, SendMessage, StartSession};
use atende_core::conversations::notes::{self, NoteList, NoteText};
use atende_core::conversations::sessions::{self, Completion, SessionFilter, TransferTo, UnreadCounts};
use atende_core::conversations::templates::{self, NewTemplate, SyncReport, TemplateEdit, TemplateList};
use atende_core::conversations::uploads::{self, Upload, UploadGrant, UploadIntent};
use atende_core::conversations::{Channel, Contact, Note, Template};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Ctx = State<AppContext>;

#[utoipa::path(get, path = "/v1/account", tag = "account", security(("bearer" = [])), responses((status = 200, body = Account)))]
pub async fn get_account(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(account_settings::get(&ctx.deps, &c).await?))
}

/// Change the account (admins). 409: transcription asked of a deployment without a
/// speech-to-text provider, or another change came first.
#[utoipa::path(patch, path = "/v1/account", tag = "account", security(("bearer" = [])), request_body = AccountPatch,
    responses((status = 200, body = Account), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_account(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(p): JsonBody<AccountPatch>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(account_settings::update(&ctx.deps, &c, p).await?))
}

#[utoipa::path(get, path = "/v1/channels", tag = "channels", security(("bearer" = [])), responses((status = 200, body = ChannelList)))]
pub async fn list_channels(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<ChannelList>, ApiError> {
    Ok(Json(channels::list(&ctx.deps, &c).await?))
}

#[utoipa::path(post, path = "/v1/channels", tag = "channels", security(("bearer" = [])), request_body = NewChannel,
    responses((status = 201, body = Channel), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_channel(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    Ok((StatusCode::CREATED, Json(channels::create(&ctx.deps, &c, i).await?)))
}

#[utoipa::path(get, path = "/v1/channels/{id}", tag = "channels", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
pub async fn get_channel(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(channels::get(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(patch, path = "/v1/channels/{id}", tag = "channels", security(("bearer" = [])), params(("id" = String, Path)), request_body = ChannelPatch,
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_channel(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<ChannelPatch>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(channels::update(&ctx.deps, &c, &id, p).await?))
}

/// Remove a channel for good (its sessions stay readable).
#[utoipa::path(delete, path = "/v1/channels/{id}", tag = "channels", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_channel(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    channels::remove(&ctx.deps, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search and filter contacts: every criterion given must hold. A page can come back
/// shorter than `limit` with a `next_cursor` when few entries match the other criteria.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts", security(("bearer" = [])), params(ContactFilter),
    responses((status = 200, body = ContactPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_contacts(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    QueryParams(filter): QueryParams<ContactFilter>,
) -> Result<Json<ContactPage>, ApiError> {
    Ok(Json(contacts::search(&ctx.deps, &c, filter).await?))
}

#[utoipa::path(post, path = "/v1/contacts", tag = "contacts", security(("bearer" = [])), request_body = NewContact,
    responses((status = 201, body = Contact), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_contact(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<NewContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    Ok((StatusCode::CREATED, Json(contacts::create(&ctx.deps, &c, i).await?)))
}

#[utoipa::path(get, path = "/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)))]
pub async fn get_contact(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(contacts::get(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(patch, path = "/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = String, Path)), request_body = ContactPatch,
    responses((status = 200, body = Contact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_contact(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(contacts::update(&ctx.deps, &c, &id, p).await?))
}

#[utoipa::path(get, path = "/v1/templates", tag = "templates", security(("bearer" = [])), responses((status = 200, body = TemplateList)))]
pub async fn list_templates(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<TemplateList>, ApiError> {
    Ok(Json(templates::list(&ctx.deps, &c).await?))
}

/// Creates a template: on a Cloud channel it is submitted to Meta (and comes back
/// `pending` or `approved`); the sandbox approves its own.
#[utoipa::path(post, path = "/v1/templates", tag = "templates", security(("bearer" = [])), request_body = NewTemplate,
    responses((status = 201, body = Template), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn create_template(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<NewTemplate>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((StatusCode::CREATED, Json(templates::create(&ctx.deps, &c, i).await?)))
}

#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::get(&ctx.deps, &c, &id).await?))
}

/// New content for a template (header, body, footer, buttons, category): at Meta it goes
/// back to review.
#[utoipa::path(put, path = "/v1/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = String, Path)), request_body = TemplateEdit,
    responses((status = 200, body = Template), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn edit_template(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<TemplateEdit>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::edit(&ctx.deps, &c, &id, i).await?))
}

/// Reads every template of the channel's WhatsApp Business Account at Meta and brings
/// this account's copy in line (new ones added, changed ones updated, missing ones marked
/// deleted).
#[utoipa::path(post, path = "/v1/channels/{id}/templates/sync", tag = "templates", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SyncReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn sync_templates(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<SyncReport>, ApiError> {
    Ok(Json(templates::sync(&ctx.deps, &c, &id).await?))
}

/// Deletes the template at Meta and here.
#[utoipa::path(delete, path = "/v1/templates/{id}", tag = "templates", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn delete_template(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    templates::delete(&ctx.deps, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session tabs: pending, mine, others, completed.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", security(("bearer" = [])), params(SessionFilter),
    responses((status = 200, body = SessionPageView), (status = 400, body = ErrorBody)))]
pub async fn list_sessions(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    QueryParams(f): QueryParams<SessionFilter>,
) -> Result<Json<SessionPageView>, ApiError> {
    Ok(Json(sessions::list(&ctx.deps, &c, f).await?.into()))
}

/// Start a session with a template (*contato ativo*).
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", security(("bearer" = [])), request_body = StartSession,
    responses((status = 201, body = StartedView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn start_session(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(i): JsonBody<StartSession>,
) -> Result<(StatusCode, Json<StartedView>), ApiError> {
    Ok((StatusCode::CREATED, Json(messages::start(&ctx.deps, &c, i).await?.into())))
}

/// Complete every open session matching a filter (admins).
#[utoipa::path(post, path = "/v1/sessions/bulk-complete", tag = "sessions", security(("bearer" = [])), request_body = BulkFilter,
    responses((status = 200, body = BulkResult), (status = 403, body = ErrorBody)))]
pub async fn bulk_complete(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(f): JsonBody<BulkFilter>,
) -> Result<Json<BulkResult>, ApiError> {
    Ok(Json(lifecycle::bulk_complete(&ctx.deps, &c, f).await?))
}

/// Sessions waiting and unread, for badges.
#[utoipa::path(get, path = "/v1/sessions/counts", tag = "sessions", security(("bearer" = [])), responses((status = 200, body = UnreadCounts)))]
pub async fn session_counts(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
) -> Result<Json<UnreadCounts>, ApiError> {
    Ok(Json(sessions::counts(&ctx.deps, &c).await?))
}

#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody)))]
pub async fn get_session(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let session = sessions::get(&ctx.deps, &c, &id).await?;
    let window = sessions::window(&ctx.deps, &session).await?;
    Ok(Json(SessionView { window: Some(window.into()), ..session.into() }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// The previous page's `next_cursor` (empty or absent: the first page).
    #[param(format = "cursor")]
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A session's messages, newest first.
#[utoipa::path(get, path = "/v1/sessions/{id}/messages", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path), Page),
    responses((status = 200, body = MessagePageView), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    QueryParams(p): QueryParams<Page>,
) -> Result<Json<MessagePageView>, ApiError> {
    Ok(Json(messages::list(&ctx.deps, &c, &id, p.cursor, p.limit).await?.into()))
}

/// Send a message (text, media, template). Outside the 24 h window free-form messages wait
/// for the contact's reply (`waiting_reply`).
#[utoipa::path(post, path = "/v1/sessions/{id}/messages", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 201, body = MessageView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send_message(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<SendMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    Ok((StatusCode::CREATED, Json(messages::send(&ctx.deps, &c, &id, i).await?.into())))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/assume", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn assume(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::assume(&ctx.deps, &c, &id).await?.into()))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/return", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn return_to_queue(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::return_to_queue(&ctx.deps, &c, &id).await?.into()))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/complete", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)), request_body = Completion,
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<Completion>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::complete(&ctx.deps, &c, &id, i).await?.into()))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/restart", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)), request_body = Restart,
    responses((status = 200, body = StartedView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn restart(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<Restart>,
) -> Result<Json<StartedView>, ApiError> {
    Ok(Json(messages::restart(&ctx.deps, &c, &id, i).await?.into()))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/transfer", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)), request_body = TransferTo,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn transfer(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<TransferTo>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(sessions::transfer(&ctx.deps, &c, &id, i).await?.into()))
}

#[utoipa::path(get, path = "/v1/sessions/{id}/notes", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = NoteList), (status = 404, body = ErrorBody)))]
pub async fn list_notes(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<NoteList>, ApiError> {
    Ok(Json(notes::list(&ctx.deps, &c, &id).await?))
}

#[utoipa::path(post, path = "/v1/sessions/{id}/notes", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)), request_body = NoteText,
    responses((status = 201, body = Note), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_note(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<NoteText>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    Ok((StatusCode::CREATED, Json(notes::add(&ctx.deps, &c, &id, i).await?)))
}

#[utoipa::path(patch, path = "/v1/sessions/{id}/notes/{note_id}", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path), ("note_id" = String, Path)), request_body = NoteText,
    responses((status = 200, body = Note), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edit_note(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path((id, note)): Path<(String, String)>,
    JsonBody(i): JsonBody<NoteText>,
) -> Result<Json<Note>, ApiError> {
    Ok(Json(notes::edit(&ctx.deps, &c, &id, &note, i).await?))
}

#[utoipa::path(delete, path = "/v1/sessions/{id}/notes/{note_id}", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path), ("note_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_note(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path((id, note)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    notes::delete(&ctx.deps, &c, &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel a message during its send delay.
#[utoipa::path(post, path = "/v1/messages/{id}/cancel", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_message(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(messages::cancel(&ctx.deps, &c, &id).await?.into()))
}

/// Upload a file (the raw bytes, with its `Content-Type`) to attach to a media message.
#[utoipa::path(post, path = "/v1/uploads", tag = "sessions", security(("bearer" = [])), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Upload), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Upload>), ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "uploads are at most 100 MB")
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream");
    Ok((StatusCode::CREATED, Json(uploads::store(&ctx.deps, &c, content_type, body.to_vec()).await?)))
}

/// A link to upload one file straight to object storage (up to WhatsApp's 100 MB, beyond
/// what a request to the API can carry): `PUT` the bytes to `url` with `headers` within 15
/// minutes, then use `blob_key`. The type and size are checked now and again when used.
#[utoipa::path(post, path = "/v1/uploads/presign", tag = "sessions", security(("bearer" = [])), request_body = UploadIntent,
    responses((status = 201, body = UploadGrant), (status = 422, body = ErrorBody)))]
pub async fn presign_upload(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    JsonBody(intent): JsonBody<UploadIntent>,
) -> Result<(StatusCode, Json<UploadGrant>), ApiError> {
    Ok((StatusCode::CREATED, Json(uploads::presign(&ctx.deps, &c, intent).await?)))
}

/// A link to a message's file (image, audio, video, document), valid for 24 hours.
#[utoipa::path(get, path = "/v1/messages/{id}/media", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = messages::FileLink), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn message_media(
    State(ctx): Ctx,
    Authenticated(c): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<messages::FileLink>, ApiError> {
    Ok(Json(messages::media_link(&ctx.deps, &c, &id).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    let (schemas, paths, upload_route) = routes!(upload);
    let upload_route =
        upload_route.layer(DefaultBodyLimit::max(atende_core::conversations::uploads::MAX_UPLOAD));
    OpenApiRouter::new()
        .routes(routes!(get_account, update_account))
        .routes(routes!(presign_upload))
        .routes(routes!(message_media))
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, remove_channel))
        .routes(routes!(search_contacts, create_contact))
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(list_templates, create_template))
        .routes(routes!(get_template, edit_template, delete_template))
        .routes(routes!(sync_templates))
        .routes(routes!(list_sessions, start_session))
        .routes(routes!(session_counts))
        .routes(routes!(bulk_complete))
        .routes(routes!(get_session))
        .routes(routes!(list_messages, send_message))
        .routes(routes!(assume))
        .routes(routes!(return_to_queue))
        .routes(routes!(complete))
        .routes(routes!(restart))
        .routes(routes!(transfer))
        .routes(routes!(list_notes, add_note))
        .routes(routes!(edit_note, delete_note))
        .routes(routes!(cancel_message))
        .routes((schemas, paths, upload_route))
}
