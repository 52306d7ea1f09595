//! The database: SQLite by default, PostgreSQL when the URL says so. Queries go through one
//! `AnyPool` with `$n` placeholders, which both engines accept, so each query is written once.

use crate::error::AppError;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{AnyPool, PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite write waits for another to finish before it fails.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_BUSY_TIMEOUT_PRAGMA: &str = "PRAGMA busy_timeout = 10000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }
}

/// The engine-specific pool, kept for what needs the concrete type: migrations and the
/// session store.
#[derive(Clone, Debug)]
pub enum NativePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub native: NativePool,
    /// The turn of the batch writers on SQLite (`Db::batch_turn`).
    batch_writers: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A batch writer's turn at SQLite's write lock; nothing on PostgreSQL.
pub type BatchTurn<'a> = Option<tokio::sync::MutexGuard<'a, ()>>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("cannot create the folder for the SQLite file {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects and brings the schema up to date; fails fast when either cannot be done.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let native = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(DbError::Connect)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                if let Some(folder) = options.get_filename().parent() {
                    if !folder.as_os_str().is_empty() {
                        std::fs::create_dir_all(folder).map_err(|source| DbError::Folder {
                            path: options.get_filename().display().to_string(),
                            source,
                        })?;
                    }
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(DbError::Connect)?;
                SQLITE_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(DbError::Migrate)?;
                NativePool::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
                // One connection first: a pool retries until its timeout and then says only
                // "pool timed out"; this says why (connection refused, bad password…) at once.
                use sqlx::Connection;
                sqlx::PgConnection::connect_with(&options)
                    .await
                    .map_err(DbError::Connect)?
                    .close()
                    .await
                    .map_err(DbError::Connect)?;
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(DbError::Connect)?;
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(DbError::Migrate)?;
                NativePool::Postgres(pool)
            }
        };
        let sqlite = matches!(native, NativePool::Sqlite(_));
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // The URL carries no busy timeout (sqlx would use 5 s): every connection
                    // waits for a lock as long as the native pool's do.
                    if sqlite {
                        sqlx::query(SQLITE_BUSY_TIMEOUT_PRAGMA)
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(DbError::Connect)?;
        Ok(Db {
            pool,
            native,
            batch_writers: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.native {
            NativePool::Sqlite(_) => Backend::Sqlite,
            NativePool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads before it writes cannot upgrade once another connection
    /// has committed in between, and SQLite then fails at once instead of waiting its turn.
    #[tracing::instrument(skip_all)]
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend() {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Waits for this batch writer's turn (check-ins, reports, offers), held until its
    /// transaction ends. SQLite has one write lock, and a writer that finds it taken sleeps
    /// (1, 2, 5 … 100 ms) and tries again: while the check-ins of a burst were written back to
    /// back, reports kept missing the moments the lock was free and waited hundreds of
    /// milliseconds. Queued here, first come first served, a report waits for at most the
    /// transaction in progress. PostgreSQL locks rows, not the database: no turn is needed.
    pub async fn batch_turn(&self) -> BatchTurn<'_> {
        match self.backend() {
            Backend::Sqlite => Some(self.batch_writers.lock().await),
            Backend::Postgres => None,
        }
    }

    /// True when the database answers a trivial query (for `/readyz`).
    #[tracing::instrument(skip_all)]
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// A connection of its own that hears PostgreSQL `NOTIFY`s on `channel`.
#[tracing::instrument(skip_all)]
pub async fn pg_listener(
    pool: &PgPool,
    channel: &str,
) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// A stored value, decoded. Sluice writes these columns only from its own types, so a value
/// that does not decode means the database was edited by hand or by another version: an error
/// that says where it is, never a silent default.
pub fn stored<T, E: std::fmt::Display>(
    table: &'static str,
    column: &'static str,
    value: &str,
    decoded: Result<T, E>,
) -> Result<T, AppError> {
    decoded.map_err(|e| {
        tracing::error!(table, column, value, error = %e, "a stored value does not decode");
        AppError::Internal
    })
}

/// What `stored` says of a value that names no known variant.
pub const UNKNOWN: &str = "not a known value";

/// The `VALUES` list of a multi-row statement: `rows` tuples of `per_row` parameters, bound
/// row after row, column after column. SQLite gets anonymous `?` placeholders: sqlx finds the
/// value of a named one (`$n`) by asking SQLite its name, which SQLite looks up by scanning the
/// statement's parameters, so a statement of 3,600 `$n` cost millions of steps to bind (it was
/// a seventh of the update check's CPU, in the check-ins' flush).
pub fn values_list(backend: Backend, rows: usize, per_row: usize) -> String {
    let tuple = |row: usize| -> String {
        let params: Vec<String> = (1..=per_row)
            .map(|column| match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${}", row * per_row + column),
            })
            .collect();
        format!("({})", params.join(", "))
    };
    (0..rows).map(tuple).collect::<Vec<_>>().join(", ")
}

impl Backend {
    /// The engine behind a connection of the `Any` pool.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

/// True when the error is a unique-constraint violation (the same on both engines).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_number_their_parameters_row_after_row() {
        assert_eq!(
            values_list(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values_list(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(values_list(Backend::Postgres, 0, 3), "");
    }
}
