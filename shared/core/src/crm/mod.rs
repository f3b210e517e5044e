//! The contact base's own vocabulary: tags, custom fields, the `{{variables}}` of texts,
//! quick replies, kanban panels, classification reasons and CSAT settings. Nothing here
//! knows conversations; conversations use it.

pub mod csv_file;
pub mod documents;
pub mod fields;
pub mod panels;
pub mod placeholders;
pub mod quick_replies;
pub mod reasons;
pub mod tags;
