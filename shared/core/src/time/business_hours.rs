//! Business hours (*horário de atendimento*): per account, optionally per channel; an IANA
//! timezone, periods per weekday (a lunch break is two periods), closed dates, and an
//! out-of-hours auto-reply sent at most once per session per closed period. With no hours
//! configured, the company is always open.

use crate::accounts::Caller;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::Condition;
use crate::record::{from_item, to_item};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Period {
    /// `HH:MM`, local time.
    pub start: String,
    /// `HH:MM`, local time, after `start`.
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct AutoReply {
    pub enabled: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessHours {
    /// IANA, e.g. `America/Sao_Paulo`.
    pub timezone: String,
    /// `mon` … `sun` → periods. A day absent or empty is closed.
    pub days: BTreeMap<String, Vec<Period>>,
    /// Holidays: closed all day (`YYYY-MM-DD`, local).
    #[serde(default)]
    pub closed_dates: Vec<NaiveDate>,
    #[serde(default)]
    pub auto_reply: AutoReply,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn hhmm(s: &str) -> ServiceResult<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| ServiceError::invalid(format!("`{s}` is not a HH:MM time")))
}

impl BusinessHours {
    pub fn validate(&self) -> ServiceResult<()> {
        self.timezone
            .parse::<Tz>()
            .map_err(|_| ServiceError::invalid("timezone must be an IANA name, e.g. America/Sao_Paulo"))?;
        for (day, periods) in &self.days {
            if !DAYS.contains(&day.as_str()) {
                return Err(ServiceError::invalid(format!("`{day}` is not a weekday (mon … sun)")));
            }
            for p in periods {
                if hhmm(&p.start)? >= hhmm(&p.end)? {
                    return Err(ServiceError::invalid("a period ends after it starts"));
                }
            }
        }
        if self.auto_reply.enabled && self.auto_reply.text.trim().is_empty() {
            return Err(ServiceError::invalid("an enabled auto-reply needs its text"));
        }
        Ok(())
    }

    fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz());
        if self.closed_dates.contains(&local.date_naive()) {
            return false;
        }
        let day = DAYS[local.weekday().num_days_from_monday() as usize];
        let time = local.time();
        self.days.get(day).into_iter().flatten().any(|p| match (hhmm(&p.start), hhmm(&p.end)) {
            (Ok(s), Ok(e)) => s <= time && time < e,
            _ => false,
        })
    }

    /// How long the company is open between `from` and `to` (business-hours durations of
    /// the reports): each local day's periods (none on closed dates) intersected with the
    /// interval, summed. Local times that a DST change skips or repeats take their first
    /// instant.
    pub fn open_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        use chrono::TimeZone;
        if to <= from {
            return Duration::zero();
        }
        let tz = self.tz();
        let (first, last) = (from.with_timezone(&tz).date_naive(), to.with_timezone(&tz).date_naive());
        let mut total = Duration::zero();
        let mut day = first;
        while day <= last {
            if !self.closed_dates.contains(&day) {
                let name = DAYS[day.weekday().num_days_from_monday() as usize];
                for p in self.days.get(name).into_iter().flatten() {
                    let (Ok(start), Ok(end)) = (hhmm(&p.start), hhmm(&p.end)) else { continue };
                    let local = |t: NaiveTime| tz.from_local_datetime(&day.and_time(t)).earliest();
                    let (Some(s), Some(e)) = (local(start), local(end)) else { continue };
                    let (s, e) = (s.with_timezone(&Utc).max(from), e.with_timezone(&Utc).min(to));
                    if e > s {
                        total += e - s;
                    }
                }
            }
            day = day.succ_opt().unwrap_or(last + Duration::days(1));
        }
        total
    }

    /// The next time openness changes after `at` (to the minute), within two weeks.
    pub fn next_change(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let open = self.is_open(at);
        let start = at - Duration::seconds(at.timestamp() % 60) + Duration::minutes(1);
        (0..14 * 24 * 60).map(|m| start + Duration::minutes(m)).find(|t| self.is_open(*t) != open)
    }
}

fn scope_key(account: &str, channel: Option<&str>) -> crate::ports::Key {
    keys::business_hours(account, channel.unwrap_or("account"))
}

async fn load_scope(
    deps: &Deps,
    account: &str,
    channel: Option<&str>,
) -> ServiceResult<Option<BusinessHours>> {
    match deps.configuration(&scope_key(account, channel)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// The zone when the account has no business hours.
pub const DEFAULT_ZONE: chrono_tz::Tz = chrono_tz::America::Sao_Paulo;

/// The zone an account (or a channel) reads local times in: its business hours' zone,
/// else [`DEFAULT_ZONE`].
pub async fn zone_of(deps: &Deps, account: &str, channel: Option<&str>) -> ServiceResult<chrono_tz::Tz> {
    Ok(zone(effective(deps, account, channel).await?.as_ref()))
}

/// The zone of hours already read (see [`zone_of`]).
pub fn zone(hours: Option<&BusinessHours>) -> chrono_tz::Tz {
    hours.and_then(|h| h.timezone.parse().ok()).unwrap_or(DEFAULT_ZONE)
}

/// The hours that apply to a channel: its own, else the account's, else none (always open).
pub async fn effective(
    deps: &Deps,
    account: &str,
    channel: Option<&str>,
) -> ServiceResult<Option<BusinessHours>> {
    if let Some(c) = channel
        && let Some(own) = load_scope(deps, account, Some(c)).await?
    {
        return Ok(Some(own));
    }
    load_scope(deps, account, None).await
}

pub async fn get(deps: &Deps, caller: &Caller, channel: Option<&str>) -> ServiceResult<BusinessHours> {
    if let Some(c) = channel {
        crate::conversations::channels::load(deps, &caller.account_id, c).await?;
    }
    load_scope(deps, &caller.account_id, channel).await?.ok_or(ServiceError::NotFound("business hours"))
}

pub async fn put(
    deps: &Deps,
    caller: &Caller,
    channel: Option<&str>,
    hours: BusinessHours,
) -> ServiceResult<BusinessHours> {
    caller.require_admin()?;
    hours.validate()?;
    if let Some(c) = channel {
        crate::conversations::channels::load(deps, &caller.account_id, c).await?;
    }
    let key = scope_key(&caller.account_id, channel);
    deps.table.put(to_item(&key, &hours)?, None).await?;
    deps.config.forget(&key);
    Ok(hours)
}

pub async fn remove(deps: &Deps, caller: &Caller, channel: Option<&str>) -> ServiceResult<()> {
    caller.require_admin()?;
    let key = scope_key(&caller.account_id, channel);
    deps.table.delete(&key, Some(Condition::Exists)).await.map_err(|e| match e {
        crate::ports::TableError::ConditionFailed => ServiceError::NotFound("business hours"),
        other => ServiceError::from(other),
    })?;
    deps.config.forget(&key);
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoursStatus {
    pub open: bool,
    /// When it next opens or closes (absent with no hours configured).
    pub next_change: Option<DateTime<Utc>>,
    /// Whether any hours are configured (none = always open).
    pub configured: bool,
}

pub async fn status(deps: &Deps, caller: &Caller, channel: Option<&str>) -> ServiceResult<HoursStatus> {
    let now = deps.clock.now();
    Ok(match effective(deps, &caller.account_id, channel).await? {
        None => HoursStatus { open: true, next_change: None, configured: false },
        Some(h) => HoursStatus { open: h.is_open(now), next_change: h.next_change(now), configured: true },
    })
}

/// Whether the out-of-hours auto-reply is due for a session now, and for which closed
/// period (identified by its reopening time).
pub fn auto_reply_due(
    hours: &BusinessHours,
    now: DateTime<Utc>,
    already_for: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if !hours.auto_reply.enabled || hours.is_open(now) {
        return None;
    }
    let period = hours.next_change(now).unwrap_or(now + Duration::days(14));
    (already_for != Some(period)).then_some(period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sao_paulo() -> BusinessHours {
        let day = vec![
            Period { start: "08:00".into(), end: "12:00".into() },
            Period { start: "13:00".into(), end: "18:00".into() },
        ];
        BusinessHours {
            timezone: "America/Sao_Paulo".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|d| ((*d).to_owned(), day.clone()))
                .collect(),
            closed_dates: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
            auto_reply: AutoReply { enabled: true, text: "Voltamos às 8h".into() },
        }
    }

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::America::Sao_Paulo.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn lunch_breaks_weekends_and_holidays_are_closed() {
        let h = sao_paulo();
        assert!(h.is_open(local(2026, 11, 23, 9, 0)), "Monday morning");
        assert!(!h.is_open(local(2026, 11, 23, 12, 30)), "lunch");
        assert!(h.is_open(local(2026, 11, 23, 13, 0)));
        assert!(!h.is_open(local(2026, 11, 23, 18, 0)), "the end is exclusive");
        assert!(!h.is_open(local(2026, 11, 22, 10, 0)), "Sunday");
        assert!(!h.is_open(local(2026, 12, 25, 10, 0)), "Christmas, a Friday");
    }

    #[test]
    fn open_time_counts_only_the_periods_inside_the_interval() {
        let h = sao_paulo();
        let hours = |h: i64, m: i64| Duration::hours(h) + Duration::minutes(m);
        // Monday 11:30 → 14:15: 30 min before lunch, 1 h 15 after.
        assert_eq!(h.open_between(local(2026, 11, 23, 11, 30), local(2026, 11, 23, 14, 15)), hours(1, 45));
        // Friday 17:00 → Monday 09:00: 1 h on Friday, 1 h on Monday, nothing at the weekend.
        assert_eq!(h.open_between(local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0)), hours(2, 0));
        // Thursday 24 Dec 17:30 → Monday 28 Dec 08:30: Christmas (Friday) is closed.
        assert_eq!(h.open_between(local(2026, 12, 24, 17, 30), local(2026, 12, 28, 8, 30)), hours(1, 0));
        // A whole week: 5 days × 9 h.
        assert_eq!(h.open_between(local(2026, 11, 23, 0, 0), local(2026, 11, 30, 0, 0)), hours(45, 0));
        assert_eq!(
            h.open_between(local(2026, 11, 23, 12, 10), local(2026, 11, 23, 12, 50)),
            Duration::zero()
        );
        assert_eq!(h.open_between(local(2026, 11, 23, 14, 0), local(2026, 11, 23, 10, 0)), Duration::zero());
    }

    #[test]
    fn the_next_change_is_the_next_opening_or_closing() {
        let h = sao_paulo();
        assert_eq!(h.next_change(local(2026, 11, 23, 12, 30)), Some(local(2026, 11, 23, 13, 0)));
        assert_eq!(h.next_change(local(2026, 11, 23, 9, 15)), Some(local(2026, 11, 23, 12, 0)));
        assert_eq!(
            h.next_change(local(2026, 12, 24, 19, 0)),
            Some(local(2026, 12, 28, 8, 0)),
            "over the holiday and weekend"
        );
    }

    #[test]
    fn the_auto_reply_is_due_once_per_closed_period_and_never_inside_hours() {
        let h = sao_paulo();
        let lunch = local(2026, 11, 23, 12, 10);
        let period = auto_reply_due(&h, lunch, None).unwrap();
        assert_eq!(auto_reply_due(&h, lunch + Duration::minutes(20), Some(period)), None, "once per period");
        assert!(
            auto_reply_due(&h, local(2026, 11, 23, 19, 0), Some(period)).is_some(),
            "a new closed period"
        );
        assert_eq!(auto_reply_due(&h, local(2026, 11, 23, 10, 0), None), None, "never inside hours");
    }

    #[test]
    fn bad_configurations_are_refused() {
        let mut h = sao_paulo();
        h.timezone = "Mars/Olympus".into();
        assert!(h.validate().is_err());
        let mut h = sao_paulo();
        h.days.insert("mon".into(), vec![Period { start: "10:00".into(), end: "09:00".into() }]);
        assert!(h.validate().is_err());
    }
}
