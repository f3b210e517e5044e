//! CSAT (*avaliação*, PRODUCT.md §15): per team (a channel's setting overrides its
//! teams'), a 1–5 or 0–10 scale and a question. After a session is completed the contact
//! gets the question once: as text inside the 24 h window, as the configured approved
//! template outside it. The answer (a typed number, or a button or list reply whose id
//! ends in the number) is stored with the scale, linked to the session, its agent and its
//! team, and never opens a session; an invalid answer gets one polite retry, and a second
//! one is let through as an ordinary message.
//!
//! Once: the survey record `CSAT#<session>` is written with a not-exists condition before
//! anything is sent, so a completion published twice (a retry, a redelivery) sends one
//! survey. The price is at most once: a crash between the record and the send leaves that
//! session without a survey (never two).
//!
//! Access patterns: settings by scope (get `CSATCFG#<team|channel>#<id>`); a session's
//! survey (get `CSAT#<session>`); the survey awaiting a contact's answer on a channel (get
//! `CSATPEND#<channel>#<contact>`, expiring); answers of a period (query prefix
//! `CSATANS#`, range on the answer time).

use crate::accounts::{Caller, Profile, teams};
use crate::conversations::model::{ContactStatus, SessionStatus};
use crate::conversations::{channels, contacts, messages, sessions};
use crate::deps::{Deps, Interceptor, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::{CustomerMessage, DomainEvent};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError};
use crate::record::{from_item, query_all, to_item};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// How long a survey waits for its answer.
pub const ANSWER_WINDOW: Duration = Duration::days(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    #[serde(rename = "1-5")]
    OneToFive,
    #[serde(rename = "0-10")]
    ZeroToTen,
}

impl Scale {
    fn range(self) -> (u8, u8) {
        match self {
            Scale::OneToFive => (1, 5),
            Scale::ZeroToTen => (0, 10),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CsatSettings {
    pub enabled: bool,
    pub scale: Scale,
    /// The question sent inside the 24 h window, e.g. "Como você avalia o atendimento?".
    pub question: String,
    /// An approved template sent instead outside the window (without one, no survey goes
    /// out there).
    pub template_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStatus {
    Sent,
    Answered,
    /// Two invalid answers, or no answer in time.
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Survey {
    pub session_id: String,
    pub account_id: String,
    pub channel_id: String,
    pub contact_id: String,
    pub team_id: String,
    pub agent_id: Option<String>,
    pub scale: Scale,
    pub status: SurveyStatus,
    /// `text` inside the window, `template` outside.
    pub sent_as: String,
    pub sent_at: DateTime<Utc>,
    pub score: Option<u8>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The provider id of the message that answered (a redelivery of it is recognised).
    pub answer_provider_id: Option<String>,
    pub retries: u32,
    pub version: u64,
}

/// What CSAT settings belong to: a channel's override its teams'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Team,
    Channel,
}

fn scope_key(account: &str, scope: Scope, id: &str) -> crate::ports::Key {
    let name = match scope {
        Scope::Team => "team",
        Scope::Channel => "channel",
    };
    keys::csat_settings(account, name, id)
}

fn check_settings(s: &CsatSettings) -> ServiceResult<()> {
    let q = s.question.trim();
    if q.is_empty() || q.chars().count() > 1024 {
        return Err(ServiceError::invalid("question: 1 to 1024 characters"));
    }
    Ok(())
}

async fn settings_of(
    deps: &Deps,
    account: &str,
    scope: Scope,
    id: &str,
) -> ServiceResult<Option<CsatSettings>> {
    match deps.table.get(&scope_key(account, scope, id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// A team's or a channel's settings; disabled when none.
pub async fn get_settings(
    deps: &Deps,
    caller: &Caller,
    scope: Scope,
    id: &str,
) -> ServiceResult<CsatSettings> {
    exists(deps, caller, scope, id).await?;
    Ok(settings_of(deps, &caller.account_id, scope, id).await?.unwrap_or(CsatSettings {
        enabled: false,
        scale: Scale::OneToFive,
        question: "Como você avalia o nosso atendimento?".into(),
        template_id: None,
    }))
}

async fn exists(deps: &Deps, caller: &Caller, scope: Scope, id: &str) -> ServiceResult<()> {
    match scope {
        Scope::Team => teams::get(deps, caller, id).await.map(|_| ()),
        Scope::Channel => channels::get(deps, caller, id).await.map(|_| ()),
    }
}

pub async fn put_settings(
    deps: &Deps,
    caller: &Caller,
    scope: Scope,
    id: &str,
    input: CsatSettings,
) -> ServiceResult<CsatSettings> {
    caller.require_admin()?;
    exists(deps, caller, scope, id).await?;
    check_settings(&input)?;
    if let Some(t) = &input.template_id {
        crate::conversations::templates::get(deps, caller, t).await?;
    }
    deps.table.put(to_item(&scope_key(&caller.account_id, scope, id), &input)?, None).await?;
    Ok(input)
}

/// Sends the survey when a session is completed (see the module's notes).
pub struct SurveyOnCompletion;

#[async_trait]
impl Reaction for SurveyOnCompletion {
    fn name(&self) -> &'static str {
        "csat.survey"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::SessionCompleted { account_id, session_id, .. } = event else { return Ok(()) };
        send_survey(deps, account_id, session_id).await
    }
}

async fn send_survey(deps: &Deps, account: &str, session_id: &str) -> ServiceResult<()> {
    let s = sessions::load(deps, account, session_id).await?;
    if s.status != SessionStatus::Completed {
        return Ok(());
    }
    let settings = match settings_of(deps, account, Scope::Channel, &s.channel_id).await? {
        Some(c) => Some(c),
        None => settings_of(deps, account, Scope::Team, &s.team_id).await?,
    };
    let Some(settings) = settings.filter(|c| c.enabled) else { return Ok(()) };
    let contact = contacts::load(deps, account, &s.contact_id).await?;
    if contact.status != ContactStatus::Active
        || deps.table.get(&keys::erasure(account, &contact.id)).await?.is_some()
    {
        return Ok(());
    }
    let now = deps.clock.now();
    let inside = sessions::window(deps, &s).await?.is_open();
    if !inside && settings.template_id.is_none() {
        return Ok(());
    }
    let survey = Survey {
        session_id: s.id.clone(),
        account_id: account.to_owned(),
        channel_id: s.channel_id.clone(),
        contact_id: s.contact_id.clone(),
        team_id: s.team_id.clone(),
        agent_id: s.completed_by.clone(),
        scale: settings.scale,
        status: SurveyStatus::Sent,
        sent_as: if inside { "text" } else { "template" }.into(),
        sent_at: now,
        score: None,
        answered_at: None,
        answer_provider_id: None,
        retries: 0,
        version: 1,
    };
    match deps
        .table
        .put(to_item(&keys::csat_survey(account, &s.id), &survey)?, Some(Condition::NotExists))
        .await
    {
        Ok(()) => {}
        // Sent once already.
        Err(TableError::ConditionFailed) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let pending = keys::csat_pending(account, &s.channel_id, &s.contact_id);
    deps.table
        .put(
            Item::from([
                ("pk".to_owned(), attr::s(pending.pk)),
                ("sk".to_owned(), attr::s(pending.sk)),
                ("session_id".to_owned(), attr::s(&s.id)),
                (crate::ports::table::TTL.to_owned(), attr::n((now + ANSWER_WINDOW).timestamp())),
            ]),
            None,
        )
        .await?;
    let (low, high) = settings.scale.range();
    if inside {
        let text = format!("{}\nResponda com um número de {low} a {high}.", settings.question.trim());
        messages::send_system(deps, &s, &text).await?;
    } else if let (Some(template), Some(agent)) = (&settings.template_id, &s.completed_by) {
        let author = Caller {
            account_id: account.to_owned(),
            user_id: agent.clone(),
            profile: Profile::Admin,
            source: None,
        };
        messages::send_template_as(deps, &author, &s, template, serde_json::json!([])).await?;
    }
    Ok(())
}

/// The score in an answer: a button or list reply id ending in `:<n>` or `_<n>`, or a
/// text that is just the number (`5`, ` 5 `, `5!`, `nota 5`).
pub fn parse_score(text: Option<&str>, content: &serde_json::Value, scale: Scale) -> Option<u8> {
    let (low, high) = scale.range();
    let candidate = match crate::events::reply_id(content).as_deref() {
        Some(id) => id.rsplit([':', '_']).next().unwrap_or(id).to_owned(),
        None => {
            let t = text?.trim().trim_end_matches(['!', '.']).to_lowercase();
            t.strip_prefix("nota").map(str::trim).unwrap_or(&t).to_owned()
        }
    };
    candidate.parse::<u8>().ok().filter(|n| (low..=high).contains(n))
}

/// Takes the answer of a pending survey (see the module's notes).
pub struct SurveyAnswers;

#[async_trait]
impl Interceptor for SurveyAnswers {
    fn name(&self) -> &'static str {
        "csat.answers"
    }

    async fn take(&self, deps: &Deps, m: &CustomerMessage) -> ServiceResult<bool> {
        let key = keys::csat_pending(&m.account_id, &m.channel_id, &m.contact_id);
        let Some(pending) = deps.table.get(&key).await? else { return Ok(false) };
        let Some(session) = attr::get_s(&pending, "session_id").map(str::to_owned) else { return Ok(false) };
        for _ in 0..3 {
            let mut survey: Survey = match deps.table.get(&keys::csat_survey(&m.account_id, &session)).await?
            {
                Some(item) => from_item(item)?,
                None => return Ok(false),
            };
            if survey.answer_provider_id.as_deref() == Some(m.provider_id.as_str()) {
                // A redelivery of the message that answered (or was retried).
                return Ok(true);
            }
            if survey.status != SurveyStatus::Sent {
                return Ok(false);
            }
            let now = deps.clock.now();
            let read = survey.version;
            survey.version += 1;
            survey.answer_provider_id = Some(m.provider_id.clone());
            let taken = match parse_score(m.text.as_deref(), &m.content, survey.scale) {
                Some(score) => {
                    survey.status = SurveyStatus::Answered;
                    survey.score = Some(score);
                    survey.answered_at = Some(now);
                    true
                }
                None if survey.retries == 0 => {
                    survey.retries = 1;
                    true
                }
                None => {
                    survey.status = SurveyStatus::Abandoned;
                    false
                }
            };
            let mut writes = vec![crate::ports::TransactItem::Put {
                item: to_item(&keys::csat_survey(&m.account_id, &session), &survey)?,
                condition: Some(Condition::version_is(read)),
            }];
            let mut staged = None;
            if let (SurveyStatus::Answered, Some(score)) = (survey.status, survey.score) {
                let index = keys::csat_answer(&m.account_id, now.timestamp_millis(), &session);
                writes.push(crate::ports::TransactItem::Put {
                    item: to_item(&index, &survey)?,
                    condition: None,
                });
                let answered = DomainEvent::CsatAnswered {
                    account_id: survey.account_id.clone(),
                    session_id: survey.session_id.clone(),
                    channel_id: survey.channel_id.clone(),
                    team_id: survey.team_id.clone(),
                    agent_id: survey.agent_id.clone(),
                    score,
                    scale_max: survey.scale.range().1,
                    at: now,
                };
                let (write, events) = crate::outbox::stage(deps, vec![answered])?;
                writes.push(write);
                staged = Some(events);
            }
            match deps.table.transact(writes).await {
                Ok(()) => {
                    if let Some(events) = staged {
                        crate::outbox::release(deps, events).await;
                    }
                }
                Err(TableError::TransactionConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            if survey.status == SurveyStatus::Abandoned {
                return Ok(false);
            }
            // The customer wrote: Meta's window is open again for the reply below.
            let mut s = sessions::load(deps, &m.account_id, &session).await?;
            s.last_inbound_at = Some(now);
            s.last_inbound_provider_id = Some(m.provider_id.clone());
            if let Err(e) = sessions::save(deps, &mut s, vec![]).await {
                tracing::warn!(error = %e, "could not note the survey answer on its session");
            }
            if survey.status == SurveyStatus::Sent {
                let (low, high) = survey.scale.range();
                let text =
                    format!("Desculpe, não entendi. Por favor, responda só com um número de {low} a {high}.");
                messages::send_system(deps, &s, &text).await?;
            } else {
                messages::send_system(deps, &s, "Obrigado pela sua avaliação!").await?;
            }
            return Ok(taken);
        }
        Err(ServiceError::conflict("the survey kept changing"))
    }
}

/// A session's survey, if one was sent (whoever may read the session).
pub async fn of_session(deps: &Deps, caller: &Caller, session: &str) -> ServiceResult<Survey> {
    let access = sessions::Access::of(deps, caller).await?;
    sessions::readable(deps, &access, session).await?;
    match deps.table.get(&keys::csat_survey(&caller.account_id, session)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("survey")),
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Answers from this time on (default: 30 days ago).
    pub from: Option<DateTime<Utc>>,
    /// Answers before this time (default: now).
    pub to: Option<DateTime<Utc>>,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Tally {
    pub answers: u32,
    pub average: f64,
    /// Answers per score.
    pub distribution: BTreeMap<u8, u32>,
}

impl Tally {
    fn add(&mut self, score: u8) {
        self.average = (self.average * self.answers as f64 + score as f64) / (self.answers + 1) as f64;
        self.answers += 1;
        *self.distribution.entry(score).or_default() += 1;
    }
}

/// Results on one scale (scores of different scales are never mixed).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ScaleResults {
    pub overall: Tally,
    pub by_agent: BTreeMap<String, Tally>,
    pub by_team: BTreeMap<String, Tally>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatResults {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// By scale (`1-5`, `0-10`).
    pub scales: BTreeMap<String, ScaleResults>,
}

/// Answers of a period, per agent and team (admins; a team's supervisors for that team).
pub async fn results(deps: &Deps, caller: &Caller, q: ResultsQuery) -> ServiceResult<CsatResults> {
    if !caller.is_admin() {
        let mine = teams::teams_of(deps, &caller.account_id, &caller.user_id).await?;
        let supervises =
            q.team_id.as_ref().is_some_and(|t| mine.iter().any(|m| &m.team_id == t && m.supervisor));
        if !supervises {
            return Err(ServiceError::forbidden(
                "admins see every result; supervisors name a team they supervise",
            ));
        }
    }
    let to = q.to.unwrap_or_else(|| deps.clock.now());
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ServiceError::invalid("from must be before to"));
    }
    let query =
        Query::partition(Index::Primary, keys::account_pk(&caller.account_id)).sort(SortCondition::Between(
            keys::csat_answer_sk(from.timestamp_millis(), ""),
            keys::csat_answer_sk(to.timestamp_millis(), ""),
        ));
    let answers: Vec<Survey> = query_all(deps, query).await?;
    let mut scales: BTreeMap<String, ScaleResults> = BTreeMap::new();
    for a in answers {
        let Some(score) = a.score else { continue };
        if q.team_id.as_ref().is_some_and(|t| t != &a.team_id)
            || q.agent_id.is_some() && q.agent_id != a.agent_id
        {
            continue;
        }
        let scale = serde_json::to_value(a.scale)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let r = scales.entry(scale).or_default();
        r.overall.add(score);
        r.by_team.entry(a.team_id.clone()).or_default().add(score);
        if let Some(agent) = &a.agent_id {
            r.by_agent.entry(agent.clone()).or_default().add(score);
        }
    }
    Ok(CsatResults { from, to, scales })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scores_come_from_typed_numbers_and_reply_ids_within_the_scale() {
        let none = json!({});
        assert_eq!(parse_score(Some(" 5! "), &none, Scale::OneToFive), Some(5));
        assert_eq!(parse_score(Some("Nota 4"), &none, Scale::OneToFive), Some(4));
        assert_eq!(parse_score(Some("0"), &none, Scale::OneToFive), None);
        assert_eq!(parse_score(Some("0"), &none, Scale::ZeroToTen), Some(0));
        assert_eq!(parse_score(Some("10"), &none, Scale::ZeroToTen), Some(10));
        assert_eq!(parse_score(Some("ótimo"), &none, Scale::OneToFive), None);
        let list =
            json!({"interactive": {"type": "list_reply", "list_reply": {"id": "csat:3", "title": "3"}}});
        assert_eq!(parse_score(None, &list, Scale::OneToFive), Some(3));
        let button = json!({"button": {"payload": "nota_2", "text": "2"}});
        assert_eq!(parse_score(Some("2"), &button, Scale::OneToFive), Some(2));
    }
}
