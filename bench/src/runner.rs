//! Running the modes on one backend: fresh tables and an auditor per mode,
//! the timed phases, and the check that no log row is missing.

use std::error::Error as StdError;
use std::time::Instant;

use awesome_audit_log::chrono::{SubsecRound, Utc};
use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, Auditor, Dialect, LogOutcome};

use crate::Result;
use crate::app_db::{AppDb, On};
use crate::cli::Args;
use crate::model::Widget;
use crate::modes::{Mode, Phase};
use crate::sql::{PG_TRIGGER, Sql, reset_sql};
use crate::timing::{Clock, Sample};

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
pub(crate) struct RowMismatch {
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

/// Runs every mode `reps` times, interleaved, on one backend.
pub(crate) async fn run_all<DB: AppDb>(
    pool: sqlx::Pool<DB>,
    args: &Args,
    modes: &[Mode],
) -> Result<(Vec<Sample>, String)> {
    let version = DB::server_version(&pool).await?;
    println!(
        "backend {} ({version}), n {} per phase, {} repetitions, modes {}",
        args.target.backend.name(),
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
