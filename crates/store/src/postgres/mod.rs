//! What runs only on PostgreSQL: the `COPY` paths of bulk loads. The portable queries, and the
//! pure planners both dialects call, stay in the workflow's own module.

pub(crate) mod batch;
pub(crate) mod cases;
pub(crate) mod checkins;
pub(crate) mod exposures;
pub(crate) mod people;
pub(crate) mod station;

/// The transaction's first round trip: it begins holding the audit lock
/// ([`crate::audit::AUDIT_LOCK`]), so that every later statement reads the chain's head as it
/// stays until the commit; and it plans its statements once per connection — a case's read has a
/// dozen subqueries, and planning it anew for each case (PostgreSQL's choice for it) took 0.66 ms
/// of a case's 1.8. Every condition in it is an equality on an index, whatever the
/// values.
pub(crate) const BEGIN_LOCKED: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock(418581342580)";

/// Appends one field in PostgreSQL's COPY text format.
pub(crate) fn copy_field(buf: &mut String, value: Option<&str>, last: bool) {
    match value {
        None => buf.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
    }
    buf.push(if last { '\n' } else { '\t' });
}
