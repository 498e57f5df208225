//! The store: one schema on SQLite (default) or PostgreSQL, behind one `Store` type.
//!
//! Queries are written in the SQL both databases share and run through sqlx's `Any` driver, so
//! the same code and the same test suite cover both. Writes that belong together run in one
//! transaction; updates check the row's `revision` so two concurrent updates cannot silently
//! overwrite each other. On SQLite, writers take an in-process lock first: SQLite allows one writer
//! at a time anyway, and queueing here avoids `database is locked` errors under load.

mod accounts;
mod distributions;
mod engine;
mod migrate;
mod packages;
mod services;
mod versions;

use std::{path::Path, sync::Arc, time::Duration};

use sqlx::{
    Any, AnyPool, Transaction,
    any::{AnyConnectOptions, AnyPoolOptions},
};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use accounts::{NewAccountToken, TokenOwner};
pub use distributions::CopyUpdate;
pub use engine::{CleanupJob, CopyJob, JobSource, JobWrite};

/// Failures of the store. API handlers turn them into responses; `Database` never reaches a
/// client as text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique name is taken, or the row changed since it was read.
    #[error("{0}")]
    Conflict(String),
    /// The row's revision is not the one the caller expected (`If-Match`).
    #[error("revision {expected} does not match current revision {actual}")]
    RevisionMismatch { expected: i64, actual: i64 },
    /// The cause is in the message, not in `source()`, so `{:#}` chains do not repeat it.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl StoreError {
    fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: serialises writers in this process.
    write_lock: Option<Arc<Mutex<()>>>,
}

/// A write transaction (holding the SQLite writer lock while it lives).
pub(crate) struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::open(&url).await
    }

    /// Opens a database by URL (`sqlite://…` or `postgres://…`) and migrates it.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "database URL must start with sqlite:// or postgres://".into(),
            )));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                // One direct connection first: a wrong host, password or database name then
                // fails at once with the server's own reason, not as a pool timeout 30 s later.
                use sqlx::Connection;
                let probe = tokio::time::timeout(
                    Duration::from_secs(10),
                    sqlx::AnyConnection::connect_with(&options),
                )
                .await
                .map_err(|_| {
                    sqlx::Error::Configuration(
                        "no answer from the PostgreSQL server within 10 s (check host and port)"
                            .into(),
                    )
                })??;
                probe.close().await?;
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        let store = Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for reads.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Current time as RFC 3339 with milliseconds, UTC (sorts as text).
pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// A new random ID with a kind prefix: `pkg-` and 20 lowercase letters and digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_key(20))
}

/// `len` random lowercase letters and digits.
pub(crate) fn random_key(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Maps a unique-constraint violation to a conflict with `message`.
pub(crate) fn unique_conflict(err: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::Database(err),
    }
}

/// Keyset pagination arguments: return rows with `id > after`, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub after: Option<String>,
    pub limit: u32,
}

impl PageArgs {
    /// Splits one extra fetched row off into the next page token.
    pub(crate) fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id: impl Fn(&T) -> &str,
    ) -> imagenest_core::api::Page<T> {
        let next = if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        imagenest_core::api::Page {
            items: rows,
            next_page_token: next,
        }
    }

    pub(crate) fn after(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }

    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}
