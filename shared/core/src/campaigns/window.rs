//! Allowed sending hours (*horário permitido*) of a campaign or a sequence step: weekdays
//! and a daily time range in the account's zone (the zone of its business hours, else
//! `America/Sao_Paulo`). Outside it nothing bulk is sent: campaigns pause and resume,
//! sequence steps wait for the next opening.

use crate::error::{ServiceError, ServiceResult};
use crate::time::business_hours;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
pub use business_hours::DEFAULT_ZONE;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SendingWindow {
    /// `mon` … `sun`; empty means every day.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// `HH:MM`, local time.
    pub start: String,
    /// `HH:MM`, local time, after `start`.
    pub end: String,
}

fn hhmm(s: &str) -> ServiceResult<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| ServiceError::invalid(format!("`{s}` is not a HH:MM time")))
}

impl SendingWindow {
    pub fn validate(&self) -> ServiceResult<()> {
        for d in &self.weekdays {
            if !DAYS.contains(&d.as_str()) {
                return Err(ServiceError::invalid(format!("`{d}` is not a weekday (mon … sun)")));
            }
        }
        if hhmm(&self.start)? >= hhmm(&self.end)? {
            return Err(ServiceError::invalid("the allowed hours end after they start"));
        }
        Ok(())
    }

    /// Whether sending is allowed at `at` in `zone`.
    pub fn allows(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&zone);
        let day = DAYS[local.weekday().num_days_from_monday() as usize];
        if !self.weekdays.is_empty() && !self.weekdays.iter().any(|d| d == day) {
            return false;
        }
        match (hhmm(&self.start), hhmm(&self.end)) {
            (Ok(s), Ok(e)) => s <= local.time() && local.time() < e,
            _ => false,
        }
    }

    /// The first minute at or after `at` when sending is allowed (within 8 days; none when
    /// the window never opens).
    pub fn next_opening(&self, zone: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.allows(zone, at) {
            return Some(at);
        }
        let start = at - Duration::seconds(at.timestamp() % 60) + Duration::minutes(1);
        (0..8 * 24 * 60).map(|m| start + Duration::minutes(m)).find(|t| self.allows(zone, *t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn weekdays_9_to_18() -> SendingWindow {
        SendingWindow {
            weekdays: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
            start: "09:00".into(),
            end: "18:00".into(),
        }
    }

    #[test]
    fn a_friday_evening_opens_on_monday_morning_in_the_accounts_zone() {
        let zone = DEFAULT_ZONE;
        // Friday 2026-11-20 19:00 in São Paulo (UTC-3).
        let friday = zone.with_ymd_and_hms(2026, 11, 20, 19, 0, 0).unwrap().with_timezone(&Utc);
        let w = weekdays_9_to_18();
        assert!(!w.allows(zone, friday));
        let next = w.next_opening(zone, friday).unwrap();
        assert_eq!(next, zone.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap().with_timezone(&Utc));
        assert!(w.allows(zone, next));
        assert_eq!(w.next_opening(zone, next), Some(next), "inside, it is open now");
    }

    #[test]
    fn bad_windows_are_refused() {
        let mut w = weekdays_9_to_18();
        w.end = "08:00".into();
        assert!(w.validate().is_err());
        w.end = "18:00".into();
        w.weekdays.push("funday".into());
        assert!(w.validate().is_err());
    }
}
