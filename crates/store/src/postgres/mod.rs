//! What runs only on PostgreSQL: the `COPY` paths of bulk loads. The portable queries, and the
//! pure planners both dialects call, stay in the workflow's own module.

pub(crate) mod checkins;
