//! A deadline's clock as a page shows it (investigations, transfers).

use chrono::Utc;
use cordon_domain::cases::investigation::Clock;

use crate::format::span;
use crate::i18n::Tr;

/// A clock as a page shows it: the text, and the deadline for the ticking script.
pub(in crate::ui) struct ClockCell {
    pub(in crate::ui) text: String,
    /// `running`, `overdue` or `done`.
    pub(in crate::ui) state: &'static str,
    pub(in crate::ui) due_ms: i64,
}

pub(in crate::ui) fn clock_cell(t: &Tr, due: chrono::DateTime<Utc>, c: Clock) -> ClockCell {
    let (text, state) = match c {
        Clock::Running { minutes_left } => (t.fill("tracing.left", &[("time", &span(minutes_left))]), "running"),
        Clock::Overdue { minutes_over } => (t.fill("tracing.over", &[("time", &span(minutes_over))]), "overdue"),
        Clock::Done { late: false } => (t.get("tracing.done").to_string(), "done"),
        Clock::Done { late: true } => (t.get("tracing.done_late").to_string(), "done"),
    };
    ClockCell { text, state, due_ms: due.timestamp_millis() }
}
