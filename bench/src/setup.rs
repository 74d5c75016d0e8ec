//! The run on one backend: the modes it has, its pool, and on PostgreSQL
//! and MySQL the scratch database created before and dropped after.

use std::str::FromStr;

use sqlx::{MySql, Postgres, Sqlite};

use crate::Result;
use crate::cli::{Args, BackendKind};
use crate::modes::Mode;
use crate::report::{ResultRow, summarize};
use crate::runner::run_all;

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
fn pool_options<DB: sqlx::Database>(args: &Args) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new().test_before_acquire(args.test_before_acquire)
}

pub(crate) async fn run(args: &Args) -> Result<Vec<ResultRow>> {
    if args.n == 0 || args.reps == 0 {
        return Err("--n and --reps must be at least 1".into());
    }
    let mut modes: Vec<Mode> = if args.modes.is_empty() {
        Mode::ALL.to_vec()
    } else {
        args.modes.clone()
    };
    if args.backend != BackendKind::Postgres {
        if args.modes.contains(&Mode::Trigger) {
            return Err("mode `trigger` is PostgreSQL only".into());
        }
        modes.retain(|m| *m != Mode::Trigger);
    }
    modes.sort();
    modes.dedup();

    let (samples, version) = match args.backend {
        BackendKind::Sqlite => {
            let scratch = tempfile::tempdir()?;
            let url = match &args.url {
                Some(url) => url.clone(),
                None => format!("sqlite://{}", scratch.path().join("bench.db").display()),
            };
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            let pool = pool_options::<Sqlite>(args).connect_with(options).await?;
            run_all(pool, args, &modes).await?
        }
        BackendKind::Postgres => {
            check_identifier(&args.database)?;
            let url = args
                .url
                .as_deref()
                .unwrap_or("postgres://postgres@127.0.0.1:5432/postgres");
            let server = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let admin = sqlx::PgPool::connect_with(server.clone()).await?;
            let db = &args.database;
            for sql in [
                format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                format!("CREATE DATABASE {db}"),
            ] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&admin)
                    .await?;
            }
            let result = match pool_options::<Postgres>(args)
                .connect_with(server.database(db))
                .await
            {
                Ok(pool) => run_all(pool, args, &modes).await,
                Err(e) => Err(e.into()),
            };
            let drop_db = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop_db))
                .execute(&admin)
                .await?;
            admin.close().await;
            result?
        }
        BackendKind::Mysql => {
            check_identifier(&args.database)?;
            let url = args.url.as_deref().unwrap_or("mysql://root@127.0.0.1:3306");
            let server = sqlx::mysql::MySqlConnectOptions::from_str(url)?;
            let admin = sqlx::MySqlPool::connect_with(server.clone()).await?;
            let db = &args.database;
            for sql in [
                format!("DROP DATABASE IF EXISTS `{db}`"),
                format!("CREATE DATABASE `{db}`"),
            ] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&admin)
                    .await?;
            }
            let result = match pool_options::<MySql>(args)
                .connect_with(server.database(db))
                .await
            {
                Ok(pool) => run_all(pool, args, &modes).await,
                Err(e) => Err(e.into()),
            };
            let drop_db = format!("DROP DATABASE IF EXISTS `{db}`");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop_db))
                .execute(&admin)
                .await?;
            admin.close().await;
            result?
        }
    };
    Ok(summarize(
        &samples,
        args.backend,
        args.n,
        args.reps,
        &version,
    ))
}
