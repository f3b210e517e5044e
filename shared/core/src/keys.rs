//! Every key pattern of the single table, one function per access pattern.
//!
//! Every partition key starts with the account (`A#<account>`), with these exceptions, all
//! read before an account is known or across accounts: the login lookup `EMAIL#<email>`,
//! the failed logins `LOGIN#…`, the request buckets `RATE#…`, the channel lookups, the
//! sealing key and the timers.

use crate::ports::Key;

pub fn account_pk(account: &str) -> String {
    format!("A#{account}")
}

/// `A#<account>` / `ACCOUNT`: the account itself.
pub fn account(account: &str) -> Key {
    Key::new(account_pk(account), "ACCOUNT")
}

pub const USER_PREFIX: &str = "USER#";
/// `A#<account>` / `USER#<user>`: a user; all users of an account share the partition.
pub fn user(account: &str, user: &str) -> Key {
    Key::new(account_pk(account), format!("{USER_PREFIX}{user}"))
}

/// `EMAIL#<email>` / `EMAIL`: the login lookup and the global uniqueness of an email.
pub fn email(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

pub const TEAM_PREFIX: &str = "TEAM#";
/// `A#<account>` / `TEAM#<team>`: a team.
pub fn team(account: &str, team: &str) -> Key {
    Key::new(account_pk(account), format!("{TEAM_PREFIX}{team}"))
}

/// Prefix of the memberships of one team, in the account partition.
pub fn team_members_prefix(team: &str) -> String {
    format!("MEMBER#{team}#")
}

/// `A#<account>` / `MEMBER#<team>#<user>`: a user's membership of a team.
/// Indexed on gsi1 as `A#<account>#USERTEAMS#<user>` / `<team>` (a user's teams).
pub fn membership(account: &str, team: &str, user: &str) -> Key {
    Key::new(account_pk(account), format!("{}{user}", team_members_prefix(team)))
}

/// gsi1 partition listing a user's teams.
pub fn user_teams_gsi1pk(account: &str, user: &str) -> String {
    format!("A#{account}#USERTEAMS#{user}")
}

pub const TOKEN_PREFIX: &str = "TOKEN#";
/// `A#<account>` / `TOKEN#<token>`: an API token (its secret only as a hash).
pub fn api_token(account: &str, token: &str) -> Key {
    Key::new(account_pk(account), format!("{TOKEN_PREFIX}{token}"))
}

pub const CHANNEL_PREFIX: &str = "CHANNEL#";
/// `A#<account>` / `CHANNEL#<channel>`: a channel (its secrets in `secret_*` attributes).
pub fn channel(account: &str, channel: &str) -> Key {
    Key::new(account_pk(account), format!("{CHANNEL_PREFIX}{channel}"))
}

/// `PHONEID#<phone-number id>` / `PHONEID`: routes the deployment app's webhooks to a
/// channel across accounts (a second exception to account-first keys, like the email).
pub fn phone_number_id(phone_number_id: &str) -> Key {
    Key::new(format!("PHONEID#{phone_number_id}"), "PHONEID")
}

/// `CHANNELID#<channel>` / `CHANNELID`: the account of a channel with its own webhook URL.
pub fn channel_id(channel: &str) -> Key {
    Key::new(format!("CHANNELID#{channel}"), "CHANNELID")
}

/// `WABA#<waba id>` / `WABA`: the account of a WhatsApp Business Account (template events).
pub fn waba(waba: &str) -> Key {
    Key::new(format!("WABA#{waba}"), "WABA")
}

/// `SEALKEY` / `v1`: the deployment's data key for sealing secrets, encrypted under KMS
/// (an exception to account-first keys: it belongs to no account).
pub fn sealing_key() -> Key {
    Key::new("SEALKEY", "v1")
}

/// `RATE#<bucket>` / `B`: one request bucket of the API's limits (in AWS; locally they
/// live in memory). An exception to account-first keys: the bucket's name holds its owner.
pub fn rate_bucket(bucket: &str) -> Key {
    Key::new(format!("RATE#{bucket}"), "B")
}

/// `LOGIN#<kind>#<digest>` / `F`: the recent failed logins of one e-mail or one source
/// address (`kind` `email` or `source`, the value as a SHA-256 digest). Outside the
/// accounts: an attempt is throttled before its account is known (or for e-mails of none).
pub fn login_failures(kind: &str, digest: &str) -> Key {
    Key::new(format!("LOGIN#{kind}#{digest}"), "F")
}

pub const AUDIT_PREFIX: &str = "AUDIT#";
/// `A#<account>` / `AUDIT#<at ms>#<id>`: one entry of the account's audit log, by time.
pub fn audit_entry(account: &str, at_ms: i64, id: &str) -> Key {
    Key::new(account_pk(account), format!("{AUDIT_PREFIX}{at_ms:014}#{id}"))
}

pub const WEBHOOK_ENDPOINT_PREFIX: &str = "WHEP#";
/// `A#<account>` / `WHEP#<endpoint>`: an outbound webhook endpoint (its secrets sealed).
pub fn webhook_endpoint(account: &str, endpoint: &str) -> Key {
    Key::new(account_pk(account), format!("{WEBHOOK_ENDPOINT_PREFIX}{endpoint}"))
}

/// `A#<account>` / `WHSUBS`: the event types some enabled endpoint of the account takes
/// (read, cached, on every domain event: no endpoint, no work).
pub fn webhook_subscriptions(account: &str) -> Key {
    Key::new(account_pk(account), "WHSUBS")
}

/// `A#<account>` / `WHEVT#<event>`: an outbound event, its body fixed at its first
/// publication. Indexed on gsi1 by time ([`webhook_events_gsi1pk`], `<at ms>#<event>`).
pub fn webhook_event(account: &str, event: &str) -> Key {
    Key::new(account_pk(account), format!("WHEVT#{event}"))
}

pub fn webhook_events_gsi1pk(account: &str) -> String {
    format!("A#{account}#WHEVENTS")
}

/// `A#<account>` / `WHDLV#<endpoint>#<event>`: one event's delivery to one endpoint, with
/// its attempts. Indexed on gsi1 by endpoint and time ([`webhook_deliveries_gsi1pk`]).
pub fn webhook_delivery(account: &str, endpoint: &str, event: &str) -> Key {
    Key::new(account_pk(account), format!("WHDLV#{endpoint}#{event}"))
}

pub fn webhook_deliveries_gsi1pk(account: &str, endpoint: &str) -> String {
    format!("A#{account}#WHDLV#{endpoint}")
}

pub const REPORT_PREFIX: &str = "RPT#";
/// `A#<account>` / `RPT#<D|M>#<kind>#<period>#<id>`: the report counters of one local day
/// (`D`, `YYYY-MM-DD`) or month (`M`, `YYYY-MM`) in the account's zone, for one dimension:
/// `kind` `all` (empty id), `team`, `agent` or `channel`. Sorted by kind, then period, so
/// a report reads only the items of its grouping.
pub fn report_counters(account: &str, granularity: char, kind: &str, period: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{REPORT_PREFIX}{granularity}#{kind}#{period}#{id}"))
}

/// `A#<account>` / `RPTMARK#<session>#<cycle ms>#<metric>`: that a session's cycle was
/// counted in a metric (the counters move once per cycle and metric).
pub fn report_mark(account: &str, session: &str, cycle_ms: i64, metric: &str) -> Key {
    Key::new(account_pk(account), format!("RPTMARK#{session}#{cycle_ms}#{metric}"))
}

/// `A#<account>` / `RPTWAIT#<session>`: since when the session's customer waits for a
/// person's reply (the first message nobody answered yet; the reply time runs from here).
pub fn report_wait(account: &str, session: &str) -> Key {
    Key::new(account_pk(account), format!("RPTWAIT#{session}"))
}

pub const EXPORT_PREFIX: &str = "EXPORT#";
/// `A#<account>` / `EXPORT#<id>`: a report export (its period, state and file).
pub fn report_export(account: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{EXPORT_PREFIX}{id}"))
}

/// `A#<account>` / `LIVESEQ`: the account's last live event sequence number.
pub fn live_seq(account: &str) -> Key {
    Key::new(account_pk(account), "LIVESEQ".to_owned())
}

/// `LIVE#<account>` / `<seq, 20 digits>`: one live event (kept 24 h), in order.
pub fn live_event(account: &str, seq: u64) -> Key {
    Key::new(live_pk(account), format!("{seq:020}"))
}

pub fn live_pk(account: &str) -> String {
    format!("{LIVE_PREFIX}{account}")
}

/// What every live event's `pk` starts with (the table stream's filter on AWS).
pub const LIVE_PREFIX: &str = "LIVE#";

/// The account and sequence of a live event's key; `None` for any other key.
pub fn parse_live_event(pk: &str, sk: &str) -> Option<(String, u64)> {
    Some((pk.strip_prefix(LIVE_PREFIX)?.to_owned(), sk.parse().ok()?))
}

/// `CHAT#<account>#<conversation>` / `<message id>`: an internal chat message, in order.
pub fn chat_message(account: &str, conversation: &str, id: &str) -> Key {
    Key::new(chat_pk(account, conversation), id.to_owned())
}

pub fn chat_pk(account: &str, conversation: &str) -> String {
    format!("CHAT#{account}#{conversation}")
}

/// `WSTICKET#<ticket>` / `T`: a one-time ticket to open a WebSocket (a minute; whose it is).
/// An exception to account-first keys: the connecting client knows only the ticket.
pub fn socket_ticket(ticket: &str) -> Key {
    Key::new(format!("WSTICKET#{ticket}"), "T".to_owned())
}

/// `WSCONN#<account>` / `<connection id>`: an open WebSocket of the account (whose, since).
pub fn socket(account: &str, connection: &str) -> Key {
    Key::new(sockets_pk(account), connection.to_owned())
}

pub fn sockets_pk(account: &str) -> String {
    format!("WSCONN#{account}")
}

/// `WSOWNER#<connection id>` / `C`: the account of a connection (API Gateway's disconnect
/// names only the connection).
pub fn socket_owner(connection: &str) -> Key {
    Key::new(format!("WSOWNER#{connection}"), "C".to_owned())
}

/// `A#<account>` / `LIVEID#<event id>`: that an event is in the live stream (its sequence).
pub fn live_mark(account: &str, event_id: &str) -> Key {
    Key::new(account_pk(account), format!("LIVEID#{event_id}"))
}

pub const TAG_PREFIX: &str = "TAG#";
/// `A#<account>` / `TAG#<tag>`: a tag (name and colour).
pub fn tag(account: &str, tag: &str) -> Key {
    Key::new(account_pk(account), format!("{TAG_PREFIX}{tag}"))
}

/// `A#<account>` / `TAGNAME#<lowercased name>`: the tag with this name (unique per account).
pub fn tag_name(account: &str, lowercased: &str) -> Key {
    Key::new(account_pk(account), format!("TAGNAME#{lowercased}"))
}

/// `A#<account>` / `<kind>#<tag>#`: the prefix of the things of one kind carrying a tag
/// (`kind` is `CTAG` for contacts, `STAG` for sessions; see `crm::tags::Tagged`).
pub fn tagged_prefix(kind: &str, tag: &str) -> String {
    format!("{kind}#{tag}#")
}

/// `A#<account>` / `<kind>#<tag>#<id>`: `id` carries the tag (written in the thing's own
/// transaction; what filters and tag deletion read).
pub fn tagged(account: &str, kind: &str, tag: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{}{id}", tagged_prefix(kind, tag)))
}

pub const FIELD_PREFIX: &str = "FIELD#";
/// `A#<account>` / `FIELD#<key>`: a custom field's definition.
pub fn custom_field(account: &str, key: &str) -> Key {
    Key::new(account_pk(account), format!("{FIELD_PREFIX}{key}"))
}

/// `A#<account>` / `CIDX#<facet>#<value>`: the prefix of a contact search index (see
/// `conversations::contact_index`); `value` may be a prefix of the indexed value.
pub fn contact_index_prefix(facet: &str, value: &str) -> String {
    format!("CIDX#{facet}#{value}")
}

/// `A#<account>` / `CIDX#<facet>#<value>#<contact>`: the contact has `value` under `facet`
/// (written in the contact's own transaction).
pub fn contact_index(account: &str, facet: &str, value: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("{}#{contact}", contact_index_prefix(facet, value)))
}

/// Blob store: `uploads/<account>/` holds the files an account's users uploaded.
pub fn upload_prefix(account: &str) -> String {
    format!("uploads/{account}/")
}

/// Whether a blob key names one of the account's uploads.
pub fn is_upload_of(account: &str, blob_key: &str) -> bool {
    blob_key.starts_with(&upload_prefix(account))
}

pub const QUICK_REPLY_PREFIX: &str = "QREPLY#";
/// `A#<account>` / `QREPLY#<id>`: a quick reply.
pub fn quick_reply(account: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{QUICK_REPLY_PREFIX}{id}"))
}

pub const PANEL_PREFIX: &str = "PANEL#";
/// `A#<account>` / `PANEL#<id>`: a kanban panel and its columns.
pub fn panel(account: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{PANEL_PREFIX}{id}"))
}

pub fn panel_cards_prefix(panel: &str) -> String {
    format!("PCARD#{panel}#")
}

/// `A#<account>` / `PCARD#<panel>#<card>`: a card of a panel (its column and rank inside).
pub fn panel_card(account: &str, panel: &str, card: &str) -> Key {
    Key::new(account_pk(account), format!("{}{card}", panel_cards_prefix(panel)))
}

pub const REASON_PREFIX: &str = "REASON#";
/// `A#<account>` / `REASON#<id>`: a classification reason.
pub fn reason(account: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{REASON_PREFIX}{id}"))
}

/// `A#<account>` / `CSATCFG#<team|channel>#<id>`: CSAT settings of a team or a channel.
pub fn csat_settings(account: &str, scope: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("CSATCFG#{scope}#{id}"))
}

/// `A#<account>` / `CSAT#<session>`: the session's survey (written once).
pub fn csat_survey(account: &str, session: &str) -> Key {
    Key::new(account_pk(account), format!("CSAT#{session}"))
}

/// `A#<account>` / `CSATPEND#<channel>#<contact>`: the survey awaiting the contact's
/// answer on the channel (expires).
pub fn csat_pending(account: &str, channel: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("CSATPEND#{channel}#{contact}"))
}

pub fn csat_answer_sk(answered_ms: i64, session: &str) -> String {
    format!("CSATANS#{answered_ms:014}#{session}")
}

/// `A#<account>` / `CSATANS#<answered ms>#<session>`: an answer, by time (reports).
pub fn csat_answer(account: &str, answered_ms: i64, session: &str) -> Key {
    Key::new(account_pk(account), csat_answer_sk(answered_ms, session))
}

pub const CONTACT_PREFIX: &str = "CONTACT#";
/// `A#<account>` / `CONTACT#<contact>`: a contact.
pub fn contact(account: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("{CONTACT_PREFIX}{contact}"))
}

pub const CONTACT_IMPORT_PREFIX: &str = "IMPORT#";
/// `A#<account>` / `IMPORT#<import>`: a contact import and its progress.
pub fn contact_import(account: &str, import: &str) -> Key {
    Key::new(account_pk(account), format!("{CONTACT_IMPORT_PREFIX}{import}"))
}

pub fn import_errors_prefix(import: &str) -> String {
    format!("IMPERR#{import}#")
}

/// `A#<account>` / `IMPERR#<import>#<line>`: why a line of an import failed.
pub fn import_error(account: &str, import: &str, line: u32) -> Key {
    Key::new(account_pk(account), format!("{}{line:07}", import_errors_prefix(import)))
}

/// `A#<account>` / `IMPROW#<import>#<entry>`: an import wrote this entry, and with what
/// outcome (written in the contact's transaction; expires).
pub fn import_marker(account: &str, import: &str, entry: u32) -> Key {
    Key::new(account_pk(account), format!("IMPROW#{import}#{entry:07}"))
}

/// `A#<account>` / `BLOCKEDNUM#<hash>`: a number erased or blocked for good (a hash of
/// the number, not the number), which never becomes a contact again by itself.
pub fn blocked_number(account: &str, hash: &str) -> Key {
    Key::new(account_pk(account), format!("BLOCKEDNUM#{hash}"))
}

/// `A#<account>` / `CWA#<wa id>`: the contact with this WhatsApp id (unique).
pub fn contact_by_wa_id(account: &str, wa_id: &str) -> Key {
    Key::new(account_pk(account), format!("CWA#{wa_id}"))
}

/// `A#<account>` / `CBSUID#<user id>`: the contact with this business-scoped user id.
pub fn contact_by_bsuid(account: &str, bsuid: &str) -> Key {
    Key::new(account_pk(account), format!("CBSUID#{bsuid}"))
}

/// `A#<account>` / `CEXT#<kind>#<id>`: the contact a person of a channel kind without
/// phone numbers is (Messenger, Instagram, Telegram).
pub fn contact_by_identity(account: &str, kind: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("CEXT#{kind}#{id}"))
}

/// `A#<account>` / `SESSION#<session>`: a session. Indexed on gsi1 by status
/// (`A#<account>#SESSIONS#<status>` / `<last activity>#<session>`) and, when owned, on gsi2
/// by owner (`A#<account>#OWNER#<user>` / `<status>#<last activity>#<session>`).
pub fn session(account: &str, session: &str) -> Key {
    Key::new(account_pk(account), format!("SESSION#{session}"))
}

pub fn sessions_by_status_gsi1pk(account: &str, status: &str) -> String {
    format!("A#{account}#SESSIONS#{status}")
}

pub fn sessions_by_owner_gsi2pk(account: &str, owner: &str) -> String {
    format!("A#{account}#OWNER#{owner}")
}

pub fn contact_sessions_prefix(contact: &str) -> String {
    format!("CSESS#{contact}#")
}

/// `A#<account>` / `CSESS#<contact>#<session>`: one of the contact's sessions (written with
/// the session; what privacy export and erasure walk).
pub fn contact_session(account: &str, contact: &str, session: &str) -> Key {
    Key::new(account_pk(account), format!("{}{session}", contact_sessions_prefix(contact)))
}

/// `A#<account>` / `ERASURE#<contact>`: a contact's erasure and its audit trail.
pub fn erasure(account: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("ERASURE#{contact}"))
}

/// `A#<account>` / `OPEN#<channel>#<contact>`: the open session of a contact on a channel
/// (at most one: created with a not-exists condition).
pub fn open_session(account: &str, channel: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("OPEN#{channel}#{contact}"))
}

/// `A#<account>` / `LAST#<channel>#<contact>`: the last completed session (12 h reopen).
pub fn last_session(account: &str, channel: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("LAST#{channel}#{contact}"))
}

/// `A#<account>` / `PROTO#<yyyymmdd>`: the day's protocol number counter.
pub fn protocol_counter(account: &str, day: &str) -> Key {
    Key::new(account_pk(account), format!("PROTO#{day}"))
}

/// `A#<account>` / `MSG#<message>`: a message. Indexed on gsi1 by session
/// (`A#<account>#SMSG#<session>` / `<message>`, ULIDs sort by time) and, while
/// `waiting_reply`, on gsi2 (`A#<account>#WAIT#<session>` / `<message>`).
pub fn message(account: &str, message: &str) -> Key {
    Key::new(account_pk(account), format!("MSG#{message}"))
}

pub fn session_messages_gsi1pk(account: &str, session: &str) -> String {
    format!("A#{account}#SMSG#{session}")
}

pub fn waiting_messages_gsi2pk(account: &str, session: &str) -> String {
    format!("A#{account}#WAIT#{session}")
}

/// `A#<account>` / `WAMID#<provider id>`: the message with this provider id; written with a
/// not-exists condition, it is also the idempotency marker of an inbound message.
pub fn provider_message(account: &str, provider_id: &str) -> Key {
    Key::new(account_pk(account), format!("WAMID#{provider_id}"))
}

/// `A#<account>` / `PSTATUS#<provider id>#<status>`: a status that arrived before its
/// message was known (kept 24 h).
pub fn pending_status(account: &str, provider_id: &str, status: &str) -> Key {
    Key::new(account_pk(account), format!("PSTATUS#{provider_id}#{status}"))
}

pub fn pending_status_prefix(provider_id: &str) -> String {
    format!("PSTATUS#{provider_id}#")
}

/// `A#<account>` / `RATE#<channel>`: the channel's send pacing (next free slot).
pub fn send_rate(account: &str, channel: &str) -> Key {
    Key::new(account_pk(account), format!("RATE#{channel}"))
}

pub const TEMPLATE_PREFIX: &str = "TEMPLATE#";
/// `A#<account>` / `TEMPLATE#<template>`: a message template.
pub fn template(account: &str, template: &str) -> Key {
    Key::new(account_pk(account), format!("{TEMPLATE_PREFIX}{template}"))
}

/// `A#<account>` / `TPLNAME#<channel>#<name>#<language>`: a template by its Meta identity.
pub fn template_by_name(account: &str, channel: &str, name: &str, language: &str) -> Key {
    Key::new(account_pk(account), format!("TPLNAME#{channel}#{name}#{language}"))
}

/// `A#<account>` / `NOTE#<session>#<note>`: an internal note.
pub fn note(account: &str, session: &str, note: &str) -> Key {
    Key::new(account_pk(account), format!("NOTE#{session}#{note}"))
}

pub fn notes_prefix(session: &str) -> String {
    format!("NOTE#{session}#")
}

/// Timer shards: due timers are spread over this many partitions.
pub const TIMER_SHARDS: u32 = 4;

/// `TIMER#<shard>` / `<due ms>#<timer>`: a timer (global: the scheduler scans every
/// account's timers; the job it carries names the account).
pub fn timer(shard: u32, due_ms: i64, id: &str) -> Key {
    Key::new(timer_pk(shard), format!("{due_ms:014}#{id}"))
}

pub fn timer_pk(shard: u32) -> String {
    format!("TIMER#{shard}")
}

/// `A#<account>` / `WALLET#<wallet>`: a wallet (*carteira*).
pub fn wallet(account: &str, wallet: &str) -> Key {
    Key::new(account_pk(account), format!("WALLET#{wallet}"))
}

pub const WALLET_PREFIX: &str = "WALLET#";

/// `A#<account>` / `HOURS#<scope>`: business hours of the account (`account`) or a channel.
pub fn business_hours(account: &str, scope: &str) -> Key {
    Key::new(account_pk(account), format!("HOURS#{scope}"))
}

/// `A#<account>` / `KEEPALIVE#<channel>`: a channel's keep-alive configuration.
pub fn keep_alive(account: &str, channel: &str) -> Key {
    Key::new(account_pk(account), format!("KEEPALIVE#{channel}"))
}

/// `A#<account>` / `KAFIRED#<session>#<last inbound ms>#<stage>`: a keep-alive message
/// went out for that silence (so a re-armed timer never sends it twice). Expires.
pub fn keep_alive_fired(account: &str, session: &str, last_inbound_ms: i64, closing: bool) -> Key {
    let stage = if closing { "closing" } else { "idle" };
    Key::new(account_pk(account), format!("KAFIRED#{session}#{last_inbound_ms}#{stage}"))
}

pub const SCHEDULED_PREFIX: &str = "SCHED#";
/// `A#<account>` / `SCHED#<id>`: a scheduled message.
pub fn scheduled_message(account: &str, id: &str) -> Key {
    Key::new(account_pk(account), format!("{SCHEDULED_PREFIX}{id}"))
}

pub const CAMPAIGN_PREFIX: &str = "CAMPAIGN#";
/// `A#<account>` / `CAMPAIGN#<campaign>`: a campaign (what people edit and see).
pub fn campaign(account: &str, campaign: &str) -> Key {
    Key::new(account_pk(account), format!("{CAMPAIGN_PREFIX}{campaign}"))
}

/// `A#<account>` / `CAMPRUN#<campaign>`: a campaign's fan-out progress (the chain of hops,
/// its cursors): written only by the `campaigns` function, so edits never race it.
pub fn campaign_fanout(account: &str, campaign: &str) -> Key {
    Key::new(account_pk(account), format!("CAMPRUN#{campaign}"))
}

/// Partitions a campaign's recipients are spread over (writes at 1,000/s stay far below a
/// partition's limit).
pub const CAMPAIGN_SHARDS: u32 = 16;

/// `A#<account>#CAMP#<campaign>#<shard>`: one shard of a campaign's recipients.
pub fn campaign_shard_pk(account: &str, campaign: &str, shard: u32) -> String {
    format!("A#{account}#CAMP#{campaign}#{shard:02}")
}

pub const RECIPIENT_PREFIX: &str = "R#";
/// `A#<account>#CAMP#<campaign>#<shard>` / `R#<recipient>`: a recipient, named by its
/// WhatsApp number (`R#<wa id>`, so one number is one recipient) or, when skipped before
/// it had one, by its contact (`R#c:<contact>`).
pub fn campaign_recipient(account: &str, campaign: &str, shard: u32, recipient: &str) -> Key {
    Key::new(campaign_shard_pk(account, campaign, shard), format!("{RECIPIENT_PREFIX}{recipient}"))
}

/// `A#<account>#CAMP#<campaign>#<shard>` / `STAT`: the shard's funnel counters, written in
/// the same transaction as each recipient's change.
pub fn campaign_stats(account: &str, campaign: &str, shard: u32) -> Key {
    Key::new(campaign_shard_pk(account, campaign, shard), "STAT")
}

/// `A#<account>#CAMPSESS#<campaign>`: the sessions a campaign's replies opened.
pub fn campaign_sessions_pk(account: &str, campaign: &str) -> String {
    format!("A#{account}#CAMPSESS#{campaign}")
}

pub fn campaign_session(account: &str, campaign: &str, session: &str) -> Key {
    Key::new(campaign_sessions_pk(account, campaign), session.to_owned())
}

/// `A#<account>` / `MKT#<contact>#`: the prefix of a contact's marketing state (the last
/// campaign message it got, the sequences it is in): one query per customer message.
pub fn marketing_prefix(contact: &str) -> String {
    format!("MKT#{contact}#")
}

/// `A#<account>` / `MKT#<contact>#CAMP`: the last campaign message the contact got.
pub fn campaign_touch(account: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("{}CAMP", marketing_prefix(contact)))
}

/// `A#<account>` / `MKT#<contact>#SEQ#<sequence>`: the contact is (or was) in a sequence.
pub fn sequence_membership(account: &str, contact: &str, sequence: &str) -> Key {
    Key::new(account_pk(account), format!("{}SEQ#{sequence}", marketing_prefix(contact)))
}

/// `A#<account>` / `CAMPSETTINGS`: failure threshold and prices per template category.
pub fn campaign_settings(account: &str) -> Key {
    Key::new(account_pk(account), "CAMPSETTINGS")
}

pub const SEQUENCE_PREFIX: &str = "SEQUENCE#";
/// `A#<account>` / `SEQUENCE#<sequence>`: a sequence and its steps.
pub fn sequence(account: &str, sequence: &str) -> Key {
    Key::new(account_pk(account), format!("{SEQUENCE_PREFIX}{sequence}"))
}

/// `A#<account>#SEQ#<sequence>`: a sequence's enrolments and step messages.
pub fn sequence_pk(account: &str, sequence: &str) -> String {
    format!("A#{account}#SEQ#{sequence}")
}

pub const ENROLMENT_PREFIX: &str = "E#";
/// `A#<account>#SEQ#<sequence>` / `E#<contact>`: the contact's enrolment (one at a time).
pub fn enrolment(account: &str, sequence: &str, contact: &str) -> Key {
    Key::new(sequence_pk(account, sequence), format!("{ENROLMENT_PREFIX}{contact}"))
}

/// `A#<account>#SEQ#<sequence>` / `M#<contact>#<epoch>#<step>`: a step's message (written
/// with a not-exists condition: a step fires once per enrolment).
pub fn sequence_message(account: &str, sequence: &str, item: &str) -> Key {
    Key::new(sequence_pk(account, sequence), format!("M#{item}"))
}

/// Sort-key prefix of an account's flows.
pub const FLOW_PREFIX: &str = "FLOW#";

/// `A#<account>` / `FLOW#<flow>`: a flow (its draft, name, published version).
pub fn flow(account: &str, flow: &str) -> Key {
    Key::new(account_pk(account), format!("{FLOW_PREFIX}{flow}"))
}

/// `A#<account>#FLOW#<flow>` / `V#<version>`: a published version, never changed.
pub fn flow_version(account: &str, flow: &str, version: u32) -> Key {
    Key::new(format!("A#{account}#FLOW#{flow}"), format!("V#{version:06}"))
}

/// `A#<account>` / `FLOWTRIG#<channel>`: a channel's inbound flows and keyword triggers.
pub fn flow_triggers(account: &str, channel: &str) -> Key {
    Key::new(account_pk(account), format!("FLOWTRIG#{channel}"))
}

/// `A#<account>` / `FLOWCODE#<code>`: the flow a test code (`#code`) runs as a draft.
pub fn flow_test_code(account: &str, code: &str) -> Key {
    Key::new(account_pk(account), format!("FLOWCODE#{code}"))
}

/// `A#<account>#RUNS#<session>`: a session's flow runs.
pub fn flow_runs_pk(account: &str, session: &str) -> String {
    format!("A#{account}#RUNS#{session}")
}

/// `A#<account>#RUNS#<session>` / `RUN#<run>`: one flow run and its state.
pub fn flow_run(account: &str, session: &str, run: &str) -> Key {
    Key::new(flow_runs_pk(account, session), format!("RUN#{run}"))
}

/// `A#<account>` / `FLOWWAIT#<channel>#<contact>`: a completion flow waiting for the
/// contact's answer on a completed session (the answer never opens a new one).
pub fn flow_waiting(account: &str, channel: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("FLOWWAIT#{channel}#{contact}"))
}

/// `A#<account>` / `PAYSETTINGS`: the account's payment app (its Asaas key and webhook
/// token sealed beside it).
pub fn payment_settings(account: &str) -> Key {
    Key::new(account_pk(account), "PAYSETTINGS")
}

/// `A#<account>#PAY`: an account's payments (sort keys are their time-ordered ids).
pub fn payments_pk(account: &str) -> String {
    format!("A#{account}#PAY")
}

pub const PAYMENT_PREFIX: &str = "P#";
/// `A#<account>#PAY` / `P#<payment>`: a payment and its history. Indexed by session on
/// gsi1 (`A#<account>#SPAY#<session>` / `<payment>`) and by contact on gsi2
/// (`A#<account>#CPAY#<contact>` / `<payment>`).
pub fn payment(account: &str, payment: &str) -> Key {
    Key::new(payments_pk(account), format!("{PAYMENT_PREFIX}{payment}"))
}

/// `A#<account>#PAY` / `E#<event>`: a provider event already applied (written in the
/// same transaction as its change, so a redelivery finds it).
pub fn session_payments_gsi1pk(account: &str, session: &str) -> String {
    format!("A#{account}#SPAY#{session}")
}

pub fn contact_payments_gsi2pk(account: &str, contact: &str) -> String {
    format!("A#{account}#CPAY#{contact}")
}

pub fn payment_event(account: &str, event: &str) -> Key {
    Key::new(payments_pk(account), format!("E#{event}"))
}

/// `A#<account>` / `PAYER#<contact>`: who pays for a contact (name, CPF/CNPJ), remembered
/// for the next request, with the provider's customer per environment.
pub fn payer(account: &str, contact: &str) -> Key {
    Key::new(account_pk(account), format!("PAYER#{contact}"))
}
