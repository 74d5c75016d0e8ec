//! Reading the log back: one object's history, its state at a moment, and
//! every object's state at a moment, timed through the generated API on a
//! `widget_log` grown through the sizes asked for, with the plans of the
//! single-object reads checked for the object index.
//!
//! Every object has the same number of rows at every size (see
//! [`layout`]), so a single-object read returns the same rows on a table
//! of 10,000 rows as on one of 1,000,000: what grows is only the table
//! around them. At each size the reads of each kind go to many different
//! objects, old and new, interleaved with each other (and with a
//! `SELECT 1`, the round trip alone, as a control), and every answer is
//! checked against the layout.

pub(crate) mod fill;
pub(crate) mod layout;
pub(crate) mod plan;
mod report;

use std::time::{Duration, Instant};

use awesome_audit_log::history::{AsOf, Param, as_of_statement};
use awesome_audit_log::{AuditConfig, Auditor, LogRow};

use crate::Result;
use crate::app_db::AppDb;
use crate::cli::HistoryArgs;
use crate::model::Widget;
use crate::setup::{Job, on_backend};
use crate::sql::reset_sql;

use self::fill::{after_fill, fill_statements, table_bytes};
use self::layout::{Layout, Stage, created_at};
use self::plan::{OBJECT_INDEX, uses_object_index};
pub(crate) use self::report::ReadReport;
use self::report::{PlanRecord, ReadSample, summarize};

/// One kind of read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Read {
    /// `Widget::history(&auditor, &pk).all()`: every row of one object.
    HistoryAll,
    /// `.newest_first().limit(page).fetch()`: its newest page.
    HistoryPage,
    /// `Widget::as_of(&auditor, &pk, t)`, `t` in the middle of its history.
    AsOf,
    /// `Widget::as_of_all(&auditor, t)`, `t` in the middle of the table.
    AsOfAll,
    /// `SELECT 1` on the same pool: the round trip alone, the control.
    SelectOne,
}

impl Read {
    pub(crate) const ALL: [Read; 5] = [
        Read::HistoryAll,
        Read::HistoryPage,
        Read::AsOf,
        Read::AsOfAll,
        Read::SelectOne,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Read::HistoryAll => "history_all",
            Read::HistoryPage => "history_page",
            Read::AsOf => "as_of",
            Read::AsOfAll => "as_of_all",
            Read::SelectOne => "select_1",
        }
    }

    /// A read of one object's rows: the ones the index must serve.
    pub(crate) fn single_object(self) -> bool {
        matches!(self, Read::HistoryAll | Read::HistoryPage | Read::AsOf)
    }
}

/// A read returned something else than the layout says it must: a fast
/// read that returns the wrong rows is a bug, not a result.
#[derive(Debug)]
pub(crate) struct ReadMismatch(String);

impl std::fmt::Display for ReadMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "READ MISMATCH: {}", self.0)
    }
}

impl std::error::Error for ReadMismatch {}

fn expect(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Box::new(ReadMismatch(what())))
    }
}

/// The read benchmark on the backend `args` names.
pub(crate) async fn run(args: &HistoryArgs) -> Result<ReadReport> {
    if args.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    if args.page == 0 {
        return Err("--page must be at least 1".into());
    }
    let layout = Layout::new(&args.sizes, args.rows_per_object)?;
    on_backend(&args.target, Reads { args, layout }).await
}

/// The read benchmark on the pool of one backend.
struct Reads<'a> {
    args: &'a HistoryArgs,
    layout: Layout,
}

impl Job for Reads<'_> {
    type Output = ReadReport;

    async fn run<DB: AppDb>(self, pool: sqlx::Pool<DB>) -> Result<ReadReport> {
        let version = DB::server_version(&pool).await?;
        let args = self.args;
        println!(
            "backend {} ({version}), widget_log grown to {} rows, {} rows per object, \
             {} reads of each single-object kind and {} of as_of_all per size",
            args.target.backend.name(),
            args.sizes
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / "),
            args.rows_per_object,
            args.iterations,
            args.all_iterations,
        );
        for sql in reset_sql(DB::DIALECT) {
            DB::execute(&pool, sql).await?;
        }
        let auditor = Auditor::builder(AuditConfig::from_env()?)
            .database("default", DB::database(&pool))
            .build()?;
        let bench = Bench {
            pool,
            auditor,
            layout: self.layout,
            page: args.page,
        };
        let mut samples = Vec::new();
        let mut plans = Vec::new();
        let mut table_sizes = Vec::new();
        for stage in bench.layout.stages.clone() {
            table_sizes.push((stage.to, bench.grow(&stage).await?));
            plans.extend(bench.plans(stage.to).await?);
            bench.reads(stage.to, args, &mut samples).await?;
        }
        bench.auditor.shutdown().await;
        // Leave no tables behind in a database we were given.
        for sql in [
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
        ] {
            DB::execute(&bench.pool, sql).await?;
        }
        bench.pool.close().await;
        Ok(summarize(
            args.target.backend,
            &version,
            &bench.layout,
            args.page,
            &samples,
            plans,
            &table_sizes,
        ))
    }
}

/// The pool, the auditor reading through it, and what the log holds.
struct Bench<DB: AppDb> {
    pool: sqlx::Pool<DB>,
    auditor: Auditor,
    layout: Layout,
    page: u64,
}

impl<DB: AppDb> Bench<DB> {
    /// Appends `stage` to `widget_log`, brings the statistics up to date,
    /// and checks the count; returns the table's size in bytes.
    async fn grow(&self, stage: &Stage) -> Result<i64> {
        let started = Instant::now();
        for sql in fill_statements(DB::DIALECT, stage) {
            DB::execute(&self.pool, &sql).await?;
        }
        let filled = started.elapsed();
        for sql in after_fill(DB::DIALECT) {
            DB::execute(&self.pool, sql).await?;
        }
        let rows = DB::count_log_rows(&self.pool).await?;
        expect(rows == stage.to, || {
            format!("widget_log holds {rows} rows, expected {}", stage.to)
        })?;
        let bytes = DB::scalar(&self.pool, table_bytes(DB::DIALECT)).await?;
        eprintln!(
            "  {} rows: {} appended in {:.1} s, statistics in {:.1} s; \
             {:.0} MB with its indexes",
            stage.to,
            stage.to - stage.from,
            filled.as_secs_f64(),
            (started.elapsed() - filled).as_secs_f64(),
            bytes as f64 / 1e6
        );
        Ok(bytes)
    }

    /// The statement of each single-object read of `object`, as the
    /// library builds it, with its bind values.
    fn statements(&self, object: i64) -> Result<Vec<(Read, String, Vec<Param>)>> {
        let dialect = DB::DIALECT;
        let at = created_at(self.layout.row(object, self.layout.middle_version()));
        [
            (
                Read::HistoryAll,
                Widget::history(&self.auditor, &object).statement(dialect),
            ),
            (
                Read::HistoryPage,
                Widget::history(&self.auditor, &object)
                    .newest_first()
                    .limit(self.page)
                    .statement(dialect),
            ),
            (Read::AsOf, as_of_statement::<Widget>(dialect, &object, at)),
        ]
        .into_iter()
        .map(|(read, statement)| {
            let (sql, params) =
                statement.ok_or_else(|| format!("{} has no statement", read.name()))?;
            Ok((read, sql, params))
        })
        .collect()
    }

    /// The plans of the single-object reads at `size` rows, printed.
    async fn plans(&self, size: i64) -> Result<Vec<PlanRecord>> {
        let object = self.layout.pick(0, size);
        let mut records = Vec::new();
        for (read, sql, params) in self.statements(object)? {
            if size == self.layout.stages[0].to {
                eprintln!("  {} reads with: {sql}", read.name());
            }
            let plan = DB::explain(&self.pool, &sql, &params).await?;
            let uses_index = uses_object_index(DB::DIALECT, &plan);
            eprintln!(
                "  plan of {} at {size} rows ({}):",
                read.name(),
                if uses_index {
                    format!("uses {OBJECT_INDEX}")
                } else {
                    format!("DOES NOT USE {OBJECT_INDEX}")
                }
            );
            for line in &plan {
                eprintln!("      {line}");
            }
            records.push(PlanRecord {
                size,
                read,
                plan,
                uses_index,
            });
        }
        Ok(records)
    }

    /// The warm-up and the timed reads at `size` rows.
    async fn reads(
        &self,
        size: i64,
        args: &HistoryArgs,
        samples: &mut Vec<ReadSample>,
    ) -> Result<()> {
        let started = Instant::now();
        // Other picks than the timed ones, so that warming up does not bring
        // exactly their rows into the caches (on small tables, with few
        // objects, the picks repeat).
        for i in 0..args.warmup {
            self.round(size, args.iterations + i, None).await?;
        }
        if args.warmup > 0 && args.all_iterations > 0 {
            self.time(Read::AsOfAll, size, 0).await?;
        }
        let warm = started.elapsed();
        let every = (args.iterations / args.all_iterations.max(1)).max(1);
        let mut all_done = 0;
        for i in 0..args.iterations {
            self.round(size, i, Some(&mut *samples)).await?;
            if all_done < args.all_iterations && i % every == every / 2 {
                let elapsed = self.time(Read::AsOfAll, size, i).await?;
                samples.push(ReadSample {
                    size,
                    read: Read::AsOfAll,
                    elapsed,
                });
                all_done += 1;
            }
        }
        eprintln!(
            "  {size} rows: warm-up {:.1} s, timed reads {:.1} s",
            warm.as_secs_f64(),
            (started.elapsed() - warm).as_secs_f64()
        );
        Ok(())
    }

    /// One read of each quick kind, of the `i`-th object, in a rotating
    /// order; recorded in `samples` unless it is the warm-up.
    async fn round(
        &self,
        size: i64,
        i: usize,
        samples: Option<&mut Vec<ReadSample>>,
    ) -> Result<()> {
        let mut order = [
            Read::HistoryAll,
            Read::HistoryPage,
            Read::AsOf,
            Read::SelectOne,
        ];
        let turn = i % order.len();
        order.rotate_left(turn);
        let mut timed = Vec::with_capacity(order.len());
        for read in order {
            timed.push((read, self.time(read, size, i).await?));
        }
        if let Some(samples) = samples {
            samples.extend(timed.into_iter().map(|(read, elapsed)| ReadSample {
                size,
                read,
                elapsed,
            }));
        }
        Ok(())
    }

    /// Times one read of the `i`-th object (as_of_all: of the whole table),
    /// then checks what it returned.
    async fn time(&self, read: Read, size: i64, i: usize) -> Result<Duration> {
        let layout = &self.layout;
        let object = layout.pick(i, size);
        let last = layout.rows_per_object;
        let pk = object.to_string();
        let started = Instant::now();
        match read {
            Read::HistoryAll => {
                let rows = Widget::history(&self.auditor, &object).all().await?;
                let elapsed = started.elapsed();
                expect(
                    rows.len() as i64 == last
                        && rows.iter().all(|row| row.object_pk() == pk)
                        && rows[0].created_at() == created_at(layout.row(object, 1)),
                    || {
                        format!(
                            "history of {object}: {} rows, expected {last} from its insert on",
                            rows.len()
                        )
                    },
                )?;
                Ok(elapsed)
            }
            Read::HistoryPage => {
                let page = Widget::history(&self.auditor, &object)
                    .newest_first()
                    .limit(self.page)
                    .fetch()
                    .await?;
                let elapsed = started.elapsed();
                let expected = self.page.min(last as u64) as usize;
                expect(
                    page.rows.len() == expected
                        && page.rows.iter().all(|row| row.object_pk() == pk)
                        && page.rows[0].created_at() == created_at(layout.row(object, last)),
                    || {
                        format!(
                            "newest page of {object}: {} rows, expected {expected} from its last on",
                            page.rows.len()
                        )
                    },
                )?;
                Ok(elapsed)
            }
            Read::AsOf => {
                let middle = layout.middle_version();
                let at = created_at(layout.row(object, middle));
                let state = Widget::as_of(&self.auditor, &object, at).await?;
                let elapsed = started.elapsed();
                let found = match &state {
                    AsOf::Existed { value, .. } => Some((value.id, value.qty)),
                    _ => None,
                };
                expect(found == Some((object, middle as i32)), || {
                    format!("as_of of {object} at version {middle}: {state:?}")
                })?;
                Ok(elapsed)
            }
            Read::AsOfAll => {
                let g = size / 2;
                let all = Widget::as_of_all(&self.auditor, created_at(g)).await?;
                let elapsed = started.elapsed();
                let deleted = all
                    .objects
                    .iter()
                    .filter(|(_, state)| matches!(state, AsOf::Deleted { .. }))
                    .count();
                let existing = all.existing().count();
                let expected = layout.as_of_all_counts(size, g);
                expect(
                    (all.objects.len(), deleted) == expected
                        && existing + deleted == all.objects.len(),
                    || {
                        format!(
                            "as_of_all at row {g}: {} objects ({existing} rebuilt, {deleted} deleted), \
                             expected {} ({} deleted)",
                            all.objects.len(),
                            expected.0,
                            expected.1
                        )
                    },
                )?;
                Ok(elapsed)
            }
            Read::SelectOne => {
                DB::select_one(&self.pool).await?;
                Ok(started.elapsed())
            }
        }
    }
}
