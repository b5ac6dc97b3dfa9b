//! The schema as the database itself describes it, in dialect-neutral terms, so a test can check
//! that the SQLite and PostgreSQL migrations define the same tables, columns and indexes.

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
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
        let (mut columns, mut indexes) = match &*self.backend {
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
                let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
                    "SELECT m.name, i.name, i.\"unique\", (SELECT group_concat(name, ',') FROM \
                     (SELECT ii.name FROM pragma_index_info(i.name) ii ORDER BY ii.seqno)) \
                     FROM sqlite_master m JOIN pragma_index_list(m.name) i \
                     WHERE m.type = 'table' AND i.origin = 'c' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(&b.read)
                .await?;
                let indexes: Vec<Index> =
                    rows.into_iter().map(|(table, name, unique, columns)| Index { table, name, unique: unique == 1, columns }).collect();
                (columns, indexes)
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
                let rows: Vec<(String, String, bool, String)> = sqlx::query_as(
                    "SELECT t.relname::text, i.relname::text, ix.indisunique, array_to_string(ARRAY(\
                       SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') \
                     FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE n.nspname = current_schema() AND NOT ix.indisprimary AND t.relname NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(&b.pool)
                .await?;
                let indexes: Vec<Index> =
                    rows.into_iter().map(|(table, name, unique, columns)| Index { table, name, unique, columns }).collect();
                (columns, indexes)
            }
        };
        columns.sort();
        indexes.sort();
        Ok(Schema { columns, indexes })
    }
}
