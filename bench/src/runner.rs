//! Running the modes on one backend: fresh tables and an auditor per mode,
//! the timed phases, and the check that no log row is missing.

use std::error::Error as StdError;
use std::time::Instant;

use awesome_audit_log::chrono::{SubsecRound, Utc};
use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::context::{self, AuditContext};
use awesome_audit_log::triggers::TriggerOutcome;
use awesome_audit_log::{AuditConfig, Auditor, LogOutcome};

use crate::Result;
use crate::app_db::{AppDb, On};
use crate::cli::Args;
use crate::model::{Widget, widget};
use crate::modes::{Mode, Phase};
use crate::sql::{Sql, reference_trigger, reference_trigger_with_context, reset_sql};
use crate::timing::{Clock, Sample};

/// The user of the audit scope of mode `trigger_capture`.
const CONTEXT_USER: &str = "ada";

/// One backend's benchmark.
struct Bench<DB: AppDb> {
    pool: sqlx::Pool<DB>,
    sql: Sql,
    chunk: usize,
    /// Writes per transaction of the grouped modes.
    per_tx: usize,
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

impl RowMismatch {
    pub(crate) fn new(mode: &'static str, expected: usize, found: i64) -> Self {
        Self {
            mode,
            expected,
            found,
        }
    }
}

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
    fn new(pool: sqlx::Pool<DB>, args: &Args, config: AuditConfig) -> Self {
        let n = args.n;
        let at = Utc::now().trunc_subsecs(6);
        let olds: Vec<Widget> = (1..=n).map(|i| widget(i, at)).collect();
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
            chunk: args.chunk.max(1),
            per_tx: args.per_tx.max(1),
            config,
            olds,
            news,
        }
    }

    async fn reset(&self, mode: Mode) -> Result<()> {
        let mut statements: Vec<String> = reset_sql(DB::DIALECT)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if mode.hand_written() {
            statements.extend(
                reference_trigger(DB::DIALECT)
                    .iter()
                    .map(|s| (*s).to_owned()),
            );
        }
        if mode == Mode::TriggerTxContext {
            statements.extend(reference_trigger_with_context(DB::DIALECT));
        }
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        DB::execute_all(&self.pool, &statements).await
    }

    /// The context of the audit scope of mode `trigger_capture`: a request
    /// of user 7, as the HTTP layer would capture it.
    fn request_context() -> AuditContext {
        AuditContext::shell("bench")
            .with_route("/widgets/{id}")
            .with_path("/widgets/1")
            .with_method("PUT")
            .with_ip("127.0.0.1")
            .with_user(Some(7), Some(CONTEXT_USER.to_owned()))
            .with_user_agent("bench/1.0")
            .with_correlation_id("0b7e6f3c-7a52-4d3e-9a57-1f1f3d0c2a11")
    }

    fn auditor(&self, mode: Mode) -> Result<Auditor> {
        let mut config = self.config.clone();
        config.async_ = mode.is_async();
        config.async_transport = AsyncTransport::Memory;
        // A missing or broken audit database must fail the run, not skip rows.
        config.raise_error_if_db_unavailable = true;
        let builder = Auditor::builder(config).database("default", DB::database(&self.pool));
        // The reference that records the context was not installed by the
        // auditor: it is told to hand the context over.
        let builder = if mode == Mode::TriggerTxContext {
            builder.trigger_context()
        } else {
            builder
        };
        Ok(builder.build()?)
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
        if mode.captures() {
            let outcome = Widget::install_triggers(&auditor).await?;
            if outcome != TriggerOutcome::Installed {
                return Err(format!("install_triggers returned {outcome:?}").into());
            }
        }
        let mut samples = Vec::new();
        for phase in Phase::ALL {
            let clock = Clock::start();
            if mode.is_batch() {
                self.batch_phase(&auditor, mode, phase, n).await?;
                samples.push(clock.sample(rep, mode.name(), phase, n));
                continue;
            }
            if mode.is_grouped() {
                for first in (0..n).step_by(self.per_tx) {
                    let group = first..(first + self.per_tx).min(n);
                    self.one_transaction(&auditor, mode, phase, group).await?;
                }
            } else {
                for i in 0..n {
                    self.one_change(&auditor, mode, phase, i).await?;
                }
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
            return Err(Box::new(RowMismatch::new(mode.name(), expected, found)));
        }
        if mode.captures() || mode.in_scope() {
            self.check_context(mode, expected).await?;
        }
        Ok(samples)
    }

    /// The generated triggers' rows carry the scope's user in mode
    /// `trigger_capture`, and no user without a scope.
    async fn check_context(&self, mode: Mode, expected: usize) -> Result<()> {
        let with_user = DB::scalar(
            &self.pool,
            &format!(
                "SELECT COUNT(*) FROM widget_log WHERE user_name = '{CONTEXT_USER}' AND user_id = 7"
            ),
        )
        .await?;
        let want = if mode.in_scope() { expected } else { 0 };
        if usize::try_from(with_user).ok() != Some(want) {
            return Err(format!(
                "mode `{}`: {with_user} log rows carry the scope's user, expected {want}",
                mode.name()
            )
            .into());
        }
        Ok(())
    }

    /// The changes `group` of `phase` in one transaction: a plain sqlx
    /// one (`none_tx`, `trigger_tx`), or the auditor's in an audit scope
    /// (`trigger_capture`), which hands the context to the database once.
    async fn one_transaction(
        &self,
        auditor: &Auditor,
        mode: Mode,
        phase: Phase,
        group: std::ops::Range<usize>,
    ) -> Result<()> {
        if mode.in_scope() {
            return context::scope(Self::request_context(), async {
                let mut tx = auditor.begin::<DB>("default").await?;
                for i in group {
                    self.write(On::Conn(&mut *tx), phase, i).await?;
                }
                tx.commit().await?;
                Ok(())
            })
            .await;
        }
        let mut tx = self.pool.begin().await?;
        for i in group {
            self.write(On::Conn(&mut *tx), phase, i).await?;
        }
        tx.commit().await?;
        Ok(())
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
            Mode::None | Mode::Trigger | Mode::TriggerCaptureAutocommit => {
                self.write(On::Pool(&self.pool), phase, i).await?
            }
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
            Mode::BatchNone
            | Mode::Batch
            | Mode::NoneTx
            | Mode::TriggerTx
            | Mode::TriggerTxContext
            | Mode::TriggerCapture => {
                return Err(format!("mode `{}` writes in groups", mode.name()).into());
            }
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
        "backend {} ({version}), n {} per phase, {} repetitions, {} writes per transaction \
         of the grouped modes, modes {}",
        args.target.backend.name(),
        args.n,
        args.reps,
        args.per_tx,
        modes
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let config = AuditConfig::from_env()?;
    let bench = Bench::<DB>::new(pool, args, config);
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
    DB::clean_up(&bench.pool).await?;
    bench.pool.close().await;
    Ok((samples, version))
}
