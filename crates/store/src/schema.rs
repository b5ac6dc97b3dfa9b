//! The schema as the database itself describes it, in dialect-neutral terms, so a test can check
//! that the SQLite and PostgreSQL migrations define the same tables, columns, indexes (with a
//! partial index's predicate) and foreign keys.

use serde::Serialize;

use crate::{Backend, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Column {
    pub table: String,
    pub name: String,
    /// One of integer, text, date, timestamp, boolean, real (or the raw name when unknown).
    pub kind: String,
    pub not_null: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Index {
    pub table: String,
    pub name: String,
    pub unique: bool,
    pub columns: String,
    /// A partial index's condition, normalized (`kind = 'round'`); empty for a full index.
    pub predicate: String,
}

/// `table (columns) REFERENCES references (to)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ForeignKey {
    pub table: String,
    pub columns: String,
    pub references: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

/// A partial index's condition as both dialects can be compared: PostgreSQL's casts and
/// parentheses dropped, lower case, single spaces.
fn predicate(raw: &str) -> String {
    let s = raw.to_lowercase().replace("::text", "").replace("::character varying", "").replace(['(', ')'], "");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn logical_type(raw: &str) -> String {
    let t = raw.to_ascii_lowercase();
    match t.as_str() {
        "integer" | "bigint" | "smallint" | "int" => "integer",
        "text" | "character varying" | "varchar" => "text",
        "date" => "date",
        "timestamptz" | "timestamp with time zone" => "timestamp",
        "boolean" => "boolean",
        "real" | "double precision" => "real",
        _ => return t,
    }
    .to_string()
}

impl Store {
    /// Describes the application tables (migration bookkeeping excluded).
    pub async fn schema(&self) -> Result<Schema> {
        let (mut columns, mut indexes, mut foreign_keys) = match &*self.backend {
            Backend::Sqlite(b) => {
                let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT m.name, c.name, c.type, c.\"notnull\", c.pk FROM sqlite_master m \
                     JOIN pragma_table_info(m.name) c WHERE m.type = 'table' \
                     AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(&b.read)
                .await?;
                let columns: Vec<Column> = rows
                    .into_iter()
                    .map(|(table, name, ty, notnull, pk)| Column { table, name, kind: logical_type(&ty), not_null: notnull == 1 || pk > 0 })
                    .collect();
                let rows: Vec<(String, String, i64, String, Option<String>)> = sqlx::query_as(
                    "SELECT m.name, i.name, i.\"unique\", (SELECT group_concat(name, ',') FROM \
                     (SELECT ii.name FROM pragma_index_info(i.name) ii ORDER BY ii.seqno)), \
                     CASE WHEN i.partial = 1 THEN (SELECT x.sql FROM sqlite_master x WHERE x.type = 'index' AND x.name = i.name) END \
                     FROM sqlite_master m JOIN pragma_index_list(m.name) i \
                     WHERE m.type = 'table' AND i.origin = 'c' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(&b.read)
                .await?;
                let indexes: Vec<Index> = rows
                    .into_iter()
                    .map(|(table, name, unique, columns, sql)| {
                        let condition = sql.as_deref().and_then(|s| s.rsplit_once(" WHERE ").map(|(_, c)| c)).unwrap_or("");
                        Index { table, name, unique: unique == 1, columns, predicate: predicate(condition.trim_end_matches(';')) }
                    })
                    .collect();
                // A reference to a table without columns names its primary key, `id` here.
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT m.name, f.\"table\", group_concat(f.\"from\", ','), group_concat(COALESCE(f.\"to\", 'id'), ',') \
                     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                     WHERE m.type = 'table' AND m.name NOT LIKE '_sqlx%' GROUP BY m.name, f.id ORDER BY m.name, f.id",
                )
                .fetch_all(&b.read)
                .await?;
                let foreign_keys: Vec<ForeignKey> =
                    rows.into_iter().map(|(table, references, columns, to)| ForeignKey { table, columns, references, to }).collect();
                (columns, indexes, foreign_keys)
            }
            Backend::Postgres(b) => {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
                     FROM information_schema.columns WHERE table_schema = current_schema() \
                     AND table_name NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(&b.pool)
                .await?;
                let columns: Vec<Column> = rows
                    .into_iter()
                    .map(|(table, name, ty, nullable)| Column { table, name, kind: logical_type(&ty), not_null: nullable == "NO" })
                    .collect();
                let rows: Vec<(String, String, bool, String, String)> = sqlx::query_as(
                    "SELECT t.relname::text, i.relname::text, ix.indisunique, array_to_string(ARRAY(\
                       SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                     COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') \
                     FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE n.nspname = current_schema() AND NOT ix.indisprimary AND t.relname NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(&b.pool)
                .await?;
                let indexes: Vec<Index> = rows
                    .into_iter()
                    .map(|(table, name, unique, columns, pred)| Index { table, name, unique, columns, predicate: predicate(&pred) })
                    .collect();
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT t.relname::text, r.relname::text, \
                       array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                       array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord) \
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') \
                     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE c.contype = 'f' AND n.nspname = current_schema()",
                )
                .fetch_all(&b.pool)
                .await?;
                let foreign_keys: Vec<ForeignKey> =
                    rows.into_iter().map(|(table, references, columns, to)| ForeignKey { table, columns, references, to }).collect();
                (columns, indexes, foreign_keys)
            }
        };
        columns.sort();
        indexes.sort();
        foreign_keys.sort();
        Ok(Schema { columns, indexes, foreign_keys })
    }
}
