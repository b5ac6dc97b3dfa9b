//! Places: areas (the division tree), grids, buildings and households.

use std::collections::HashMap;

use cordon_domain::{AreaCode, AreaLevel};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// An area of the division tree with the number of people registered in it (all levels below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub population: i64,
}

impl Area {
    pub fn level(&self) -> Option<AreaLevel> {
        self.level.parse().ok()
    }
}

/// An area to create or rename.
#[derive(Debug, Clone)]
pub struct NewArea {
    pub code: AreaCode,
    pub name: String,
}

/// A grid (网格) inside a village or community, with an id chosen by the caller.
#[derive(Debug, Clone)]
pub struct NewGrid {
    pub id: i64,
    pub area_code: AreaCode,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewBuilding {
    pub id: i64,
    pub area_code: AreaCode,
    pub grid_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub id: i64,
    pub area_code: AreaCode,
    pub grid_id: Option<i64>,
    pub building_id: Option<i64>,
    pub address: String,
}

const AREA_COLUMNS: &str = "code, name, level, parent_code, population";

impl Store {
    /// Creates areas or renames existing ones. An area's parent is its nearest ancestor that is
    /// in the register (or in the same call); a county loaded alone is a root.
    pub async fn upsert_areas(&self, areas: &[NewArea]) -> Result<()> {
        let mut known = self.area_codes().await?;
        known.extend(areas.iter().map(|a| a.code.to_string()));
        let nearest_parent =
            |c: &AreaCode| std::iter::successors(c.parent(), |p| p.parent()).find(|p| known.contains(p.as_str())).map(|p| p.to_string());
        let mut sorted: Vec<&NewArea> = areas.iter().collect();
        sorted.sort_by(|a, b| a.code.as_str().len().cmp(&b.code.as_str().len()).then(a.code.cmp(&b.code)));
        let rows = sorted
            .iter()
            .map(|a| {
                vec![
                    Param::Text(a.code.to_string()),
                    Param::Text(a.name.clone()),
                    Param::Text(a.code.level().as_str().to_string()),
                    Param::OptText(nearest_parent(&a.code)),
                ]
            })
            .collect();
        self.insert_rows(
            "areas",
            &["code", "name", "level", "parent_code"],
            rows,
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code",
        )
        .await
    }

    /// Grids, buildings and households with caller-chosen ids (the demo generator and imports of
    /// a full place register); ids already present are left as they are.
    pub async fn insert_places(&self, grids: &[NewGrid], buildings: &[NewBuilding], households: &[NewHousehold]) -> Result<()> {
        let grid_rows =
            grids.iter().map(|g| vec![Param::Int(g.id), Param::Text(g.area_code.to_string()), Param::Text(g.name.clone())]).collect();
        self.insert_rows("grids", &["id", "area_code", "name"], grid_rows, " ON CONFLICT DO NOTHING").await?;
        let building_rows = buildings
            .iter()
            .map(|b| vec![Param::Int(b.id), Param::Text(b.area_code.to_string()), Param::OptInt(b.grid_id), Param::Text(b.name.clone())])
            .collect();
        self.insert_rows("buildings", &["id", "area_code", "grid_id", "name"], building_rows, " ON CONFLICT DO NOTHING").await?;
        let household_rows = households
            .iter()
            .map(|h| {
                vec![
                    Param::Int(h.id),
                    Param::Text(h.area_code.to_string()),
                    Param::OptInt(h.grid_id),
                    Param::OptInt(h.building_id),
                    Param::Text(h.address.clone()),
                ]
            })
            .collect();
        self.insert_rows(
            "households",
            &["id", "area_code", "grid_id", "building_id", "address"],
            household_rows,
            " ON CONFLICT DO NOTHING",
        )
        .await?;
        if let crate::Backend::Postgres(b) = &*self.backend {
            // Explicit ids do not advance identity sequences; move them past the largest id.
            for table in ["grids", "buildings", "households"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )))
                .execute(&b.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// Multi-row INSERTs in one transaction, in chunks that stay under both dialects' limits on
    /// bind parameters.
    pub(crate) async fn insert_rows(&self, table: &str, columns: &[&str], rows: Vec<Vec<Param>>, suffix: &str) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // Moderate statements: very long ones cost more to prepare than they save.
        let per_chunk = (4_000 / columns.len()).max(1);
        let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in rows.chunks(per_chunk) {
                let mut sql = head.clone();
                let mut n = 0;
                for (i, row) in chunk.iter().enumerate() {
                    if row.len() != columns.len() {
                        return Err(StoreError::Corrupt(format!("row for {table} has {} values, expected {}", row.len(), columns.len())));
                    }
                    sql.push_str(if i == 0 { "(" } else { ", (" });
                    for j in 0..row.len() {
                        n += 1;
                        if j > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("${n}"));
                    }
                    sql.push(')');
                }
                sql.push_str(suffix);
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), chunk.iter().flatten()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// One area by code.
    pub async fn area(&self, code: &AreaCode) -> Result<Option<Area>> {
        let sql = format!("SELECT {AREA_COLUMNS} FROM areas WHERE code = $1");
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Area>(sqlx::AssertSqlSafe(sql.as_str())).bind(code.as_str()).fetch_optional(pool).await?),
        )
    }

    /// The names of these areas, in one read (codes not registered are left out).
    pub(crate) async fn area_names(&self, codes: &[&AreaCode]) -> Result<std::collections::HashMap<String, String>> {
        let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        self.names_by_key("SELECT code, name FROM areas WHERE code IN", &codes).await
    }

    /// (key, name) pairs of `select` (`SELECT key, name FROM t WHERE key IN`) for these keys, in
    /// reads of 500; keys not found are left out.
    pub(crate) async fn names_by_key(&self, select: &'static str, keys: &[&str]) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in keys.chunks(500) {
            let sql = format!("{select} ({})", crate::list_placeholders(0, chunk.len()));
            let params: Vec<crate::Param> = chunk.iter().map(|k| crate::Param::Text(k.to_string())).collect();
            let rows: Vec<(String, String)> = with_read_pool!(self, pool =>
                crate::bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    /// The areas registered under this exact name (a village's name may repeat across
    /// townships), by code; at most 20.
    pub(crate) async fn areas_named(&self, name: &str) -> Result<Vec<AreaCode>> {
        let rows: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT code FROM areas WHERE name = $1 ORDER BY code LIMIT 20").bind(name.trim()).fetch_all(pool).await?);
        rows.into_iter().map(|(c,)| AreaCode::parse(&c).map_err(StoreError::corrupt)).collect()
    }

    /// The direct children of an area, by code.
    pub async fn area_children(&self, code: &AreaCode) -> Result<Vec<Area>> {
        let sql = format!("SELECT {AREA_COLUMNS} FROM areas WHERE parent_code = $1 ORDER BY code");
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Area>(sqlx::AssertSqlSafe(sql.as_str())).bind(code.as_str()).fetch_all(pool).await?),
        )
    }

    /// Every area in the subtree of `root` (itself included), by code.
    pub async fn area_subtree(&self, root: &AreaCode) -> Result<Vec<Area>> {
        let (lo, hi) = root.subtree_range();
        let sql = format!("SELECT {AREA_COLUMNS} FROM areas WHERE code >= $1 AND code < $2 ORDER BY code");
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Area>(sqlx::AssertSqlSafe(sql.as_str())).bind(lo).bind(hi).fetch_all(pool).await?),
        )
    }

    /// Areas without a parent in the store (the roots of the tree, usually one county).
    pub async fn area_roots(&self) -> Result<Vec<Area>> {
        let sql = format!(
            "SELECT {AREA_COLUMNS} FROM areas a WHERE parent_code IS NULL \
             OR NOT EXISTS (SELECT 1 FROM areas p WHERE p.code = a.parent_code) ORDER BY code"
        );
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Area>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?))
    }

    /// The codes of every known area, for validating imports.
    pub async fn area_codes(&self) -> Result<std::collections::HashSet<String>> {
        let codes: Vec<(String,)> = with_read_pool!(self, pool => sqlx::query_as("SELECT code FROM areas").fetch_all(pool).await?);
        Ok(codes.into_iter().map(|(c,)| c).collect())
    }

    /// Recomputes every area's population from the person register, rolled up to all ancestors.
    /// Run after bulk loads, so that views read maintained counts instead of scanning people.
    pub async fn refresh_populations(&self) -> Result<()> {
        let counts: Vec<(String, i64)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, COUNT(*) FROM persons GROUP BY area_code").fetch_all(pool).await?);
        let mut totals: HashMap<String, i64> = HashMap::new();
        for (code, n) in counts {
            let mut cur = AreaCode::parse(&code).ok();
            while let Some(c) = cur {
                *totals.entry(c.to_string()).or_default() += n;
                cur = c.parent();
            }
        }
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE areas SET population = 0").execute(&mut *tx).await?;
            for (code, n) in &totals {
                sqlx::query("UPDATE areas SET population = $1 WHERE code = $2").bind(*n).bind(code).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many rows a table holds (for summaries and tests).
    pub async fn count(&self, table: Table) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.as_str());
        let (n,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_one(pool).await?);
        Ok(n)
    }
}

/// Tables whose rows can be counted through [`Store::count`].
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Areas,
    Grids,
    Buildings,
    Households,
    Persons,
}

impl Table {
    fn as_str(self) -> &'static str {
        match self {
            Table::Areas => "areas",
            Table::Grids => "grids",
            Table::Buildings => "buildings",
            Table::Households => "households",
            Table::Persons => "persons",
        }
    }
}
