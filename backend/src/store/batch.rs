//! Group commit for the SQLite writer (issue 15).
//!
//! Every write is a job sent to one writer thread. The thread takes the first job waiting, locks
//! the writer connection, then takes every other job already waiting (at most [`MAX_BATCH`] in
//! all, jobs arriving while it runs included) and runs them in ONE transaction, each inside its
//! own `SAVEPOINT`: a job that fails is rolled back alone and its caller gets its own error, the
//! others go on. Then ONE `COMMIT` (one
//! fsync with `synchronous=FULL`), and only then is each caller answered: an `Ok` means the write
//! is on disk. If the commit itself fails, every caller whose job succeeded gets that failure.
//!
//! A job sent with [`Batcher::run_unsynced`] needs to be visible at once but not to survive a
//! power cut on its own (an invoice's reservation: see [`crate::store`]). A batch of only such
//! jobs commits with `synchronous=NORMAL`: in WAL mode the commit is written to the WAL (so it is
//! visible, and survives the process being killed) without an fsync. The next synced commit's
//! fsync of the WAL file covers it too, and the WAL is replayed only up to its first torn frame,
//! so what a power cut can lose is a suffix of unsynced commits, never a synced one. Between
//! batches the connection is always back at the setting it had at start (`FULL` for the store),
//! so writes made on it outside the batcher stay durable.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::StoreError;

/// At most this many jobs share one transaction.
pub const MAX_BATCH: usize = 256;

/// Answers the caller once the batch's fate is known (`Err` = the commit failed).
type Answer = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// Runs one job on the connection: whether it succeeded, and how to answer its caller.
/// `Err` when its transaction or savepoint could not begin (the job then does not run).
type Run = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> (bool, Answer) + Send>;

/// A job and whether its commit must be synced to disk before its caller is answered.
struct Job {
    synced: bool,
    run: Run,
}

/// The writer thread and its queue.
pub struct Batcher {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<Counts>,
}

/// What the writer thread has done so far.
#[derive(Debug, Default)]
struct Counts {
    submitted: AtomicU64,
    commits: AtomicU64,
    unsynced_commits: AtomicU64,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Batcher {
    /// Start the writer thread on `conn` (others may lock it too, between batches).
    pub fn start(conn: Arc<Mutex<Connection>>) -> std::io::Result<Self> {
        // The connection's own setting, restored after every unsynced batch. Only in WAL mode is
        // an unsynced commit lost as a whole and only after every synced one (see above):
        // otherwise every batch is synced.
        let (synchronous, wal) = {
            let c = conn.lock().unwrap_or_else(|e| e.into_inner());
            let synchronous: i64 = c
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .map_err(std::io::Error::other)?;
            let mode: String = c
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .map_err(std::io::Error::other)?;
            (synchronous, mode.eq_ignore_ascii_case("wal"))
        };
        let synchronous = if wal { synchronous } else { 0 };
        let (tx, rx) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(&conn, &rx, &c, synchronous))?;
        Ok(Self {
            jobs: Some(tx),
            thread: Some(thread),
            counts,
        })
    }

    /// Run `op` in the next batch; returns once that batch is committed and synced to disk (or
    /// `op` failed).
    pub fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(true, op)
    }

    /// As [`Batcher::run`], but returns once the batch is committed, visible to every connection
    /// and safe from a crash of this process, without waiting for an fsync of its own: it reaches
    /// the disk with the next synced commit (see the module docs). Only for writes whose loss in a
    /// power cut is harmless as long as every synced write after them survives.
    pub fn run_unsynced<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(false, op)
    }

    /// As [`Batcher::run`] (`synced`) or [`Batcher::run_unsynced`], for async callers: the job is
    /// queued now and the future resolves when it is answered, with no thread blocked meanwhile
    /// (a create's writes need no `spawn_blocking` hand-off).
    pub fn queue<T: Send + 'static>(
        &self,
        synced: bool,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let queued = self.enqueue(synced, op, move |r| {
            let _ = tx.send(r);
        });
        async move {
            queued?;
            rx.await.unwrap_or_else(|_| Err(gone()))
        }
    }

    fn submit<T: Send + 'static>(
        &self,
        synced: bool,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel::<Result<T, StoreError>>(1);
        self.enqueue(synced, op, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv().map_err(|_| gone())?
    }

    /// Send `op` to the writer thread; `reply` gets its outcome once its batch's fate is known.
    fn enqueue<T: Send + 'static>(
        &self,
        synced: bool,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        reply: impl FnOnce(Result<T, StoreError>) + Send + 'static,
    ) -> Result<(), StoreError> {
        let run: Run = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| op(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Corrupt("a write panicked".into()))),
                Err(e) => Err(StoreError::Corrupt(format!("could not begin: {e}"))),
            };
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |commit| {
                reply(match (result, commit) {
                    (Ok(_), Err(e)) => Err(StoreError::Corrupt(format!("commit failed: {e}"))),
                    (result, _) => result,
                });
            });
            (ok, answer)
        });
        let job = Job { synced, run };
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        self.counts.submitted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Jobs handed to the writer so far.
    pub fn submitted(&self) -> u64 {
        self.counts.submitted.load(Ordering::SeqCst)
    }

    /// Transactions committed so far (one per batch).
    pub fn commits(&self) -> u64 {
        self.counts.commits.load(Ordering::SeqCst)
    }

    /// Of [`Batcher::commits`], those without an fsync (batches of only unsynced jobs).
    pub fn unsynced_commits(&self) -> u64 {
        self.counts.unsynced_commits.load(Ordering::SeqCst)
    }
}

fn gone() -> StoreError {
    StoreError::Corrupt("the writer thread stopped".into())
}

impl Drop for Batcher {
    fn drop(&mut self) {
        // Closing the queue ends the thread once the jobs already sent are answered.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(conn: &Mutex<Connection>, rx: &Receiver<Job>, counts: &Counts, synchronous: i64) {
    // A synced job that arrived while an unsynced batch ran: it begins the next batch.
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
        // Jobs that arrived while we waited for the lock join this batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Synced unless every job of the batch may go without (and the setting is not lower
        // already; 0 here: not in WAL mode, never relaxed).
        let relaxed = synchronous > 1
            && !batch.iter().any(|j| j.synced)
            && conn.pragma_update(None, "synchronous", "NORMAL").is_ok();
        // Jobs arriving while the batch runs join it too, before its COMMIT (fewer commits: each
        // writes the pages it changed to the WAL once); an unsynced batch takes only unsynced ones.
        let mut more = || -> Option<Job> {
            if held.is_some() {
                return None;
            }
            let job = rx.try_recv().ok()?;
            if relaxed && job.synced {
                held = Some(job);
                return None;
            }
            Some(job)
        };
        run_batch(&conn, batch, &mut more, counts, relaxed);
        if relaxed {
            // Outside any transaction (the batch committed or rolled back), so this cannot be
            // refused; were it ever, the next batch would not be relaxed on a stale setting: the
            // writes outside the batcher are then what is at stake, so stop rather than go on.
            if let Err(e) = conn.pragma_update(None, "synchronous", synchronous) {
                tracing::error!(error = %e, "could not restore synchronous after an unsynced batch; stopping the writer");
                return;
            }
        }
    }
}

fn run_batch(
    conn: &Connection,
    batch: Vec<Job>,
    more: &mut dyn FnMut() -> Option<Job>,
    counts: &Counts,
    relaxed: bool,
) {
    let mut done: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut open = false;
    let mut batch = batch.into_iter();
    let mut taken = 0;
    let mut next = || {
        let job = batch
            .next()
            .or_else(|| if taken < MAX_BATCH { more() } else { None });
        taken += usize::from(job.is_some());
        job
    };
    while let Some(Job { run: job, .. }) = next() {
        if !open {
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                // The job does not run; its answer is this error.
                let (_, answer) = job(Err(&StoreError::from(e)));
                answer(Ok(()));
                continue;
            }
            open = true;
        }
        // Cached statements: a batch runs two per job.
        let (ok, answer) = match conn
            .prepare_cached("SAVEPOINT op")
            .and_then(|mut s| s.execute([]))
        {
            Ok(_) => job(Ok(conn)),
            Err(e) => job(Err(&StoreError::from(e))),
        };
        let kept = if ok {
            conn.prepare_cached("RELEASE op")
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
        } else {
            conn.execute_batch("ROLLBACK TO op; RELEASE op")
        };
        if kept.is_ok() && !conn.is_autocommit() {
            done.push(answer);
            continue;
        }
        // SQLite rolled the whole transaction back (disk full, I/O error): the jobs before this
        // one are lost too; the next job begins a new transaction.
        let e = StoreError::Corrupt("the batch's transaction was rolled back".into());
        answer(if ok { Err(&e) } else { Ok(()) });
        finish(conn, &mut done, Err(e));
        open = false;
    }
    if open {
        let commit = conn.execute_batch("COMMIT").map_err(StoreError::from);
        if commit.is_ok() {
            counts.commits.fetch_add(1, Ordering::SeqCst);
            if relaxed {
                counts.unsynced_commits.fetch_add(1, Ordering::SeqCst);
            }
        }
        finish(conn, &mut done, commit);
    }
}

/// Answer every job of `done` with the outcome of its transaction (rolled back on failure).
fn finish(conn: &Connection, done: &mut Vec<Answer>, outcome: Result<(), StoreError>) {
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for a in done.drain(..) {
        a(outcome.as_ref().map(|_| ()));
    }
}
