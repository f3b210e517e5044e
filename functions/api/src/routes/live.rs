use atende_core::conversations::sessions::Access;
use atende_core::live::sockets::SocketTicket;
use atende_core::live::{self, LiveEvent, LiveFrame, LivePage, LiveQuery};
use atende_runtime::auth::Authenticated;
use atende_runtime::extract::QueryParams;
use atende_runtime::{ApiError, AppContext};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How often a stream reads the table when nothing in this process woke it (events
/// appended by other processes).
const POLL: Duration = Duration::from_secs(1);
/// How often a stream reads the caller's teams again (membership changes).
const ACCESS_TTL: Duration = Duration::from_secs(60);

/// The live events after `after` that the caller may see, in order (see the README: live
/// updates). Without `after`: only where the stream stands now. `reload`: the events
/// after `after` are no longer kept (24 h): load again, then read after `last_seq`.
#[utoipa::path(operation_id = "read_live_events", get, path = "/v1/live", tag = "live", security(("bearer" = [])),
    params(LiveQuery), responses((status = 200, body = LivePage)))]
pub async fn read(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<LiveQuery>,
) -> Result<Json<LivePage>, ApiError> {
    Ok(Json(live::page(&ctx.deps, &caller, query).await?))
}

/// The same events as Server-Sent Events (the local runtime; on AWS use the WebSocket
/// API): each `id:` is the event's sequence, so a client reconnecting with `Last-Event-ID`
/// (or `?after=`) resumes where it left; an `event: reload` says it fell behind the
/// retention. A comment every 15 s keeps proxies from closing it.
#[utoipa::path(operation_id = "stream_live_events", get, path = "/v1/live/stream", tag = "live", security(("bearer" = [])),
    params(LiveQuery), responses((status = 200, content_type = "text/event-stream", body = LiveEvent)))]
pub async fn stream(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<LiveQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resumed =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    if query.after.is_some_and(|a| a < 0) {
        return Err(atende_core::ServiceError::invalid("after is a sequence number, 0 or more").into());
    }
    let after = match resumed.or(query.after.map(|a| a as u64)) {
        Some(after) => after,
        None => live::last_seq(&ctx.deps, &caller.account_id).await?,
    };
    let access = Access::of(&ctx.deps, &caller).await?;
    let state = Reader { ctx, access, read_at: Instant::now(), after, queued: VecDeque::new() };
    let events = futures::stream::unfold(state, |mut r| async move {
        let event = r.next().await;
        Some((Ok(event), r))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One stream's position.
struct Reader {
    ctx: AppContext,
    access: Access,
    read_at: Instant,
    after: u64,
    queued: VecDeque<LiveFrame>,
}

impl Reader {
    /// The next event to send: a live event, or `reload`. A failed read waits a poll and
    /// tries again (the client keeps its place either way).
    async fn next(&mut self) -> Event {
        loop {
            if let Some(frame) = self.queued.pop_front() {
                return Event::default()
                    .id(frame.seq.to_string())
                    .event(&*frame.event_type)
                    .data(&*frame.json);
            }
            if self.read_at.elapsed() > ACCESS_TTL
                && let Ok(access) = Access::of(&self.ctx.deps, &self.access.caller).await
            {
                (self.access, self.read_at) = (access, Instant::now());
            }
            let wake = live::appended();
            tokio::pin!(wake);
            wake.as_mut().enable();
            match live::read_frames(&self.ctx.deps, &self.access, self.after).await {
                Ok(page) if page.reload => {
                    self.after = page.last_seq;
                    return Event::default().id(page.last_seq.to_string()).event("reload").data("{}");
                }
                Ok(page) => {
                    self.after = page.last_seq;
                    self.queued.extend(page.events);
                    if self.queued.is_empty() && !page.more {
                        let _ = tokio::time::timeout(POLL, wake).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a live stream could not read; trying again");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

/// A one-time ticket (valid a minute) to open the live WebSocket: connect to `url` with
/// `?ticket=`. `url` is null where the deployment has no WebSocket API (locally: use
/// `GET /v1/live/stream`).
#[utoipa::path(operation_id = "live_socket_ticket", post, path = "/v1/live/ticket", tag = "live", security(("bearer" = [])),
    responses((status = 201, body = SocketTicket)))]
pub async fn ticket(
    State(ctx): State<AppContext>,
    Authenticated(caller): Authenticated,
) -> Result<(StatusCode, Json<SocketTicket>), ApiError> {
    let url = ctx.live_socket_url.as_deref().map(str::to_owned);
    Ok((StatusCode::CREATED, Json(live::sockets::ticket(&ctx.deps, &caller, url).await?)))
}

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(read)).routes(routes!(stream)).routes(routes!(ticket))
}
