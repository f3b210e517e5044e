//! The contact base's settings and tools: custom fields, blocked numbers (imports and
//! privacy join here). Contact CRUD and search live in `conversations`.

use atende_core::conversations::imports::{self, ContactImport, ImportList, ImportStart};
use atende_core::conversations::{contacts, field_removal};
use atende_core::crm::fields::{self, CustomField, FieldList, FieldPatch, NewField};
use atende_core::privacy::{self, ContactExport, Erasure};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::JsonBody;
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's custom fields, by key.
#[utoipa::path(operation_id = "list_custom_fields", get, path = "/v1/custom-fields", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = FieldList)))]
pub async fn list_fields(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<FieldList>, ApiError> {
    Ok(Json(fields::list(&ctx.deps, &caller).await?))
}

/// Define a custom field (admins): `text`, `number`, `date`, `boolean` or `choice`.
#[utoipa::path(operation_id = "create_custom_field", post, path = "/v1/custom-fields", tag = "contacts", security(("bearer" = [])),
    request_body = NewField,
    responses((status = 201, body = CustomField), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_field(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<NewField>,
) -> Result<(StatusCode, Json<CustomField>), ApiError> {
    Ok((StatusCode::CREATED, Json(fields::create(&ctx.deps, &caller, input).await?)))
}

/// One custom field.
#[utoipa::path(operation_id = "get_custom_field", get, path = "/v1/custom-fields/{key}", tag = "contacts", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 200, body = CustomField), (status = 404, body = ErrorBody)))]
pub async fn get_field(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(key): Path<String>,
) -> Result<Json<CustomField>, ApiError> {
    Ok(Json(fields::get(&ctx.deps, &caller, &key).await?))
}

/// Change a custom field's label, required flag or options (admins).
#[utoipa::path(operation_id = "update_custom_field", patch, path = "/v1/custom-fields/{key}", tag = "contacts", security(("bearer" = [])),
    params(("key" = String, Path)), request_body = FieldPatch,
    responses((status = 200, body = CustomField), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_field(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(key): Path<String>,
    JsonBody(patch): JsonBody<FieldPatch>,
) -> Result<Json<CustomField>, ApiError> {
    Ok(Json(fields::update(&ctx.deps, &caller, &key, patch).await?))
}

/// Delete a custom field (admins); its value is taken off every contact.
#[utoipa::path(operation_id = "delete_custom_field", delete, path = "/v1/custom-fields/{key}", tag = "contacts", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_field(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    field_removal::delete_field(&ctx.deps, &caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A number to let become a contact again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NumberToUnblock {
    /// Any spelling of the number.
    pub phone: String,
}

/// Let an erased number become a contact again (admins).
#[utoipa::path(operation_id = "unblock_number", post, path = "/v1/contacts/unblock", tag = "contacts", security(("bearer" = [])),
    request_body = NumberToUnblock,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unblock(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<NumberToUnblock>,
) -> Result<StatusCode, ApiError> {
    contacts::unblock_number(&ctx.deps, &caller, &body.phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Upload a CSV to import (admins): UTF-8 or Windows-1252/Latin-1, `,` or `;`, up to
/// 5,000 rows. Answers with its columns, a sample and a suggested mapping; nothing is
/// imported until `start`.
#[utoipa::path(operation_id = "upload_contact_import", post, path = "/v1/contact-imports", tag = "contacts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "text/csv"),
    responses((status = 201, body = ContactImport), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_import(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    body: Bytes,
) -> Result<(StatusCode, Json<ContactImport>), ApiError> {
    Ok((StatusCode::CREATED, Json(imports::upload(&ctx.deps, &caller, body.to_vec()).await?)))
}

/// Upload a contacts file already in storage (`POST /v1/uploads/presign`, then a `PUT` of
/// the CSV): read as `POST /v1/contact-imports` reads one sent in the request.
#[utoipa::path(operation_id = "upload_contact_import_from_storage", post, path = "/v1/contact-imports/from-upload", tag = "contacts", security(("bearer" = [])),
    request_body = FromUpload,
    responses((status = 201, body = ContactImport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_from_upload(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    JsonBody(input): JsonBody<FromUpload>,
) -> Result<(StatusCode, Json<ContactImport>), ApiError> {
    Ok((StatusCode::CREATED, Json(imports::upload_from(&ctx.deps, &caller, &input.blob_key).await?)))
}

/// A file uploaded straight to storage.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromUpload {
    /// The `blob_key` of `POST /v1/uploads/presign`.
    pub blob_key: String,
}

/// The account's imports, newest first (admins).
#[utoipa::path(operation_id = "list_contact_imports", get, path = "/v1/contact-imports", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = ImportList), (status = 403, body = ErrorBody)))]
pub async fn list_imports(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ImportList>, ApiError> {
    Ok(Json(imports::list(&ctx.deps, &caller).await?))
}

/// An import and its progress: rows done, created, updated, unchanged, failed (admins).
#[utoipa::path(operation_id = "get_contact_import", get, path = "/v1/contact-imports/{id}", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ContactImport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_import(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ContactImport>, ApiError> {
    Ok(Json(imports::get(&ctx.deps, &caller, &id).await?))
}

/// Start an uploaded import with its column mapping (admins); it runs as a job.
#[utoipa::path(operation_id = "start_contact_import", post, path = "/v1/contact-imports/{id}/start", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ImportStart,
    responses((status = 202, body = ContactImport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_import(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ImportStart>,
) -> Result<(StatusCode, Json<ContactImport>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(imports::start(&ctx.deps, &caller, &id, input).await?)))
}

/// The rows that failed, as CSV (line, error, then the row's cells), for Excel (admins).
#[utoipa::path(operation_id = "contact_import_errors", get, path = "/v1/contact-imports/{id}/errors", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn import_errors(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let csv = imports::error_report(&ctx.deps, &caller, &id).await?;
    let disposition = format!("attachment; filename=\"import-{id}-errors.csv\"");
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (CONTENT_DISPOSITION, disposition)], csv))
}

/// Everything stored about a contact (admins; LGPD): profile, sessions with their
/// messages and notes, media links (valid 24 h), scheduled messages.
#[utoipa::path(operation_id = "export_contact", get, path = "/v1/contacts/{id}/export", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ContactExport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_contact(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ContactExport>, ApiError> {
    Ok(Json(privacy::export(&ctx.deps, &caller, &id).await?))
}

/// Erase a contact (admins; LGPD): message bodies, media, notes and identities go; counts
/// stay; the number never becomes a contact again by itself. Runs as a job; asking again
/// changes nothing.
#[utoipa::path(operation_id = "erase_contact", post, path = "/v1/contacts/{id}/erasure", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = Erasure), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erase_contact(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Erasure>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(privacy::request_erasure(&ctx.deps, &caller, &id).await?)))
}

/// A contact's erasure: who asked, when, and whether it is done (admins).
#[utoipa::path(operation_id = "get_contact_erasure", get, path = "/v1/contacts/{id}/erasure", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Erasure), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_erasure(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Erasure>, ApiError> {
    Ok(Json(privacy::get_erasure(&ctx.deps, &caller, &id).await?))
}

pub fn router() -> OpenApiRouter<AppContext> {
    let (schemas, paths, upload) = routes!(upload_import, list_imports);
    let upload = upload.layer(DefaultBodyLimit::max(imports::MAX_BYTES));
    OpenApiRouter::new()
        .routes((schemas, paths, upload))
        .routes(routes!(import_from_upload))
        .routes(routes!(get_import))
        .routes(routes!(start_import))
        .routes(routes!(import_errors))
        .routes(routes!(export_contact))
        .routes(routes!(erase_contact, get_erasure))
        .routes(routes!(list_fields, create_field))
        .routes(routes!(get_field, update_field, delete_field))
        .routes(routes!(unblock))
}
