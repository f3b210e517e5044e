//! The contact base's own vocabulary: tags (and, later, custom fields, quick replies,
//! panels). Nothing here knows conversations; conversations use it.

pub mod tags;
