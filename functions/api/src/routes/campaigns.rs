//! Campaigns, sequences and the marketing opt-out.

use atende_core::campaigns::model::Campaign;
use atende_core::campaigns::report::{self, Estimate, Export, Funnel, RecipientFilter, RecipientPage};
use atende_core::campaigns::sequences::{
    self, EnrolInput, EnrolResult, Enrolment, EnrolmentList, NewSequence, Sequence, SequenceList,
    SequencePatch,
};
use atende_core::campaigns::store::{
    self, CampaignFilter, CampaignList, CampaignPatch, CampaignSettings, NewCampaign,
};
use atende_core::campaigns::{lifecycle, replies};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's campaigns, newest first (archived ones on request).
#[utoipa::path(operation_id = "list_campaigns", get, path = "/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    params(CampaignFilter), responses((status = 200, body = CampaignList)))]
pub async fn list_campaigns(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(filter): QueryParams<CampaignFilter>,
) -> Result<Json<CampaignList>, ApiError> {
    Ok(Json(store::list(&ctx.deps, &caller, filter).await?))
}

/// Draft a campaign (anyone): channel, team for replies, template and its parameters
/// (`{{variables}}` of the contact or fixed texts), audience, optional start time and
/// allowed hours.
#[utoipa::path(operation_id = "create_campaign", post, path = "/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body = NewCampaign,
    responses((status = 201, body = Campaign), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewCampaign>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    Ok((StatusCode::CREATED, Json(store::create(&ctx.deps, &caller, input).await?)))
}

#[utoipa::path(operation_id = "get_campaign", get, path = "/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
pub async fn get_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(store::get(&ctx.deps, &caller, &id).await?))
}

/// Edit a draft; `archived` may change in any state.
#[utoipa::path(operation_id = "update_campaign", patch, path = "/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CampaignPatch,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<CampaignPatch>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(store::update(&ctx.deps, &caller, &id, patch).await?))
}

/// Delete a draft.
#[utoipa::path(operation_id = "delete_campaign", delete, path = "/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    store::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start (admins): now, or at its `start_at` (`scheduled`). The template must be approved.
#[utoipa::path(operation_id = "start_campaign", post, path = "/v1/campaigns/{id}/start", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(lifecycle::start(&ctx.deps, &caller, &id).await?))
}

/// Pause (admins).
#[utoipa::path(operation_id = "pause_campaign", post, path = "/v1/campaigns/{id}/pause", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(lifecycle::pause(&ctx.deps, &caller, &id).await?))
}

/// Resume a paused campaign (admins).
#[utoipa::path(operation_id = "resume_campaign", post, path = "/v1/campaigns/{id}/resume", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(lifecycle::resume(&ctx.deps, &caller, &id).await?))
}

/// Cancel (admins): recipients not yet sent are never sent.
#[utoipa::path(operation_id = "cancel_campaign", post, path = "/v1/campaigns/{id}/cancel", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(lifecycle::cancel(&ctx.deps, &caller, &id).await?))
}

/// The funnel: recipients, sent, delivered, read, replied; failures by reason; skipped by
/// reason.
#[utoipa::path(operation_id = "campaign_report", get, path = "/v1/campaigns/{id}/report", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Funnel), (status = 404, body = ErrorBody)))]
pub async fn campaign_report(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Funnel>, ApiError> {
    Ok(Json(report::funnel(&ctx.deps, &caller, &id).await?))
}

/// The recipients, by status and name.
#[utoipa::path(operation_id = "campaign_recipients", get, path = "/v1/campaigns/{id}/recipients", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path), RecipientFilter),
    responses((status = 200, body = RecipientPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn campaign_recipients(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    QueryParams(filter): QueryParams<RecipientFilter>,
) -> Result<Json<RecipientPage>, ApiError> {
    Ok(Json(report::recipients(&ctx.deps, &caller, &id, filter).await?))
}

/// Export the recipients of a finished campaign as CSV (admins): a link valid for an hour.
#[utoipa::path(operation_id = "export_campaign", post, path = "/v1/campaigns/{id}/export", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Export), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn export_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Export>, ApiError> {
    Ok(Json(report::export(&ctx.deps, &caller, &id).await?))
}

/// What it would cost: recipients × the template category's price per message.
#[utoipa::path(operation_id = "estimate_campaign", get, path = "/v1/campaigns/{id}/estimate", tag = "campaigns", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Estimate), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn estimate_campaign(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Estimate>, ApiError> {
    Ok(Json(report::estimate(&ctx.deps, &caller, &id).await?))
}

#[utoipa::path(operation_id = "get_campaign_settings", get, path = "/v1/campaign-settings", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = CampaignSettings)))]
pub async fn get_settings(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<CampaignSettings>, ApiError> {
    Ok(Json(store::get_settings(&ctx.deps, &caller).await?))
}

/// The failure threshold that pauses campaigns and the prices of the estimate (admins).
#[utoipa::path(operation_id = "put_campaign_settings", put, path = "/v1/campaign-settings", tag = "campaigns", security(("bearer" = [])),
    request_body = CampaignSettings,
    responses((status = 200, body = CampaignSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<CampaignSettings>,
) -> Result<Json<CampaignSettings>, ApiError> {
    Ok(Json(store::put_settings(&ctx.deps, &caller, input).await?))
}

#[utoipa::path(operation_id = "list_sequences", get, path = "/v1/sequences", tag = "sequences", security(("bearer" = [])),
    responses((status = 200, body = SequenceList)))]
pub async fn list_sequences(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SequenceList>, ApiError> {
    Ok(Json(sequences::list(&ctx.deps, &caller).await?))
}

/// Create a sequence (admins): ordered steps, each a template after a delay, within
/// optional allowed hours; stop on reply (default on); optional restart rule.
#[utoipa::path(operation_id = "create_sequence", post, path = "/v1/sequences", tag = "sequences", security(("bearer" = [])),
    request_body = NewSequence,
    responses((status = 201, body = Sequence), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_sequence(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewSequence>,
) -> Result<(StatusCode, Json<Sequence>), ApiError> {
    Ok((StatusCode::CREATED, Json(sequences::create(&ctx.deps, &caller, input).await?)))
}

#[utoipa::path(operation_id = "get_sequence", get, path = "/v1/sequences/{id}", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Sequence), (status = 404, body = ErrorBody)))]
pub async fn get_sequence(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Sequence>, ApiError> {
    Ok(Json(sequences::get(&ctx.deps, &caller, &id).await?))
}

/// Edit a sequence, or switch it off and on (admins).
#[utoipa::path(operation_id = "update_sequence", patch, path = "/v1/sequences/{id}", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SequencePatch,
    responses((status = 200, body = Sequence), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_sequence(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<SequencePatch>,
) -> Result<Json<Sequence>, ApiError> {
    Ok(Json(sequences::update(&ctx.deps, &caller, &id, patch).await?))
}

#[utoipa::path(operation_id = "delete_sequence", delete, path = "/v1/sequences/{id}", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_sequence(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    sequences::delete(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "list_enrolments", get, path = "/v1/sequences/{id}/enrolments", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = EnrolmentList), (status = 404, body = ErrorBody)))]
pub async fn list_enrolments(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<EnrolmentList>, ApiError> {
    Ok(Json(sequences::enrolments(&ctx.deps, &caller, &id).await?))
}

/// Enrol contacts (up to 1000 listed) or every contact of a tag (in the background). A
/// contact already in the sequence is not enrolled twice.
#[utoipa::path(operation_id = "enrol", post, path = "/v1/sequences/{id}/enrolments", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = EnrolInput,
    responses((status = 200, body = EnrolResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enrol(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<EnrolInput>,
) -> Result<Json<EnrolResult>, ApiError> {
    Ok(Json(sequences::enrol(&ctx.deps, &caller, &id, input).await?))
}

/// Remove a contact from a sequence.
#[utoipa::path(operation_id = "remove_enrolment", delete, path = "/v1/sequences/{id}/enrolments/{contact_id}", tag = "sequences", security(("bearer" = [])),
    params(("id" = String, Path), ("contact_id" = String, Path)),
    responses((status = 200, body = Enrolment), (status = 404, body = ErrorBody)))]
pub async fn remove_enrolment(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path((id, contact)): Path<(String, String)>,
) -> Result<Json<Enrolment>, ApiError> {
    Ok(Json(sequences::remove(&ctx.deps, &caller, &id, &contact).await?))
}

/// Let a contact who opted out receive marketing again (admins, on the contact's request).
#[utoipa::path(operation_id = "opt_back_in", delete, path = "/v1/contacts/{id}/marketing-opt-out", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn opt_back_in(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    replies::opt_back_in(&ctx.deps, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(start_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(cancel_campaign))
        .routes(routes!(campaign_report))
        .routes(routes!(campaign_recipients))
        .routes(routes!(export_campaign))
        .routes(routes!(estimate_campaign))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(list_sequences, create_sequence))
        .routes(routes!(get_sequence, update_sequence, delete_sequence))
        .routes(routes!(list_enrolments, enrol))
        .routes(routes!(remove_enrolment))
        .routes(routes!(opt_back_in))
}
