//! Time-driven behaviour (PRODUCT.md §6): one timer mechanism, business hours, keep-alive,
//! scheduled messages.

pub mod business_hours;
pub mod keep_alive;
pub mod out_of_hours;
pub mod scheduled;
pub mod timers;
