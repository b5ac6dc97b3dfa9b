//! What runs only on PostgreSQL: the `COPY` paths of bulk loads. The portable queries, and the
//! pure planners both dialects call, stay in the workflow's own module.

pub(crate) mod batch;
pub(crate) mod cases;
pub(crate) mod checkins;
pub(crate) mod people;
pub(crate) mod station;

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
