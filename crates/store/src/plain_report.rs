//! The daily report's and the clocks board's benchmark data, made by SQL alone at a scale no
//! generator holds in memory, and the raw side they are measured against.

use chrono::{DateTime, Utc};
use cordon_domain::report::Window;

use crate::BeginWrite as _;
use crate::{BackendKind, Result, Store};

/// How much of each record a benchmark day holds.
#[derive(Debug, Clone, Copy)]
pub struct ReportScale {
    pub cases: i64,
    pub orders: i64,
    pub tubes: i64,
    /// Tubes sealed without a result (the lab clock's open items).
    pub open_tubes: i64,
    /// Days the records spread over, ending at `until`.
    pub days: i64,
}

impl Store {
    /// The rows a number series makes on this backend: `{series}` in `sql` becomes the source
    /// of `i` from `$1` to `$2`, `{at}` an instant `i` seconds modulo the span before `$3`.
    fn series_sql(&self, sql: &str) -> String {
        let (series, at) = if self.kind() == BackendKind::Postgres {
            ("generate_series($1::bigint, $2::bigint) AS g(i)", "($3::timestamptz - ((i * 7919) % $4) * interval '1 second')")
        } else {
            (
                "(WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) SELECT i FROM seq) AS g",
                "(strftime('%Y-%m-%dT%H:%M:%S', $3, '-' || ((i * 7919) % $4) || ' seconds') || '+00:00')",
            )
        };
        sql.replace("{series}", series).replace("{at}", at)
    }

    /// Cases, observation orders with their people, tubes (some sealed without a result), the
    /// hourly sample counts, a site's rooms and zones, spread over `villages` and `scale.days`
    /// days before `until`, for incident `incident`.
    pub async fn fill_report_plain(&self, incident: i64, villages: &[String], scale: ReportScale, until: DateTime<Utc>) -> Result<()> {
        let span = scale.days * 86_400;
        let base = if self.kind() == BackendKind::Postgres { until.to_rfc3339() } else { until.format("%Y-%m-%d %H:%M:%S").to_string() };
        let nv = villages.len() as i64;
        // Villages by number, for the series to pick from.
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("CREATE TABLE bench_villages (k BIGINT PRIMARY KEY, code TEXT NOT NULL)").execute(&mut *tx).await?;
            for (k, v) in villages.iter().enumerate() {
                sqlx::query("INSERT INTO bench_villages (k, code) VALUES ($1, $2)").bind(k as i64).bind(v).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        let village = "(SELECT code FROM bench_villages WHERE k = i % $5)";
        let statements = [
            (
                scale.cases,
                format!(
                    "INSERT INTO cases (incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by) \
                     SELECT $6, 'B' || i, {village}, CASE WHEN i % 3 = 0 THEN 'asymptomatic' ELSE 'confirmed' END, \
                     CASE WHEN i % 5 = 0 THEN 'in_quarantine' WHEN i % 5 = 1 THEN 'in_control_area' ELSE 'mass_testing' END, \
                     CASE WHEN i % 50 = 0 THEN 'imported' ELSE 'local' END, CASE WHEN i % 20 = 0 THEN 'home' ELSE 'hospital' END, {{at}}, 'bench' FROM {{series}}"
                ),
            ),
            (
                scale.orders,
                format!(
                    "INSERT INTO persons (id_kind, id_number, id_tail, name, sex, birth_date, area_code, tags) \
                     SELECT 'passport', 'B' || i, '0000', '测试' || i, 'male', '1980-01-01', {village}, 0 FROM {{series}}"
                ),
            ),
            (
                scale.orders,
                format!(
                    "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, created_by, released_at) \
                     SELECT $6, i, CASE WHEN i % 3 = 0 THEN 'secondary_contact' ELSE 'close_contact' END, {{at}}, 'protocol-9', \
                     CASE WHEN i % 4 = 0 THEN 'released' ELSE 'centralized' END, {village}, {{at}}, 'bench', \
                     CASE WHEN i % 4 = 0 THEN {{at}} ELSE NULL END FROM {{series}}"
                ),
            ),
            (
                scale.tubes,
                format!(
                    "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, opened_at, sealed_at, result) \
                     SELECT 1, 'T' || i, 1, substr({village}, 1, 9), 'people', 10, 10, {{at}}, {{at}}, \
                     CASE WHEN i <= $7 THEN NULL ELSE 'negative' END FROM {{series}}"
                ),
            ),
        ];
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO testing_rounds (id, incident_id, name, starts_at, target_end_at, pool_policy, created_at) VALUES (1, $1, '演练', $2, $2, '{}', $2)")
                .bind(incident).bind(until).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO sampling_sites (id, round_id, area_code, name, address, stations) VALUES (1, 1, $1, '演练点', '演练', 4)")
                .bind(&villages[0]).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        for (n, sql) in statements {
            // A million rows a statement and transaction.
            let mut from = 1;
            while from <= n {
                let to = (from + 999_999).min(n);
                // Every statement names all seven values (SQLite counts its parameters by the
                // highest named).
                let sql = self.series_sql(&format!("{sql} WHERE CAST($6 AS BIGINT) >= 0 AND CAST($7 AS BIGINT) >= 0"));
                crate::with_write_pool!(self, pool => {
                    let mut tx = pool.begin_write().await?;
                    sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(from).bind(to).bind(&base).bind(span).bind(nv).bind(incident).bind(scale.open_tubes)
                        .execute(&mut *tx).await?;
                    tx.commit().await?;
                });
                from = to + 1;
            }
        }
        // Each village's people sampled each hour, a site's rooms, a zone per village in ten.
        let hours = if self.kind() == BackendKind::Postgres {
            "INSERT INTO round_hour_counts (round_id, area_code, hour, sampled, slot) \
             SELECT 1, v.code, date_trunc('hour', $1::timestamptz) - h * interval '1 hour', 20, 0 FROM bench_villages v, generate_series(1, $2::bigint) AS g(h)"
        } else {
            "WITH RECURSIVE hs(h) AS (SELECT 1 UNION ALL SELECT h + 1 FROM hs WHERE h < $2) \
             INSERT INTO round_hour_counts (round_id, area_code, hour, sampled, slot) \
             SELECT 1, v.code, strftime('%Y-%m-%dT%H:00:00', $1, '-' || h || ' hours') || '+00:00', 20, 0 FROM bench_villages v, hs"
        };
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sqlx::AssertSqlSafe(hours)).bind(&base).bind(scale.days * 24).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO quarantine_sites (id, name, kind, area_code, address, head_name, staff, created_at) VALUES (1, '演练宾馆', 'hotel', $1, '演练', '王', 5, $2)")
                .bind(&villages[0]).bind(until).execute(&mut *tx).await?;
            for r in 0..500_i64 {
                sqlx::query("INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) VALUES (1, 'A', $1, $2, 2, $3, $4)")
                    .bind(r / 20 + 1).bind(r.to_string()).bind(r % 3).bind(if r % 3 == 0 { "free" } else { "occupied" })
                    .execute(&mut *tx).await?;
            }
            for (k, v) in villages.iter().enumerate().step_by(10) {
                sqlx::query("INSERT INTO zones (incident_id, area_code, name, kind, since, reason, designated_at, designated_by, changed_at) \
                     VALUES ($1, $2, $3, 'sealed', '2022-04-13', '演练', $4, 'bench', $4)")
                    .bind(incident).bind(v).bind(format!("演练区{k}")).bind(until).execute(&mut *tx).await?;
            }
            sqlx::query("DROP TABLE bench_villages").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        // PostgreSQL plans by its statistics: measured as autovacuum leaves a table, not straight
        // after a bulk load it has not looked at yet.
        if self.kind() == BackendKind::Postgres {
            crate::with_write_pool!(self, pool => {
                sqlx::query("VACUUM ANALYZE").execute(pool).await?;
            });
        }
        Ok(())
    }

    /// The raw side of the daily report: each table the report reads, counted once over the
    /// area's rows (the least work that touches them), with the window's tubes and hours.
    pub async fn count_report_rows_plain(&self, lo: &str, hi: &str, window: &Window) -> Result<i64> {
        let mut total = 0;
        for table in ["cases", "observation_orders", "hospital_stays", "zones"] {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE area_code >= $1 AND area_code < $2");
            let (n,): (i64,) = crate::with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(lo).bind(hi).fetch_one(pool).await?);
            total += n;
        }
        let (n,): (i64,) = crate::with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM tubes WHERE opened_at >= $1 AND opened_at < $2").bind(window.start).bind(window.end).fetch_one(pool).await?);
        let (h,): (i64,) = crate::with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM round_hour_counts WHERE hour >= $1 AND hour < $2").bind(window.start).bind(window.end).fetch_one(pool).await?);
        Ok(total + n + h)
    }

    /// The raw side of the clocks board: the open items of the largest clock counted once.
    pub async fn count_open_tubes_plain(&self) -> Result<i64> {
        let (n,): (i64,) = crate::with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM tubes WHERE result IS NULL AND sealed_at IS NOT NULL").fetch_one(pool).await?);
        Ok(n)
    }
}

impl Store {
    /// One community worker per area (`bench_w{k}`, who cannot sign in), written plainly;
    /// answers their usernames in the areas' order.
    pub async fn insert_workers_plain(&self, areas: &[String]) -> Result<Vec<String>> {
        let now = Utc::now();
        let names: Vec<String> = (0..areas.len()).map(|k| format!("bench_w{k}")).collect();
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (name, area) in names.iter().zip(areas) {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO users (username, display_name, role, password_hash, disabled, created_at) \
                     VALUES ($1, $1, 'community_worker', '!', FALSE, $2) RETURNING id")
                    .bind(name).bind(now).fetch_one(&mut *tx).await?;
                sqlx::query("INSERT INTO user_areas (user_id, area_code) VALUES ($1, $2)").bind(id).bind(area).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(names)
    }

    /// The raw side of a fan-out: the instruction, a recipient and a notice per area (each
    /// told to its worker) written in one transaction with prepared statements, then each
    /// recipient signed for (its row and its event) in a transaction of its own, as each
    /// acknowledgement is a request of its own. Answers the seconds of the issue and each
    /// acknowledgement's milliseconds.
    pub async fn fanout_plain(&self, incident: i64, areas: &[(String, i64)]) -> Result<(f64, Vec<f64>)> {
        let now = Utc::now();
        let started = std::time::Instant::now();
        let mut ids = Vec::with_capacity(areas.len());
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO instructions (incident_id, title, body, issued_by, issued_at, deadline) VALUES ($1, '演练', '', 'bench', $2, $2) RETURNING id")
                .bind(incident).bind(now).fetch_one(&mut *tx).await?;
            for (area, user) in areas {
                let (rid,): (i64,) = sqlx::query_as(
                    "INSERT INTO instruction_recipients (instruction_id, kind, area_code, state, deadline, assigned_at, updated_at) \
                     VALUES ($1, 'area', $2, 'issued', $3, $3, $3) RETURNING id")
                    .bind(id).bind(area).bind(now).fetch_one(&mut *tx).await?;
                sqlx::query("INSERT INTO notices (user_id, kind, instruction_id, recipient_id, created_at) VALUES ($1, 'assigned', $2, $3, $4)")
                    .bind(*user).bind(id).bind(rid).bind(now).execute(&mut *tx).await?;
                ids.push(rid);
            }
            tx.commit().await?;
        });
        let issue = started.elapsed().as_secs_f64();
        let mut acks = Vec::with_capacity(ids.len());
        for rid in ids {
            let started = std::time::Instant::now();
            crate::with_write_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query("UPDATE instruction_recipients SET state = 'received', received_at = $2, updated_at = $2 WHERE id = $1")
                    .bind(rid).bind(now).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO instruction_events (recipient_id, act, at, by_name) VALUES ($1, 'receive', $2, 'bench')")
                    .bind(rid).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
            });
            acks.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok((issue, acks))
    }
}
