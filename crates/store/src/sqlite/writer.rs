//! The one writer of per-request writes on SQLite: a thread of its own holding a connection,
//! which takes the writes waiting for it as a group — one transaction, a savepoint for each
//! request that needs one, one commit (one sync to disk) for them all — and answers each request
//! only after its group's commit. A request refused or failed rolls back to its savepoint; the
//! others commit.
//! A request that decides before it writes ([`Writer::write_decided`]: a scan, a tube opened)
//! runs without a savepoint, whose page copies were a tenth of a scan's cost: refused, it has
//! written nothing; if it ever fails having written, its group fails whole.
//! Reads a write depends on happen inside it, on this connection, so they see every write
//! before it, committed or still in the group. Counts the writes add to (a round's coverage)
//! are summed over the group and written once, before its commit ([`Tallies`]).

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

type Output = Box<dyn Any + Send>;
type Job = Box<dyn FnOnce(&Connection, &mut Tallies) -> Result<Output> + Send>;

/// The maintained counts a group of writes adds to, summed over its requests and written once,
/// just before the group's commit: every scan adds one to its area's and its hour's count in the
/// round, and 64 scans in a group touch a few rows, not 128 times. A request refused or failed
/// adds nothing; a write in the group does not see the group's sums before they are written.
#[derive(Default)]
pub(crate) struct Tallies {
    /// (round, area) → (sampled, exempted).
    areas: HashMap<(i64, String), (i64, i64)>,
    /// (round, area, hour as stored) → sampled.
    hours: HashMap<(i64, String, String), i64>,
}

impl Tallies {
    /// Adds to an area's counts in a round (either may be negative).
    pub(crate) fn area(&mut self, round_id: i64, area: &str, sampled: i64, exempted: i64) {
        let counts = self.areas.entry((round_id, area.to_string())).or_default();
        counts.0 += sampled;
        counts.1 += exempted;
    }

    /// Adds people sampled to an area's hour in a round.
    pub(crate) fn hour(&mut self, round_id: i64, area: &str, hour: String, sampled: i64) {
        *self.hours.entry((round_id, area.to_string(), hour)).or_default() += sampled;
    }

    fn merge(&mut self, other: Tallies) {
        for ((round, area), (sampled, exempted)) in other.areas {
            let counts = self.areas.entry((round, area)).or_default();
            counts.0 += sampled;
            counts.1 += exempted;
        }
        for (key, sampled) in other.hours {
            *self.hours.entry(key).or_default() += sampled;
        }
    }

    fn write(&self, c: &Connection) -> Result<()> {
        if self.areas.is_empty() && self.hours.is_empty() {
            return Ok(());
        }
        let mut areas = c.prepare_cached(&crate::sqlite_sql(crate::station::BUMP_COUNTS))?;
        for ((round, area), (sampled, exempted)) in &self.areas {
            areas.execute(rusqlite::params![round, area, sampled, exempted])?;
        }
        let mut hours = c.prepare_cached(&crate::sqlite_sql(crate::station::BUMP_HOUR))?;
        for ((round, area, hour), sampled) in &self.hours {
            hours.execute(rusqlite::params![round, area, hour, sampled])?;
        }
        Ok(())
    }
}

struct Request {
    job: Job,
    undo: Undo,
    reply: tokio::sync::oneshot::Sender<Result<Output>>,
}

/// How a request in a group is undone when it fails.
#[derive(Clone, Copy)]
enum Undo {
    /// Rolled back to a savepoint taken before it.
    Savepoint,
    /// It decides before it writes, so a refusal has nothing to undo; a failure after a write
    /// (which the connection's count of changed rows shows) fails the whole group.
    Decided,
}

/// The most requests committed together.
const GROUP: usize = 512;

/// The handle requests reach the writer through; the writer stops when the last is dropped.
pub(crate) struct Writer {
    requests: mpsc::Sender<Request>,
}

impl Writer {
    /// Opens the writer's connection and starts its thread.
    pub(crate) fn start(path: &Path) -> Result<Writer> {
        let conn = super::open(path)?;
        let (requests, queue) = mpsc::channel::<Request>();
        std::thread::Builder::new().name("cordon-writer".into()).spawn(move || serve(conn, queue))?;
        Ok(Writer { requests })
    }

    /// Runs `write` in the next group and answers once the group is committed.
    pub(crate) async fn write<T: Send + 'static>(&self, write: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> Result<T> {
        self.submit(Undo::Savepoint, move |c, _| write(c)).await
    }

    /// [`Writer::write`] for a write that refuses only before its first change to the database
    /// (reads, decides, then writes): it runs without a savepoint of its own. Should it fail
    /// after a change all the same, its whole group fails and every request in it is told. For
    /// row changes only (INSERT, UPDATE, DELETE — what the connection's count of changes sees):
    /// no schema change, no pragma that writes.
    pub(crate) async fn write_decided<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.submit(Undo::Decided, move |c, _| write(c)).await
    }

    /// [`Writer::write`] for a write that adds to maintained counts: it adds them to the
    /// [`Tallies`] it is given, written with its group's.
    #[cfg(test)]
    pub(crate) async fn write_tallied<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection, &mut Tallies) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.submit(Undo::Savepoint, write).await
    }

    /// [`Writer::write_decided`] for a write that adds to maintained counts (a scan): it adds
    /// them to the [`Tallies`] it is given, written with its group's.
    pub(crate) async fn write_decided_tallied<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection, &mut Tallies) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.submit(Undo::Decided, write).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        undo: Undo,
        write: impl FnOnce(&Connection, &mut Tallies) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |c, t| write(c, t).map(|v| Box::new(v) as Output));
        self.requests.send(Request { job, undo, reply }).map_err(|_| stopped())?;
        let out = answer.await.map_err(|_| stopped())??;
        out.downcast::<T>().map(|t| *t).map_err(|_| StoreError::Task("the writer answered another type".into()))
    }
}

fn stopped() -> StoreError {
    StoreError::Task("the writer stopped".into())
}

fn serve(mut conn: Connection, queue: mpsc::Receiver<Request>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        for (reply, result) in write_group(&mut conn, group) {
            // A request whose caller went away: its write stands, nobody to tell.
            let _ = reply.send(result);
        }
    }
}

type Replies = Vec<(tokio::sync::oneshot::Sender<Result<Output>>, Result<Output>)>;

fn write_group(conn: &mut Connection, mut group: Vec<Request>) -> Replies {
    if group.len() == 1
        && let Some(alone) = group.pop()
    {
        return vec![write_alone(conn, alone)];
    }
    let failed = |group: Vec<Request>, e: &dyn std::fmt::Display| -> Replies {
        group.into_iter().map(|r| (r.reply, Err(StoreError::Task(format!("the write was not committed: {e}"))))).collect()
    };
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return failed(group, &e),
    };
    let mut out: Replies = Vec::with_capacity(group.len());
    let mut tallies = Tallies::default();
    // The savepoint statements prepared once (a request's own cost is a few microseconds; text
    // SQL parsed twice a request would be a good part of it).
    let step = |sql: &str| -> rusqlite::Result<()> { tx.prepare_cached(sql)?.execute([]).map(|_| ()) };
    let roll_back = || step("ROLLBACK TO request").and_then(|()| step("RELEASE request"));
    // Why the group cannot commit: a request's writes that could not be undone, or the
    // transaction gone (SQLite rolls all of it back on a full disk, an I/O error or no memory,
    // and later savepoints would each commit on their own). Every request is then told, and
    // nothing more runs.
    let mut broken: Option<String> = None;
    for Request { job, undo, reply } in group {
        if broken.is_some() {
            out.push((reply, Err(StoreError::Task("the write was not committed".into()))));
            continue;
        }
        let result = match undo {
            Undo::Decided => {
                let before = tx.total_changes();
                let (ran, mine) = run(job, &tx);
                match ran {
                    Ok(v) => {
                        tallies.merge(mine);
                        Ok(v)
                    }
                    Err(e) => {
                        if tx.total_changes() != before {
                            broken = Some(format!("{e}; it failed after a change, which cannot be undone alone"));
                        }
                        Err(e)
                    }
                }
            }
            Undo::Savepoint => match step("SAVEPOINT request") {
                Err(e) => Err(StoreError::from(e)),
                Ok(()) => {
                    let (ran, mine) = run(job, &tx);
                    match ran.and_then(|v| step("RELEASE request").map(|()| v).map_err(StoreError::from)) {
                        Ok(v) => {
                            tallies.merge(mine);
                            Ok(v)
                        }
                        // Rolled back to the savepoint, its counts unadded.
                        Err(e) => {
                            if let Err(undone) = roll_back() {
                                broken = Some(format!("{e}; and it could not be undone: {undone}"));
                            }
                            Err(e)
                        }
                    }
                }
            },
        };
        if broken.is_none() && tx.is_autocommit() {
            broken = Some("the group's transaction ended before its commit".into());
        }
        out.push((reply, result));
    }
    if let Some(e) = broken {
        // Dropped: what is left of the group rolls back, and each request is told.
        return out.into_iter().map(|(reply, _)| (reply, Err(StoreError::Task(format!("the write was not committed: {e}"))))).collect();
    }
    if let Err(e) = tallies.write(&tx) {
        // Dropped: the whole group rolls back, and each request is told.
        return out.into_iter().map(|(reply, _)| (reply, Err(StoreError::Task(format!("the write was not committed: {e}"))))).collect();
    }
    match tx.commit() {
        Ok(()) => out,
        Err(e) => out
            .into_iter()
            .map(|(reply, r)| (reply, r.and_then(|_| Err(StoreError::Task(format!("the write was not committed: {e}"))))))
            .collect(),
    }
}

/// Runs one request's job with the counts it adds; a job that panics is a failed request, not a
/// dead writer.
fn run(job: Job, conn: &Connection) -> (Result<Output>, Tallies) {
    let mut tallies = Tallies::default();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn, &mut tallies)))
        .unwrap_or_else(|_| Err(StoreError::Task("the write failed unexpectedly".into())));
    (ran, tallies)
}

/// A request that came alone: its transaction is its own undo, so it runs without the savepoint
/// a group gives each request (which copies every page the request first touches — a sixth of
/// the writer's time for a case). A request that ended the transaction under it (as SQLite does
/// on a full disk or an I/O error) is told so, and whatever it left is rolled back.
fn write_alone(
    conn: &mut Connection,
    Request { job, reply, .. }: Request,
) -> (tokio::sync::oneshot::Sender<Result<Output>>, Result<Output>) {
    let not_committed = |e: &dyn std::fmt::Display| StoreError::Task(format!("the write was not committed: {e}"));
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return (reply, Err(not_committed(&e))),
    };
    let (ran, tallies) = run(job, &tx);
    // Dropped on any failure: the transaction rolls back.
    let result = ran.and_then(|v| {
        match tx.transaction_state(Some(rusqlite::MAIN_DB)) {
            Ok(rusqlite::TransactionState::Write) => {}
            Ok(_) => return Err(not_committed(&"the request's transaction ended before its commit")),
            Err(e) => return Err(not_committed(&e)),
        }
        tallies.write(&tx).map_err(|e| not_committed(&e))?;
        tx.commit().map_err(|e| not_committed(&e))?;
        Ok(v)
    });
    (reply, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (Writer, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("cordon-writer-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let w = Writer::start(&path).unwrap();
        (w, path)
    }

    #[tokio::test]
    async fn the_writer_keeps_statement_journals_and_temporary_trees_in_memory() {
        let (w, _) = writer();
        // 2 is MEMORY: otherwise a statement journal past 64 KiB (a group's savepoints, a load's
        // INSERT … SELECT) is written to a file.
        let kept: i64 = w.write(|c| Ok(c.query_row("PRAGMA temp_store", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(kept, 2);
    }

    /// A writer on a database with the tables `schema` creates, shared by many requests.
    async fn writer_with(schema: &'static str) -> (std::sync::Arc<Writer>, std::path::PathBuf) {
        let (w, path) = writer();
        w.write(move |c| Ok(c.execute_batch(schema)?)).await.unwrap();
        (std::sync::Arc::new(w), path)
    }

    const T_AND_COUNTS: &str = "CREATE TABLE t (n INTEGER PRIMARY KEY);
         CREATE TABLE round_area_counts (round_id, area_code, sampled, exempted, slot DEFAULT 0, PRIMARY KEY (round_id, area_code, slot));
         CREATE TABLE round_hour_counts (round_id, area_code, hour, sampled, slot DEFAULT 0, PRIMARY KEY (round_id, area_code, hour, slot));";
    const COUNTS_AND_HOURS: &str =
        "CREATE TABLE round_area_counts (round_id, area_code, sampled, exempted, slot DEFAULT 0, PRIMARY KEY (round_id, area_code, slot));
         CREATE TABLE round_hour_counts (round_id, area_code, hour, sampled, slot DEFAULT 0, PRIMARY KEY (round_id, area_code, hour, slot));";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_commit_in_groups_and_a_refused_one_leaves_the_others() {
        let (w, path) = writer();
        w.write(|c| Ok(c.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")?)).await.unwrap();
        let w = std::sync::Arc::new(w);
        let tasks: Vec<_> = (0..200i64)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.write(move |c| {
                        c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                        if n % 10 == 3 {
                            return Err(StoreError::Task("refused".into()));
                        }
                        if n == 7 {
                            panic!("a bug in one request");
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        let mut ok = 0;
        for (n, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(v) => {
                    assert_eq!(v, n as i64);
                    ok += 1;
                }
                Err(_) => assert!(n % 10 == 3 || n == 7, "{n}"),
            }
        }
        assert_eq!(ok, 179);
        // Every answered write is on disk, seen by another connection; no refused one is.
        let other = Connection::open(&path).unwrap();
        let stored: i64 = other.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        let refused: i64 = other.query_row("SELECT COUNT(*) FROM t WHERE n % 10 = 3 OR n = 7", [], |r| r.get(0)).unwrap();
        assert_eq!((stored, refused), (179, 0));
        // A write sees the writes before it in its group.
        let seen = w.write(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)).await.unwrap();
        assert_eq!(seen, 179);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_decided_request_refused_before_a_change_leaves_its_group_and_one_failing_after_a_change_fails_it() {
        // Without savepoints: refusals and a panic before the insert cost nobody else anything;
        // a request that inserts and then fails (it promised not to) takes its group with it, so
        // that nothing is stored that its request was not told Ok for.
        let (w, path) = writer_with(T_AND_COUNTS).await;
        let tasks: Vec<_> = (0..400i64)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.write_decided_tallied(move |c, t| {
                        match n % 10 {
                            3 => return Err(StoreError::Task("refused".into())),
                            7 => panic!("a bug before any change"),
                            _ => {}
                        }
                        c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                        t.area(1, "A", 1, 0);
                        if n % 100 == 50 {
                            return Err(StoreError::Task("refused after a change".into()));
                        }
                        if n % 100 == 91 {
                            panic!("a bug after a change");
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        let mut answered_ok = std::collections::BTreeSet::new();
        for t in tasks {
            if let Ok(n) = t.await.unwrap() {
                answered_ok.insert(n);
            }
        }
        assert!(answered_ok.iter().all(|n| n % 10 != 3 && n % 10 != 7 && n % 100 != 50 && n % 100 != 91), "{answered_ok:?}");
        let other = Connection::open(&path).unwrap();
        let stored: std::collections::BTreeSet<i64> =
            other.prepare("SELECT n FROM t").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(stored, answered_ok, "told Ok exactly when stored");
        let counted: i64 = other.query_row("SELECT COALESCE(SUM(sampled), 0) FROM round_area_counts", [], |r| r.get(0)).unwrap();
        assert_eq!(counted as usize, answered_ok.len(), "counted exactly what was stored");
        // One at a time (each its own transaction): the same, and the refused after a change
        // leaves nothing.
        for n in [1000, 1003, 1050] {
            let answer = w
                .write_decided(move |c| {
                    if n == 1003 {
                        return Err(StoreError::Task("refused".into()));
                    }
                    c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                    if n == 1050 {
                        return Err(StoreError::Task("refused after a change".into()));
                    }
                    Ok(n)
                })
                .await;
            assert_eq!(answer.is_ok(), n == 1000, "{n}");
        }
        let late: Vec<i64> =
            other.prepare("SELECT n FROM t WHERE n >= 1000").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(late, [1000]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_ends_the_groups_transaction_fails_the_group_and_nothing_of_it_stays() {
        // As SQLite does on a full disk or an I/O error: the whole transaction rolled back under
        // the group. Whatever the grouping, a request is answered Ok exactly when it is stored.
        let (w, path) = writer_with(T_AND_COUNTS).await;
        let tasks: Vec<_> = (0..300i64)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.write_tallied(move |c, t| {
                        c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                        t.area(1, "A", 1, 0);
                        if n % 50 == 25 {
                            // The transaction gone, and (the worst case) a savepoint of the same
                            // name begun again outside it, so that its release succeeds.
                            c.execute_batch("ROLLBACK; SAVEPOINT request")?;
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        let mut answered_ok = std::collections::BTreeSet::new();
        for t in tasks {
            if let Ok(n) = t.await.unwrap() {
                answered_ok.insert(n);
            }
        }
        // The six are never told Ok; a group holding one of them goes with it (how many that
        // takes depends on how the requests grouped: all 300 may be in the six's groups, and a
        // request alone takes nobody with it).
        assert!(answered_ok.iter().all(|n| n % 50 != 25), "{answered_ok:?}");
        let other = Connection::open(&path).unwrap();
        let stored: std::collections::BTreeSet<i64> =
            other.prepare("SELECT n FROM t").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(stored, answered_ok, "told Ok exactly when stored");
        let counted: i64 = other.query_row("SELECT COALESCE(SUM(sampled), 0) FROM round_area_counts", [], |r| r.get(0)).unwrap();
        assert_eq!(counted as usize, answered_ok.len(), "counted exactly what was stored");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_alone_that_ends_its_transaction_is_refused_and_nothing_of_it_stays() {
        // One at a time, each request is a group of its own (no savepoint of its own): told Ok
        // exactly when stored, whatever it did to the transaction under it.
        let (w, path) = writer_with(T_AND_COUNTS).await;
        let mut answered_ok = std::collections::BTreeSet::new();
        for n in 0..40i64 {
            let answer = w
                .write_tallied(move |c, t| {
                    c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                    t.area(1, "A", 1, 0);
                    match n % 10 {
                        // The transaction gone, and a savepoint begun again outside it.
                        3 => c.execute_batch("ROLLBACK; SAVEPOINT request")?,
                        // The transaction gone, and nothing in its place.
                        6 => c.execute_batch("ROLLBACK")?,
                        // Refused: its insert undone.
                        9 => return Err(StoreError::Task("refused".into())),
                        _ => {}
                    }
                    Ok(n)
                })
                .await;
            if let Ok(n) = answer {
                answered_ok.insert(n);
            }
        }
        assert_eq!(answered_ok.len(), 28, "{answered_ok:?}");
        let other = Connection::open(&path).unwrap();
        let stored: std::collections::BTreeSet<i64> =
            other.prepare("SELECT n FROM t").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(stored, answered_ok, "told Ok exactly when stored");
        let counted: i64 = other.query_row("SELECT COALESCE(SUM(sampled), 0) FROM round_area_counts", [], |r| r.get(0)).unwrap();
        assert_eq!(counted, 28, "counted exactly what was stored");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_writes_the_counts_of_the_requests_that_committed_once() {
        let (w, path) = writer_with(COUNTS_AND_HOURS).await;
        let tasks: Vec<_> = (0..300i64)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.write_tallied(move |_, t| {
                        t.area(1, &format!("A{}", n % 3), 1, -(n % 2));
                        t.hour(1, &format!("A{}", n % 3), "2022-04-13T09:00:00+00:00".into(), 1);
                        match n % 10 {
                            3 => Err(StoreError::Task("refused".into())),
                            7 => panic!("a bug in one request"),
                            _ => Ok(()),
                        }
                    })
                    .await
                })
            })
            .collect();
        let mut expected = std::collections::BTreeMap::new();
        for (n, t) in tasks.into_iter().enumerate() {
            if t.await.unwrap().is_ok() {
                let e: &mut (i64, i64) = expected.entry(format!("A{}", n % 3)).or_default();
                e.0 += 1;
                e.1 -= (n % 2) as i64;
            }
        }
        assert_eq!(expected.values().map(|e| e.0).sum::<i64>(), 240);
        let other = Connection::open(&path).unwrap();
        let read = |sql: &str| -> std::collections::BTreeMap<String, (i64, i64)> {
            let mut stmt = other.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(read("SELECT area_code, sampled, exempted FROM round_area_counts"), expected);
        let hours = read("SELECT area_code, sampled, 0 FROM round_hour_counts");
        assert_eq!(hours.values().map(|h| h.0).collect::<Vec<_>>(), expected.values().map(|e| e.0).collect::<Vec<_>>());
    }
}
