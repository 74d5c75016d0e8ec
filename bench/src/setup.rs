//! The run on one backend: its pool, and on PostgreSQL and MySQL the
//! scratch database created before and dropped after; the modes the write
//! benchmark runs there.

use std::str::FromStr;

use awesome_audit_log::Dialect;
use sqlx::{MySql, Postgres, Sqlite};

use crate::Result;
use crate::app_db::AppDb;
use crate::cli::{Args, BackendKind, Target};
use crate::modes::Mode;
use crate::report::{ResultRow, summarize};
use crate::runner::run_all;
use crate::timing::Sample;

fn check_identifier(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && name.len() <= 63 {
        Ok(())
    } else {
        Err(format!("--database {name:?} is not a plain SQL identifier").into())
    }
}

/// The benchmark pool: sqlx's defaults, but for `--test-before-acquire`.
fn pool_options<DB: sqlx::Database>(target: &Target) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new().test_before_acquire(target.test_before_acquire)
}

/// What runs on the pool of one backend, whichever it is.
pub(crate) trait Job {
    type Output;

    async fn run<DB: AppDb>(self, pool: sqlx::Pool<DB>) -> Result<Self::Output>;
}

/// Runs `job` on the backend `target` names: on SQLite in the database
/// file given (or a fresh temporary one), on PostgreSQL and MySQL in a
/// scratch database created before and dropped after.
pub(crate) async fn on_backend<J: Job>(target: &Target, job: J) -> Result<J::Output> {
    match target.backend {
        BackendKind::Sqlite => {
            let scratch = tempfile::tempdir()?;
            let url = match &target.url {
                Some(url) => url.clone(),
                None => format!("sqlite://{}", scratch.path().join("bench.db").display()),
            };
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            let pool = pool_options::<Sqlite>(target).connect_with(options).await?;
            job.run(pool).await
        }
        BackendKind::Postgres => {
            let url = target
                .url
                .as_deref()
                .unwrap_or("postgres://postgres@127.0.0.1:5432/postgres");
            let server = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let scratch = server.clone().database(&target.database);
            on_scratch::<Postgres, J>(target, server, scratch, job).await
        }
        BackendKind::Mysql => {
            let url = target
                .url
                .as_deref()
                .unwrap_or("mysql://root@127.0.0.1:3306");
            let server = sqlx::mysql::MySqlConnectOptions::from_str(url)?;
            let scratch = server.clone().database(&target.database);
            on_scratch::<MySql, J>(target, server, scratch, job).await
        }
    }
}

/// Runs `job` in the scratch database `--database` on a server: drops and
/// creates it (as `server` connects), runs `job` on a pool opened with
/// `scratch`, then drops the database again, whatever the job's result.
async fn on_scratch<DB: AppDb, J: Job>(
    target: &Target,
    server: <DB::Connection as sqlx::Connection>::Options,
    scratch: <DB::Connection as sqlx::Connection>::Options,
    job: J,
) -> Result<J::Output> {
    let name = &target.database;
    check_identifier(name)?;
    let (quoted, force) = match DB::DIALECT {
        Dialect::Postgres => (name.clone(), " WITH (FORCE)"),
        Dialect::MySql | Dialect::Sqlite => (format!("`{name}`"), ""),
    };
    let drop = format!("DROP DATABASE IF EXISTS {quoted}{force}");
    let admin = sqlx::Pool::<DB>::connect_with(server).await?;
    DB::execute(&admin, &drop).await?;
    DB::execute(&admin, &format!("CREATE DATABASE {quoted}")).await?;
    let result = match pool_options::<DB>(target).connect_with(scratch).await {
        Ok(pool) => job.run(pool).await,
        Err(e) => Err(e.into()),
    };
    DB::execute(&admin, &drop).await?;
    admin.close().await;
    result
}

/// The write benchmark on the pool of one backend.
struct Writes<'a> {
    args: &'a Args,
    modes: Vec<Mode>,
}

impl Job for Writes<'_> {
    type Output = (Vec<Sample>, String);

    async fn run<DB: AppDb>(self, pool: sqlx::Pool<DB>) -> Result<Self::Output> {
        run_all(pool, self.args, &self.modes).await
    }
}

/// The write benchmark: every mode on the backend `args` names.
pub(crate) async fn run(args: &Args) -> Result<Vec<ResultRow>> {
    if args.n == 0 || args.reps == 0 {
        return Err("--n and --reps must be at least 1".into());
    }
    let mut modes: Vec<Mode> = if args.modes.is_empty() {
        Mode::ALL.to_vec()
    } else {
        args.modes.clone()
    };
    let backend = args.target.backend;
    if args.per_tx == 0 {
        return Err("--per-tx must be at least 1".into());
    }
    modes.sort();
    modes.dedup();
    let (samples, version) = on_backend(&args.target, Writes { args, modes }).await?;
    Ok(summarize(
        &samples,
        backend,
        args.n,
        args.reps,
        args.per_tx,
        &version,
    ))
}
