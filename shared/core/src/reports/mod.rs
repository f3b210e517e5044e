//! Reports from counters (PRODUCT.md §13), never from scanning sessions at read time.
//!
//! Definitions (as Chatwoot's):
//! - **first response time**: from the start of a session's cycle (its creation, or the
//!   message that reopened it) to the first message a person sent in that cycle;
//! - **reply time**: from a customer's first unanswered message to the next message a
//!   person sent, for every reply after the cycle's first response;
//! - **resolution time**: from the start of the cycle to its completion.
//!
//! Each has a wall-clock and a business-hours variant (only the time the company was open,
//! by the channel's hours, else the account's; always open without hours), an average and
//! a distribution in buckets (0–1 h, 1–4 h, 4–8 h, 8–24 h, 24 h+). Beside the times:
//! sessions opened and completed, completions per classification category and reason
//! with their amounts (as classified at completion), CSAT answers and averages per scale,
//! payments received (count and amount). Campaign funnels are the campaign's own counters
//! (`GET /v1/campaigns/{id}/report`).
//!
//! - `counters`: the reaction moving the counters, once per fact. Counters are items per
//!   local day and month (the account's zone) and dimension (`all`, `team:<id>`,
//!   `agent:<id>`, `channel:<id>`).
//! - `summary`: reading a period's counters.
//! - `waiting`: what waits in each team's queue now (the live pending sessions).
//! - `exports`: a report as CSV, written by a job and fetched through a presigned link.

pub mod counters;
pub mod exports;
pub mod summary;
pub mod waiting;

pub use counters::ReportCounters;
pub use summary::{GroupBy, Report, ReportQuery, ReportRow, summary};
