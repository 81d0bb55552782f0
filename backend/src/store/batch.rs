//! Group commit for the SQLite writer (issue 15).
//!
//! Every write is a job sent to one writer thread. The thread takes the first job waiting, locks
//! the writer connection, then takes every other job already waiting (at most [`MAX_BATCH`] in
//! all) and runs them in ONE transaction, each inside its own `SAVEPOINT`: a job that fails is
//! rolled back alone and its caller gets its own error, the others go on. Then ONE `COMMIT` (one
//! fsync with `synchronous=FULL`), and only then is each caller answered: an `Ok` means the write
//! is on disk. If the commit itself fails, every caller whose job succeeded gets that failure.

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
type Job = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> (bool, Answer) + Send>;

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
        let (tx, rx) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(&conn, &rx, &c))?;
        Ok(Self {
            jobs: Some(tx),
            thread: Some(thread),
            counts,
        })
    }

    /// Run `op` in the next batch; returns once that batch is committed (or `op` failed).
    pub fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel::<Result<T, StoreError>>(1);
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| op(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Corrupt("a write panicked".into()))),
                Err(e) => Err(StoreError::Corrupt(format!("could not begin: {e}"))),
            };
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |commit| {
                let _ = tx.send(match (result, commit) {
                    (Ok(_), Err(e)) => Err(StoreError::Corrupt(format!("commit failed: {e}"))),
                    (result, _) => result,
                });
            });
            (ok, answer)
        });
        let gone = || StoreError::Corrupt("the writer thread stopped".into());
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        self.counts.submitted.fetch_add(1, Ordering::SeqCst);
        rx.recv().map_err(|_| gone())?
    }

    /// Jobs handed to the writer so far.
    pub fn submitted(&self) -> u64 {
        self.counts.submitted.load(Ordering::SeqCst)
    }

    /// Transactions committed so far (one per batch).
    pub fn commits(&self) -> u64 {
        self.counts.commits.load(Ordering::SeqCst)
    }
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

fn writer_loop(conn: &Mutex<Connection>, rx: &Receiver<Job>, counts: &Counts) {
    while let Ok(first) = rx.recv() {
        let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
        // Jobs that arrived while we waited for the lock join this batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, counts);
    }
}

fn run_batch(conn: &Connection, batch: Vec<Job>, counts: &Counts) {
    let mut done: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut open = false;
    for job in batch {
        if !open {
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                // The job does not run; its answer is this error.
                let (_, answer) = job(Err(&StoreError::from(e)));
                answer(Ok(()));
                continue;
            }
            open = true;
        }
        let (ok, answer) = match conn.execute_batch("SAVEPOINT op") {
            Ok(()) => job(Ok(conn)),
            Err(e) => job(Err(&StoreError::from(e))),
        };
        let kept = if ok {
            conn.execute_batch("RELEASE op")
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
