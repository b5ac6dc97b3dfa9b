//! `cordon bench` for venue check-ins, on one generated city: 1,000,000 people scanning place
//! codes five times a day for 14 days over 50,000 venues (70,000,000 scans at `--scale 1`).
//! - `checkin_ingest`: the scans through the check-in CSV import (the file is generated as a
//!   stream and never held in memory), with the contact graph kept up to date as batches
//!   commit, against the raw limit of storing the same rows in a second database with nothing
//!   else (SQLite: plain one-row prepared INSERTs; PostgreSQL: plain COPY).
//! - `contact_rings`: the first and second ring of one person over a four-day window from the
//!   contact graph, against the same question as one plain SQL self-join in the same database.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use chrono::{Duration, TimeZone, Utc};
use cordon_domain::AreaCode;
use cordon_store::checkins::{CheckIn, NewVenue};
use cordon_store::{BackendKind, Store};

use super::measure::{Measurement, peak_rss_mb, scratch};
use super::measure::{latencies, latency_measurement};
use crate::demo::county;
use crate::demo::rng::Rng;
use crate::import_cli;

const DAYS: u32 = 14;
const PER_DAY: u32 = 5;
/// 1 April 2022, 00:00 in Beijing.
const DAY0: i64 = 1_648_742_400;
const DAY: i64 = 86_400;

/// The generated city: who scans where and when.
#[derive(Clone, Copy)]
struct City {
    people: u32,
    venues: u32,
}

/// One scan of the city: person and venue by index, local seconds since midnight of the day,
/// and the stay in seconds when an exit was scanned.
struct Scan {
    person: u32,
    venue: u32,
    day: u32,
    at: u32,
    stay: Option<u32>,
}

impl City {
    /// Person `p`'s scans of day `d`, in time order and never two in one second: three of five at one of the eight venues
    /// near home and work, the others anywhere; between 07:00 and 22:00; one in ten with an
    /// exit scan 15 to 110 minutes later.
    fn day(&self, p: u32, d: u32, out: &mut Vec<Scan>) {
        let mut rng = Rng::new((u64::from(p) << 8) ^ u64::from(d) ^ 0x5CA7);
        let mut times: Vec<u32> = (0..PER_DAY).map(|_| rng.range(7 * 3600, 22 * 3600)).collect();
        times.sort_unstable();
        // One person scans one code at a time: no two scans of a day in the same second.
        for k in 1..times.len() {
            times[k] = times[k].max(times[k - 1] + 1);
        }
        for at in times {
            let venue = if rng.chance(0.6) {
                let k = rng.range(0, 7);
                (p / 20 * 7 + k * 131) % self.venues
            } else {
                rng.range(0, self.venues - 1)
            };
            let stay = rng.chance(0.1).then(|| rng.range(15, 110) * 60);
            out.push(Scan { person: p, venue, day: d, at, stay });
        }
    }

    fn scans(&self) -> u64 {
        u64::from(self.people) * u64::from(DAYS) * u64::from(PER_DAY)
    }
}

fn venue_code(v: u32) -> String {
    format!("V{v:06}")
}

/// The city's scans as a check-in CSV file, made as it is read: day by day, person by person.
struct ScanFeed {
    city: City,
    documents: Arc<Vec<String>>,
    dates: Vec<String>,
    person: u32,
    day: u32,
    buf: Vec<u8>,
    pos: usize,
    scans: Vec<Scan>,
}

impl ScanFeed {
    fn new(city: City, documents: Arc<Vec<String>>) -> Self {
        let dates = (0..DAYS)
            .map(|d| (chrono::NaiveDate::from_ymd_opt(2022, 4, 1).expect("date") + Duration::days(i64::from(d))).to_string())
            .collect();
        ScanFeed {
            city,
            documents,
            dates,
            person: 0,
            day: 0,
            buf: "身份证号,场所码,扫码时间,离开时间\n".as_bytes().to_vec(),
            pos: 0,
            scans: vec![],
        }
    }

    fn refill(&mut self) -> bool {
        use std::fmt::Write as _;
        if self.day == DAYS {
            return false;
        }
        self.buf.clear();
        self.pos = 0;
        let mut text = String::with_capacity(64 * 1024);
        // A thousand people's day at a time.
        for _ in 0..1000 {
            self.scans.clear();
            self.city.day(self.person, self.day, &mut self.scans);
            let date = &self.dates[self.day as usize];
            for s in &self.scans {
                let hms = |t: u32| format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
                let left = s.stay.map(|st| format!("{date} {}", hms(s.at + st))).unwrap_or_default();
                let _ = writeln!(text, "{},{},{date} {},{left}", self.documents[s.person as usize], venue_code(s.venue), hms(s.at));
            }
            self.person += 1;
            if self.person == self.city.people {
                self.person = 0;
                self.day += 1;
                if self.day == DAYS {
                    break;
                }
            }
        }
        self.buf = text.into_bytes();
        true
    }
}

impl Read for ScanFeed {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() && !self.refill() {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Stores the city's people and venues; answers the person and venue ids by index, and the
/// people's resident ids.
async fn populate(store: &Store, city: &City) -> Result<(Vec<i64>, Vec<i64>, Vec<String>)> {
    let mut writer = store.person_writer().await?;
    let people = import_cli::people(21, city.people);
    let documents: Vec<String> = people.iter().map(|p| p.document.number().to_string()).collect();
    for chunk in people.chunks(50_000) {
        writer.write(chunk.to_vec()).await?;
    }
    drop(writer);
    let ids = store.person_ids_by_documents(&documents).await?;
    let person_ids: Vec<i64> = documents.iter().map(|d| ids[d]).collect();
    let area = AreaCode::parse(county::COUNTY_CODE)?;
    let venues: Vec<NewVenue> = (0..city.venues)
        .map(|v| NewVenue { code: venue_code(v), name: format!("场所{v}"), area_code: area.clone(), address: None })
        .collect();
    store.upsert_venues(&venues).await?;
    let codes: Vec<String> = venues.iter().map(|v| v.code.clone()).collect();
    let by_code: HashMap<String, i64> = store.venue_ids(&codes).await?;
    let venue_ids = codes.iter().map(|c| by_code[c]).collect();
    Ok((person_ids, venue_ids, documents))
}

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let city = City { people: ((1_000_000.0 * scale).round() as u32).max(2_000), venues: ((50_000.0 * scale).round() as u32).max(100) };
    let total = city.scans();
    let (s, store) = scratch(kind, server).await?;
    let (person_ids, venue_ids, documents) = populate(&store, &city).await?;

    // The raw limit first, in its own database: the same rows, ids already known.
    let (raw_s, raw_store) = scratch(kind, server).await?;
    raw_store.checkpoint().await?;
    let started = Instant::now();
    let mut scans = Vec::new();
    let mut rows = Vec::with_capacity(50_000);
    for d in 0..DAYS {
        for p in 0..city.people {
            scans.clear();
            city.day(p, d, &mut scans);
            for sc in &scans {
                let at = DAY0 + i64::from(sc.day) * DAY + i64::from(sc.at);
                rows.push(CheckIn {
                    person_id: person_ids[sc.person as usize],
                    venue_id: venue_ids[sc.venue as usize],
                    at,
                    left: sc.stay.map(|st| at + i64::from(st)),
                });
            }
            if rows.len() >= 50_000 {
                raw_store.insert_checkins_plain(std::mem::take(&mut rows)).await?;
            }
        }
    }
    raw_store.insert_checkins_plain(rows).await?;
    let raw_secs = started.elapsed().as_secs_f64();
    raw_s.finish(raw_store).await?;

    // The product's path: the CSV import, with the contact graph (empty) in use from the start.
    store.build_contact_graph().await?;
    store.checkpoint().await?;
    let started = Instant::now();
    let feed = ScanFeed::new(city, Arc::new(documents));
    let maker = cordon_store::checkins::import_checkins(&store, feed, &mut cordon_store::import::Quiet).await?;
    let secs = started.elapsed().as_secs_f64();
    if maker.inserted != total || maker.invalid_rows != 0 {
        bail!("the import stored {} of {total} scans ({} invalid)", maker.inserted, maker.invalid_rows);
    }
    let status = store.contact_graph_status().await?;
    if status != (cordon_store::contacts::GraphStatus::Ready { scans: total }) {
        bail!("the contact graph did not keep up with the import: {status:?}");
    }
    let mut out = Vec::new();
    if wanted("checkin_ingest") {
        let m = Measurement {
            bench: "checkin_ingest",
            backend: kind.as_str(),
            rows: total,
            rate: total as f64 / secs,
            raw_rate: total as f64 / raw_secs,
            ratio: raw_secs / secs,
            peak_rss_mb: peak_rss_mb(),
            ..Default::default()
        };
        // Said at once: the rings that follow take a while on a full-scale city.
        eprintln!("checkin_ingest {}: {:.0} scans/s, raw {:.0}/s ({:.2})", m.backend, m.rate, m.raw_rate, m.ratio);
        out.push(m);
    }

    if wanted("contact_rings") {
        // Statistics as a live server would have them after a load this size, for both sides.
        store.checkpoint().await?;
        // A case with onset on 12 April, isolated on the 14th: the window runs from midnight
        // on the 10th (two days before onset) to midnight after the 14th.
        let window = (Utc.timestamp_opt(DAY0 + 9 * DAY, 0).unwrap(), Utc.timestamp_opt(DAY0 + 14 * DAY, 0).unwrap());
        let stay = Duration::minutes(60);
        let mut rng = Rng::new(99);
        let pick: Vec<i64> = (0..200).map(|_| person_ids[rng.range(0, city.people - 1) as usize]).collect();
        let sizes = std::cell::Cell::new((0usize, 0usize));
        let got = latencies(pick.len(), |i| {
            let (store, person, sizes) = (&store, pick[i], &sizes);
            async move {
                let r = store.contact_rings(person, window, stay).await?;
                let (a, b) = sizes.get();
                sizes.set((a + r.first.len(), b + r.second.len()));
                Ok(())
            }
        })
        .await?;
        let sizes = sizes.get();
        // The self-join is slow: a tenth as many look-ups, each checked against the graph.
        let sql_picks = &pick[..pick.len() / 10];
        let raw = latencies(sql_picks.len(), |i| {
            let (store, person) = (&store, sql_picks[i]);
            async move {
                let sql = store.contact_rings_sql(person, window, stay).await?;
                if sql != store.contact_rings(person, window, stay).await? {
                    bail!("the graph and the self-join disagree for person {person}");
                }
                Ok(())
            }
        })
        .await?;
        eprintln!(
            "contact_rings {}: first ring {} people, second ring {} on average",
            kind.as_str(),
            sizes.0 / pick.len(),
            sizes.1 / pick.len()
        );
        out.push(latency_measurement("contact_rings", kind, &got, &raw));
        // Rebuilding the graph from the store, as a server does when it starts.
        let fresh = Store::open(&s.url).await?;
        let started = Instant::now();
        let held = fresh.build_contact_graph().await?;
        eprintln!("contact graph {}: {held} scans read from the store in {:.1} s", kind.as_str(), started.elapsed().as_secs_f64());
        fresh.close().await;
    }
    s.finish(store).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_is_a_check_in_file_of_every_scan() {
        let city = City { people: 30, venues: 10 };
        let documents: Vec<String> = (0..30).map(|i| format!("D{i}")).collect();
        let mut text = String::new();
        ScanFeed::new(city, Arc::new(documents)).read_to_string(&mut text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, city.scans() + 1);
        assert_eq!(lines[0], "身份证号,场所码,扫码时间,离开时间");
        assert!(lines[1].starts_with("D0,V0000") && lines[1].contains(",2022-04-01 "), "{}", lines[1]);
        assert!(lines.last().unwrap().starts_with("D29,") && lines.last().unwrap().contains(",2022-04-14 "));
    }

    #[tokio::test]
    async fn checkin_benches_run_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let ms = run(BackendKind::Sqlite, None, 0.002, &all).await.unwrap();
        let names: Vec<&str> = ms.iter().map(|m| m.bench).collect();
        assert_eq!(names, ["checkin_ingest", "contact_rings"]);
        assert_eq!(ms[0].rows, 2_000 * 70);
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0));
        let pg = cordon_store::scratch::test_pg_url();
        match run(BackendKind::Postgres, Some(&pg), 0.002, &all).await {
            Ok(ms) => assert_eq!((ms.len(), ms[1].backend), (2, "postgres")),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
