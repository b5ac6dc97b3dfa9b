//! The one writer of per-request writes on SQLite: a thread of its own holding a connection,
//! which takes the writes waiting for it as a group — one transaction, a savepoint for each
//! request, one commit (one sync to disk) for them all — and answers each request only after its
//! group's commit. A request refused or failed rolls back to its savepoint; the others commit.
//! Reads a write depends on happen inside it, on this connection, so they see every write
//! before it, committed or still in the group.

use std::any::Any;
use std::path::Path;
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

type Output = Box<dyn Any + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Result<Output> + Send>;

struct Request {
    job: Job,
    reply: tokio::sync::oneshot::Sender<Result<Output>>,
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
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |c| write(c).map(|t| Box::new(t) as Output));
        self.requests.send(Request { job, reply }).map_err(|_| stopped())?;
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

fn write_group(conn: &mut Connection, group: Vec<Request>) -> Replies {
    let failed = |group: Vec<Request>, e: &dyn std::fmt::Display| -> Replies {
        group.into_iter().map(|r| (r.reply, Err(StoreError::Task(format!("the write was not committed: {e}"))))).collect()
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return failed(group, &e),
    };
    let mut out: Replies = Vec::with_capacity(group.len());
    for Request { job, reply } in group {
        let result = match tx.savepoint() {
            Err(e) => Err(StoreError::from(e)),
            Ok(sp) => {
                // A job that panics is a failed request, not a dead writer.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&sp)))
                    .unwrap_or_else(|_| Err(StoreError::Task("the write failed unexpectedly".into())));
                match ran {
                    Ok(v) => sp.commit().map(|()| v).map_err(StoreError::from),
                    // Dropped without commit: rolled back to the savepoint.
                    Err(e) => Err(e),
                }
            }
        };
        out.push((reply, result));
    }
    match tx.commit() {
        Ok(()) => out,
        Err(e) => out
            .into_iter()
            .map(|(reply, r)| (reply, r.and_then(|_| Err(StoreError::Task(format!("the write was not committed: {e}"))))))
            .collect(),
    }
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
}
