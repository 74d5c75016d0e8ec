//! What auditing costs, side by side with writing alone.
//!
//! ```text
//! cargo run --release --example bench -- --backend sqlite
//! cargo run --release --example bench -- --backend postgres --url postgres://postgres@127.0.0.1:5432/postgres
//! cargo run --release --example bench -- --backend mysql --url mysql://root@127.0.0.1:3306 --json mysql.json
//! ```
//!
//! For each mode the program creates a fresh `widget` table and a fresh
//! `widget_log`, then runs N inserts, N updates of one field and N deletes,
//! each its own autocommitted statement (as one web request would), with
//! the modes interleaved across repetitions. It reports per phase the median
//! ops/s, the median ratio of elapsed time to the baseline mode of the same
//! repetition, and the CPU time of this process per operation. After each
//! mode it counts the log rows and exits non-zero on a mismatch.
//!
//! On PostgreSQL and MySQL/MariaDB `--url` names the server: the program
//! creates its own database there (`--database`, default `aal_bench`) and
//! drops it at the end. On SQLite `--url` names the database file (default:
//! a fresh temporary file); `widget` and `widget_log` in it are dropped and
//! recreated. Every `AWESOME_AUDIT_LOG_*` variable is honoured (ASYNC is
//! set per mode), so other settings can be measured too. See BENCHMARKS.md
//! for what the modes and figures mean.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use awesome_audit_log::chrono::{DateTime, SubsecRound, Utc};
use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{
    AuditConfig, AuditDatabase, Auditor, Database, Dialect, LogOutcome, audited,
};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use sqlx::{MySql, Postgres, Sqlite};

type BoxError = Box<dyn StdError + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// The audited model: a row of the benchmark's `widget` table.
#[audited(table = "widget", label = "bench.widget")]
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Quantity in stock: the field the update phase changes.
    pub qty: i32,
    /// Unit price.
    pub price: f64,
    /// Whether it is for sale.
    pub active: bool,
    /// Last change (UTC, microseconds).
    pub updated_at: DateTime<Utc>,
}

/// Measures the cost of audit logging against the same writes without it.
#[derive(Parser, Debug)]
#[command(name = "bench", version)]
struct Args {
    /// The database kind.
    #[arg(long, value_enum, default_value_t = BackendKind::Sqlite)]
    backend: BackendKind,
    /// SQLite: the database URL (default: a fresh temporary file), opened
    /// in WAL mode.
    /// PostgreSQL / MySQL: the server URL; the bench creates `--database`
    /// there and drops it afterwards (default: the server on 127.0.0.1).
    #[arg(long)]
    url: Option<String>,
    /// Changes per phase.
    #[arg(long, default_value_t = 3000)]
    n: usize,
    /// Repetitions; each runs every mode once, in a rotating order.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Writes the results as a JSON array, one object per (backend, mode, phase).
    #[arg(long)]
    json: Option<PathBuf>,
    /// PostgreSQL / MySQL: the scratch database the bench creates and drops.
    #[arg(long, default_value = "aal_bench")]
    database: String,
    /// Rows per multi-row statement in the batch modes.
    #[arg(long, default_value_t = 500)]
    chunk: usize,
    /// Modes to run, comma-separated (default: every mode the backend has).
    #[arg(long, value_enum, value_delimiter = ',')]
    modes: Vec<Mode>,
    /// Changes per phase of the untimed warm-up pass of every mode (0: none).
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Worker threads of the tokio runtime (default: one per core).
    #[arg(long)]
    worker_threads: Option<usize>,
    /// sqlx's `test_before_acquire` of the pool, shared by the application
    /// and the auditor: `true` (sqlx's default) pings each connection taken
    /// from the pool, one more round trip per autocommitted statement.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    test_before_acquire: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    Sqlite,
    Postgres,
    Mysql,
}

impl BackendKind {
    fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::Mysql => "mysql",
        }
    }
}

/// One way of writing (and logging) the N changes of each phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Mode {
    /// The writes alone: the baseline of the per-statement modes.
    #[value(name = "none")]
    None,
    /// Each write, then `Widget::log_change` (its own autocommitted INSERT).
    #[value(name = "sync")]
    Sync,
    /// Each write and `Widget::log_change_in` in one `AuditTransaction`, committed.
    #[value(name = "sync_tx")]
    SyncTx,
    /// Each write, then `Widget::log_change` with ASYNC on: the row goes to
    /// the background writer. Reported twice: `async` until the caller is
    /// done, `async_flushed` until `auditor.flush()` returns.
    #[value(name = "async")]
    Async,
    /// `Widget::log_change` with ASYNC on and no writes at all, then
    /// `flush()`: how many log rows per second the background writer drains.
    #[value(name = "async_writer")]
    AsyncWriter,
    // The place of the durable outbox transport (issue 5): a mode `outbox`,
    // each write and `log_change_in` in one transaction with
    // ASYNC_TRANSPORT = "outbox", reported like `async` (until the caller is
    // done) and like `async_flushed` (until an `OutboxWorker` has moved every
    // row into `widget_log`); `Bench::one_change` and `Bench::auditor` get
    // its arm next to `Mode::Async`.
    /// N changes written with one multi-row statement per chunk: the
    /// baseline of `batch`.
    #[value(name = "batch_none")]
    BatchNone,
    /// The same multi-row writes, then all N changes logged with one
    /// `Widget::log_changes` (one multi-row INSERT per chunk).
    #[value(name = "batch")]
    Batch,
    /// PostgreSQL only: the writes alone, with a PL/pgSQL AFTER trigger
    /// writing the same log row, the in-database reference.
    #[value(name = "trigger")]
    Trigger,
}

impl Mode {
    const ALL: [Mode; 8] = [
        Mode::None,
        Mode::Sync,
        Mode::SyncTx,
        Mode::Async,
        Mode::AsyncWriter,
        Mode::BatchNone,
        Mode::Batch,
        Mode::Trigger,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Sync => "sync",
            Mode::SyncTx => "sync_tx",
            Mode::Async => "async",
            Mode::AsyncWriter => "async_writer",
            Mode::BatchNone => "batch_none",
            Mode::Batch => "batch",
            Mode::Trigger => "trigger",
        }
    }

    /// Log rows `widget_log` must hold after the mode ran.
    fn expected_log_rows(self, n: usize) -> usize {
        match self {
            Mode::None | Mode::BatchNone => 0,
            Mode::Sync
            | Mode::SyncTx
            | Mode::Async
            | Mode::AsyncWriter
            | Mode::Batch
            | Mode::Trigger => 3 * n,
        }
    }

    fn is_async(self) -> bool {
        matches!(self, Mode::Async | Mode::AsyncWriter)
    }

    fn is_batch(self) -> bool {
        matches!(self, Mode::BatchNone | Mode::Batch)
    }
}

/// Result labels in display order, each with the label of its baseline.
const LABELS: [(&str, &str); 9] = [
    ("none", "none"),
    ("sync", "none"),
    ("sync_tx", "none"),
    ("async", "none"),
    ("async_flushed", "none"),
    ("async_writer", "none"),
    ("trigger", "none"),
    ("batch_none", "batch_none"),
    ("batch", "batch_none"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Insert,
    Update,
    Delete,
}

impl Phase {
    const ALL: [Phase; 3] = [Phase::Insert, Phase::Update, Phase::Delete];

    fn name(self) -> &'static str {
        match self {
            Phase::Insert => "insert",
            Phase::Update => "update",
            Phase::Delete => "delete",
        }
    }

    /// The `(before, after)` of the change to object `i` in this phase.
    fn pair<'a>(
        self,
        old: &'a Widget,
        new: &'a Widget,
    ) -> (Option<&'a Widget>, Option<&'a Widget>) {
        match self {
            Phase::Insert => (None, Some(old)),
            Phase::Update => (Some(old), Some(new)),
            Phase::Delete => (Some(new), None),
        }
    }
}

/// A timed phase of one mode in one repetition.
#[derive(Debug, Clone)]
struct Sample {
    rep: usize,
    label: &'static str,
    phase: &'static str,
    ops: usize,
    elapsed: Duration,
    cpu: Duration,
}

/// CPU time (user + system) of this process, all threads, so far.
fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// A phase clock: wall time and process CPU time since `start`.
struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    fn start() -> Self {
        Self {
            cpu: process_cpu(),
            wall: Instant::now(),
        }
    }

    fn sample(&self, rep: usize, label: &'static str, phase: Phase, ops: usize) -> Sample {
        let elapsed = self.wall.elapsed();
        Sample {
            rep,
            label,
            phase: phase.name(),
            ops,
            elapsed,
            cpu: process_cpu().saturating_sub(self.cpu),
        }
    }
}

/// The application's statements on the `widget` table, with the
/// placeholders of the backend.
struct Sql {
    insert: &'static str,
    update: &'static str,
    delete: &'static str,
}

impl Sql {
    fn new(dialect: Dialect) -> Self {
        let fix = |sql: &str| -> &'static str {
            let sql = if dialect == Dialect::Postgres {
                let mut out = String::new();
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(c);
                    }
                }
                out
            } else {
                sql.to_owned()
            };
            // Built once per run; `&'static str` is what sqlx takes as safe SQL.
            sql.leak()
        };
        Self {
            insert: fix(
                "INSERT INTO widget (id, name, qty, price, active, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            ),
            update: fix("UPDATE widget SET qty = ? WHERE id = ?"),
            delete: fix("DELETE FROM widget WHERE id = ?"),
        }
    }
}

/// The DDL that gives a mode a fresh `widget` table and a fresh, empty `widget_log`.
fn reset_sql(dialect: Dialect) -> Vec<&'static str> {
    match dialect {
        Dialect::Postgres => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "DROP FUNCTION IF EXISTS widget_audit()",
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price DOUBLE PRECISION NOT NULL, active BOOLEAN NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
            WidgetLog::DDL_POSTGRES,
        ],
        Dialect::MySql => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INT NOT NULL, price DOUBLE NOT NULL, active BOOLEAN NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
            WidgetLog::DDL_MYSQL,
        ],
        Dialect::Sqlite => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price REAL NOT NULL, active INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            WidgetLog::DDL_SQLITE,
        ],
    }
}

/// The in-database reference: a plain PL/pgSQL trigger that writes the same
/// row as `log_change` (JSON of the old and new row, changed fields only
/// on update), with the time taken in the database.
const PG_TRIGGER: &str = r#"
CREATE FUNCTION widget_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b jsonb;
    a jsonb;
    c jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        a := to_jsonb(NEW);
        SELECT jsonb_object_agg(key, jsonb_build_object('from', NULL, 'to', value)) INTO c
        FROM jsonb_each(a);
        INSERT INTO widget_log (action, object_pk, "after", changes, created_at)
        VALUES ('insert', NEW.id::text, a, c, clock_timestamp());
    ELSIF TG_OP = 'UPDATE' THEN
        b := to_jsonb(OLD);
        a := to_jsonb(NEW);
        SELECT jsonb_object_agg(n.key, jsonb_build_object('from', o.value, 'to', n.value)) INTO c
        FROM jsonb_each(a) AS n JOIN jsonb_each(b) AS o ON o.key = n.key
        WHERE n.value IS DISTINCT FROM o.value;
        INSERT INTO widget_log (action, object_pk, "before", "after", changes, created_at)
        VALUES ('update', NEW.id::text, b, a, c, clock_timestamp());
    ELSE
        b := to_jsonb(OLD);
        SELECT jsonb_object_agg(key, jsonb_build_object('from', value, 'to', NULL)) INTO c
        FROM jsonb_each(b);
        INSERT INTO widget_log (action, object_pk, "before", changes, created_at)
        VALUES ('delete', OLD.id::text, b, c, clock_timestamp());
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER widget_audit AFTER INSERT OR UPDATE OR DELETE ON widget
FOR EACH ROW EXECUTE FUNCTION widget_audit();
"#;

/// Where an application statement runs: autocommitted on the pool, or on
/// the connection of an open transaction.
enum On<'a, DB: sqlx::Database> {
    Pool(&'a sqlx::Pool<DB>),
    Conn(&'a mut DB::Connection),
}

/// The application's side of one backend: its pool type and the widget
/// statements, written with the backend's own types as an application would.
trait AppDb: AuditDatabase {
    const DIALECT: Dialect;

    fn database(pool: &sqlx::Pool<Self>) -> Database;

    async fn execute(pool: &sqlx::Pool<Self>, sql: &'static str) -> Result<()>;

    async fn count_log_rows(pool: &sqlx::Pool<Self>) -> Result<i64>;

    async fn server_version(pool: &sqlx::Pool<Self>) -> Result<String>;

    async fn insert(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()>;

    async fn update(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()>;

    async fn delete(on: On<'_, Self>, sql: &Sql, id: i64) -> Result<()>;

    /// `INSERT ... VALUES (...), (...), ...` of `rows`.
    async fn insert_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;

    /// `UPDATE widget SET qty = qty + 1 WHERE id IN (...)` of `rows`.
    async fn increment_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;

    /// `DELETE FROM widget WHERE id IN (...)` of `rows`.
    async fn delete_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;
}

macro_rules! run_on {
    ($on:expr, $query:expr) => {
        match $on {
            On::Pool(pool) => $query.execute(pool).await.map(drop)?,
            On::Conn(conn) => $query.execute(conn).await.map(drop)?,
        }
    };
}

macro_rules! app_db {
    ($db:ty, $dialect:expr, $version:literal) => {
        impl AppDb for $db {
            const DIALECT: Dialect = $dialect;

            fn database(pool: &sqlx::Pool<Self>) -> Database {
                pool.clone().into()
            }

            async fn execute(pool: &sqlx::Pool<Self>, sql: &'static str) -> Result<()> {
                sqlx::raw_sql(sql).execute(pool).await?;
                Ok(())
            }

            async fn count_log_rows(pool: &sqlx::Pool<Self>) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM widget_log")
                    .fetch_one(pool)
                    .await?)
            }

            async fn server_version(pool: &sqlx::Pool<Self>) -> Result<String> {
                Ok(sqlx::query_scalar($version).fetch_one(pool).await?)
            }

            async fn insert(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()> {
                let query = sqlx::query(sql.insert)
                    .bind(w.id)
                    .bind(w.name.as_str())
                    .bind(w.qty)
                    .bind(w.price)
                    .bind(w.active)
                    .bind(w.updated_at);
                run_on!(on, query);
                Ok(())
            }

            async fn update(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()> {
                let query = sqlx::query(sql.update).bind(w.qty).bind(w.id);
                run_on!(on, query);
                Ok(())
            }

            async fn delete(on: On<'_, Self>, sql: &Sql, id: i64) -> Result<()> {
                let query = sqlx::query(sql.delete).bind(id);
                run_on!(on, query);
                Ok(())
            }

            async fn insert_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new(
                    "INSERT INTO widget (id, name, qty, price, active, updated_at) ",
                );
                query.push_values(rows, |mut tuple, w| {
                    tuple
                        .push_bind(w.id)
                        .push_bind(w.name.as_str())
                        .push_bind(w.qty)
                        .push_bind(w.price)
                        .push_bind(w.active)
                        .push_bind(w.updated_at);
                });
                query.build().execute(pool).await?;
                Ok(())
            }

            async fn increment_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new(
                    "UPDATE widget SET qty = qty + 1 WHERE id IN (",
                );
                let mut ids = query.separated(", ");
                for w in rows {
                    ids.push_bind(w.id);
                }
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }

            async fn delete_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new("DELETE FROM widget WHERE id IN (");
                let mut ids = query.separated(", ");
                for w in rows {
                    ids.push_bind(w.id);
                }
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }
        }
    };
}

app_db!(
    Sqlite,
    Dialect::Sqlite,
    "SELECT 'SQLite ' || sqlite_version()"
);
app_db!(Postgres, Dialect::Postgres, "SELECT version()");
app_db!(MySql, Dialect::MySql, "SELECT version()");

/// One backend's benchmark.
struct Bench<DB: AppDb> {
    pool: sqlx::Pool<DB>,
    sql: Sql,
    chunk: usize,
    /// The settings from `AWESOME_AUDIT_LOG_*` variables (ASYNC is set per mode).
    config: AuditConfig,
    /// The objects as inserted, and as updated (`qty + 1`).
    olds: Vec<Widget>,
    news: Vec<Widget>,
}

/// The mode's log rows did not add up: a fast mode that loses rows is a bug.
#[derive(Debug)]
struct RowMismatch {
    mode: &'static str,
    expected: usize,
    found: i64,
}

impl std::fmt::Display for RowMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LOG ROW MISMATCH in mode `{}`: widget_log holds {} rows, expected {}",
            self.mode, self.found, self.expected
        )
    }
}

impl StdError for RowMismatch {}

fn expect_outcome(mode: Mode, outcome: LogOutcome, expected: LogOutcome) -> Result<()> {
    if outcome == expected {
        Ok(())
    } else {
        Err(format!(
            "mode `{}`: log_change returned {outcome:?}, expected {expected:?}",
            mode.name()
        )
        .into())
    }
}

impl<DB: AppDb> Bench<DB> {
    fn new(pool: sqlx::Pool<DB>, n: usize, chunk: usize, config: AuditConfig) -> Self {
        let at = Utc::now().trunc_subsecs(6);
        let olds: Vec<Widget> = (1..=n)
            .map(|i| Widget {
                id: i as i64,
                name: format!("widget {i}"),
                qty: (i % 100) as i32,
                price: 0.25 * i as f64 + 1.5,
                active: i % 2 == 0,
                updated_at: at,
            })
            .collect();
        let news = olds
            .iter()
            .map(|w| Widget {
                qty: w.qty + 1,
                ..w.clone()
            })
            .collect();
        Self {
            pool,
            sql: Sql::new(DB::DIALECT),
            chunk: chunk.max(1),
            config,
            olds,
            news,
        }
    }

    async fn reset(&self, mode: Mode) -> Result<()> {
        for sql in reset_sql(DB::DIALECT) {
            DB::execute(&self.pool, sql).await?;
        }
        if mode == Mode::Trigger {
            DB::execute(&self.pool, PG_TRIGGER).await?;
        }
        Ok(())
    }

    fn auditor(&self, mode: Mode) -> Result<Auditor> {
        let mut config = self.config.clone();
        config.async_ = mode.is_async();
        config.async_transport = AsyncTransport::Memory;
        // A missing or broken audit database must fail the run, not skip rows.
        config.raise_error_if_db_unavailable = true;
        Ok(Auditor::builder(config)
            .database("default", DB::database(&self.pool))
            .build()?)
    }

    /// The application's write of one change, autocommitted or in `on`'s transaction.
    async fn write(&self, on: On<'_, DB>, phase: Phase, i: usize) -> Result<()> {
        match phase {
            Phase::Insert => DB::insert(on, &self.sql, &self.olds[i]).await,
            Phase::Update => DB::update(on, &self.sql, &self.news[i]).await,
            Phase::Delete => DB::delete(on, &self.sql, self.olds[i].id).await,
        }
    }

    /// Runs one mode with `n` changes per phase on fresh tables; returns
    /// its timed phases.
    async fn run_mode(&self, rep: usize, mode: Mode, n: usize) -> Result<Vec<Sample>> {
        self.reset(mode).await?;
        let auditor = self.auditor(mode)?;
        let mut samples = Vec::new();
        for phase in Phase::ALL {
            let clock = Clock::start();
            if mode.is_batch() {
                self.batch_phase(&auditor, mode, phase, n).await?;
                samples.push(clock.sample(rep, mode.name(), phase, n));
                continue;
            }
            for i in 0..n {
                self.one_change(&auditor, mode, phase, i).await?;
            }
            match mode {
                // The writer's time: until every row is written.
                Mode::AsyncWriter => {
                    auditor.flush().await;
                    samples.push(clock.sample(rep, mode.name(), phase, n));
                }
                // The caller's time, then until every row is written.
                Mode::Async => {
                    samples.push(clock.sample(rep, mode.name(), phase, n));
                    auditor.flush().await;
                    samples.push(clock.sample(rep, "async_flushed", phase, n));
                }
                _ => samples.push(clock.sample(rep, mode.name(), phase, n)),
            }
        }
        auditor.shutdown().await;
        let stats = auditor.stats();
        if stats.failed + stats.skipped + stats.dropped > 0 {
            return Err(format!("mode `{}`: the auditor reports {stats:?}", mode.name()).into());
        }
        let found = DB::count_log_rows(&self.pool).await?;
        let expected = mode.expected_log_rows(n);
        if usize::try_from(found).ok() != Some(expected) {
            return Err(Box::new(RowMismatch {
                mode: mode.name(),
                expected,
                found,
            }));
        }
        Ok(samples)
    }

    /// Change `i` of `phase`, written (and logged) as `mode` does it.
    async fn one_change(
        &self,
        auditor: &Auditor,
        mode: Mode,
        phase: Phase,
        i: usize,
    ) -> Result<()> {
        let (before, after) = phase.pair(&self.olds[i], &self.news[i]);
        match mode {
            Mode::None | Mode::Trigger => self.write(On::Pool(&self.pool), phase, i).await?,
            Mode::Sync => {
                self.write(On::Pool(&self.pool), phase, i).await?;
                let outcome = Widget::log_change(auditor, before, after).await?;
                expect_outcome(mode, outcome, LogOutcome::Written)?;
            }
            Mode::SyncTx => {
                let mut tx = auditor.begin::<DB>("default").await?;
                self.write(On::Conn(&mut *tx), phase, i).await?;
                let outcome = Widget::log_change_in(&mut tx, before, after).await?;
                expect_outcome(mode, outcome, LogOutcome::Written)?;
                tx.commit().await?;
            }
            Mode::Async => {
                self.write(On::Pool(&self.pool), phase, i).await?;
                let outcome = Widget::log_change(auditor, before, after).await?;
                expect_outcome(mode, outcome, LogOutcome::Queued)?;
            }
            Mode::AsyncWriter => {
                let outcome = Widget::log_change(auditor, before, after).await?;
                expect_outcome(mode, outcome, LogOutcome::Queued)?;
            }
            Mode::BatchNone | Mode::Batch => unreachable!("batch modes write in chunks"),
        }
        Ok(())
    }

    /// All N changes of `phase` in multi-row statements of `chunk` rows,
    /// then (mode `batch`) logged with one `log_changes`.
    async fn batch_phase(
        &self,
        auditor: &Auditor,
        mode: Mode,
        phase: Phase,
        n: usize,
    ) -> Result<()> {
        for chunk in self.olds[..n].chunks(self.chunk) {
            match phase {
                Phase::Insert => DB::insert_many(&self.pool, chunk).await?,
                Phase::Update => DB::increment_many(&self.pool, chunk).await?,
                Phase::Delete => DB::delete_many(&self.pool, chunk).await?,
            }
        }
        if mode == Mode::Batch {
            let pairs = self.olds[..n]
                .iter()
                .zip(&self.news)
                .map(|(old, new)| phase.pair(old, new));
            let outcome = Widget::log_changes(auditor, pairs).await?;
            if outcome.written != n {
                return Err(
                    format!("log_changes returned {outcome:?}, expected {n} written").into(),
                );
            }
        }
        Ok(())
    }
}

/// One line of the results: a (mode, phase) over all repetitions.
#[derive(Debug, Serialize)]
struct ResultRow {
    backend: &'static str,
    mode: &'static str,
    /// The mode `ratio_vs_none` and `cpu_extra_us_per_op` compare with.
    baseline: &'static str,
    phase: &'static str,
    n: usize,
    reps: usize,
    /// Median over the repetitions.
    ops_per_sec: f64,
    /// Median over the repetitions of elapsed / elapsed of the baseline in the same repetition.
    ratio_vs_none: Option<f64>,
    /// Median CPU time of this process (all threads) per operation.
    cpu_us_per_op: f64,
    /// Median over the repetitions of cpu_us_per_op minus the baseline's.
    cpu_extra_us_per_op: Option<f64>,
    log_rows: usize,
    server_version: String,
    crate_version: &'static str,
    date: String,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

fn summarize(
    samples: &[Sample],
    backend: BackendKind,
    n: usize,
    reps: usize,
    server_version: &str,
) -> Vec<ResultRow> {
    let mut by_key: BTreeMap<(&str, &str, usize), &Sample> = BTreeMap::new();
    for s in samples {
        by_key.insert((s.label, s.phase, s.rep), s);
    }
    let date = Utc::now().format("%Y-%m-%d").to_string();
    let mut rows = Vec::new();
    for (label, baseline) in LABELS {
        for phase in Phase::ALL.map(Phase::name) {
            let mine: Vec<&Sample> = (0..reps)
                .filter_map(|rep| by_key.get(&(label, phase, rep)).copied())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let pairs: Vec<(&Sample, &Sample)> = mine
                .iter()
                .filter_map(|s| by_key.get(&(baseline, phase, s.rep)).map(|b| (*s, *b)))
                .collect();
            let per_op_us = |s: &Sample| s.cpu.as_secs_f64() * 1e6 / s.ops as f64;
            let ratio = (!pairs.is_empty()).then(|| {
                median(
                    pairs
                        .iter()
                        .map(|(s, b)| s.elapsed.as_secs_f64() / b.elapsed.as_secs_f64())
                        .collect(),
                )
            });
            let cpu_extra = (!pairs.is_empty()).then(|| {
                median(
                    pairs
                        .iter()
                        .map(|(s, b)| per_op_us(s) - per_op_us(b))
                        .collect(),
                )
            });
            // What `widget_log` held after the mode (checked in `run_mode`).
            let log_rows = if label == baseline { 0 } else { 3 * n };
            rows.push(ResultRow {
                backend: backend.name(),
                mode: label,
                baseline,
                phase,
                n,
                reps: mine.len(),
                ops_per_sec: median(
                    mine.iter()
                        .map(|s| s.ops as f64 / s.elapsed.as_secs_f64())
                        .collect(),
                ),
                ratio_vs_none: ratio,
                cpu_us_per_op: median(mine.iter().map(|s| per_op_us(s)).collect()),
                cpu_extra_us_per_op: cpu_extra,
                log_rows,
                server_version: server_version.to_owned(),
                crate_version: env!("CARGO_PKG_VERSION"),
                date: date.clone(),
            });
        }
    }
    rows
}

fn print_table(rows: &[ResultRow]) {
    println!(
        "{:<14} {:<7} {:>10} {:>8} {:>10} {:>10} {:>9}",
        "mode", "phase", "ops/s", "ratio", "cpu µs/op", "+cpu µs", "log rows"
    );
    let opt = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    for row in rows {
        println!(
            "{:<14} {:<7} {:>10.0} {:>8} {:>10.1} {:>10} {:>9}",
            row.mode,
            row.phase,
            row.ops_per_sec,
            opt(row.ratio_vs_none, 2),
            row.cpu_us_per_op,
            opt(row.cpu_extra_us_per_op, 1),
            row.log_rows
        );
    }
}

/// Runs every mode `reps` times, interleaved, on one backend.
async fn run_all<DB: AppDb>(
    pool: sqlx::Pool<DB>,
    args: &Args,
    modes: &[Mode],
) -> Result<(Vec<Sample>, String)> {
    let version = DB::server_version(&pool).await?;
    println!(
        "backend {} ({version}), n {} per phase, {} repetitions, modes {}",
        args.backend.name(),
        args.n,
        args.reps,
        modes
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let config = AuditConfig::from_env()?;
    let bench = Bench::<DB>::new(pool, args.n, args.chunk, config);
    let warmup = args.warmup.min(args.n);
    if warmup > 0 {
        let started = Instant::now();
        for &mode in modes {
            bench.run_mode(0, mode, warmup).await?;
        }
        eprintln!(
            "  warm-up: every mode with {warmup} changes per phase, {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    let mut samples = Vec::new();
    for rep in 0..args.reps {
        let mut order = modes.to_vec();
        order.rotate_left(rep % modes.len());
        for mode in order {
            let started = Instant::now();
            let mine = bench.run_mode(rep, mode, args.n).await?;
            eprintln!(
                "  rep {} {:<12} {:>7.2} s ({} log rows checked)",
                rep + 1,
                mode.name(),
                started.elapsed().as_secs_f64(),
                mode.expected_log_rows(args.n)
            );
            samples.extend(mine);
        }
    }
    // Leave no tables behind in a database we were given.
    for sql in [
        "DROP TABLE IF EXISTS widget_log",
        "DROP TABLE IF EXISTS widget",
    ] {
        DB::execute(&bench.pool, sql).await?;
    }
    if DB::DIALECT == Dialect::Postgres {
        DB::execute(&bench.pool, "DROP FUNCTION IF EXISTS widget_audit()").await?;
    }
    bench.pool.close().await;
    Ok((samples, version))
}

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

async fn run(args: &Args) -> Result<Vec<ResultRow>> {
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

fn main() -> ExitCode {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.worker_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(rows) => {
            println!();
            print_table(&rows);
            if let Some(path) = &args.json {
                let written = serde_json::to_string_pretty(&rows)
                    .map_err(BoxError::from)
                    .and_then(|json| std::fs::write(path, json + "\n").map_err(BoxError::from));
                if let Err(e) = written {
                    eprintln!("bench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("\nresults written to {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nbench FAILED: {e}");
            if e.is::<RowMismatch>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
