use atende_core::chat::{self, ChatConversations, ChatMessage, ChatPage, ChatQuery, ChatText};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::{JsonBody, QueryParams};
use atende_runtime::http_error::utoipa_schema::ErrorBody;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The internal chat's conversations the caller may use: `everyone`, their teams
/// (`team:<id>`; every team for admins), every other user (`user:<id>`).
#[utoipa::path(operation_id = "list_chat_conversations", get, path = "/v1/chat", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = ChatConversations)))]
pub async fn list_conversations(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ChatConversations>, ApiError> {
    Ok(Json(chat::conversations(&ctx.deps, &caller).await?))
}

/// A conversation's messages, newest first.
#[utoipa::path(operation_id = "list_chat_messages", get, path = "/v1/chat/{conversation}/messages", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path), ChatQuery),
    responses((status = 200, body = ChatPage), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(conversation): Path<String>,
    QueryParams(q): QueryParams<ChatQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    Ok(Json(chat::list(&ctx.deps, &caller, &conversation, q).await?))
}

/// Write to a conversation; its readers hear it live (`chat.message`).
#[utoipa::path(operation_id = "post_chat_message", post, path = "/v1/chat/{conversation}/messages", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path)), request_body = ChatText,
    responses((status = 201, body = ChatMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_message(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    Path(conversation): Path<String>,
    JsonBody(text): JsonBody<ChatText>,
) -> Result<(StatusCode, Json<ChatMessage>), ApiError> {
    Ok((StatusCode::CREATED, Json(chat::post(&ctx.deps, &caller, &conversation, text).await?)))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(list_conversations)).routes(routes!(list_messages, post_message))
}
