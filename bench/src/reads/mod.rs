//! Reading the log back: one object's history, its state at a moment, and
//! every object's state at a moment, timed through the library's read API
//! on a `widget_log` grown through the sizes asked for, with the plans of
//! the single-object reads checked for the object index.
//!
//! Every object has the same number of rows at every size (see
//! [`layout`]), so a single-object read returns the same rows on a table
//! of 10,000 rows as on one of 1,000,000: what grows is only the table
//! around them. A second log table, `widget_ref_log` (the same model under
//! another name), is filled once to the first size and stays there: every
//! read of `widget_log` is timed next to the same read of it, so that a
//! machine that slows down or speeds up between sizes moves both sides of
//! the ratio. At each size the reads go to many different objects, old and
//! new, in a rotating order, and every answer is checked against the layout.

pub(crate) mod fill;
pub(crate) mod layout;
pub(crate) mod plan;
mod report;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use awesome_audit_log::history::{AsOf, History, Param, as_of, as_of_all, as_of_statement};
use awesome_audit_log::{AuditConfig, Audited, Auditor, Dialect, LogRow};

use crate::Result;
use crate::app_db::AppDb;
use crate::cli::HistoryArgs;
use crate::model::{Widget, WidgetLog, WidgetRef, WidgetRefLog};
use crate::setup::{Job, on_backend};

use self::fill::{after_fill, fill_statements, table_bytes};
use self::layout::{Layout, Stage, created_at};
use self::plan::{object_index, uses_object_index};
pub(crate) use self::report::ReadReport;
use self::report::{PlanRecord, ReadSample, Side, summarize};

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
}

impl Read {
    pub(crate) const ALL: [Read; 4] = [
        Read::HistoryAll,
        Read::HistoryPage,
        Read::AsOf,
        Read::AsOfAll,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Read::HistoryAll => "history_all",
            Read::HistoryPage => "history_page",
            Read::AsOf => "as_of",
            Read::AsOfAll => "as_of_all",
        }
    }

    /// A read of one object's rows: the ones the index must serve.
    pub(crate) fn single_object(self) -> bool {
        !matches!(self, Read::AsOfAll)
    }
}

/// A model whose log table the benchmark fills and reads.
pub(crate) trait Logged: Audited + Debug {
    /// The script that creates its log table, with the indexes.
    fn ddl(dialect: Dialect) -> &'static str;

    /// The rebuilt object's id and quantity.
    fn id_and_qty(&self) -> (i64, i32);

    /// The name of its log table.
    fn log_table() -> &'static str {
        Self::MODEL.log_table()
    }
}

macro_rules! logged {
    ($model:ty, $log:ty) => {
        impl Logged for $model {
            fn ddl(dialect: Dialect) -> &'static str {
                match dialect {
                    Dialect::Postgres => <$log>::DDL_POSTGRES,
                    Dialect::MySql => <$log>::DDL_MYSQL,
                    Dialect::Sqlite => <$log>::DDL_SQLITE,
                }
            }

            fn id_and_qty(&self) -> (i64, i32) {
                (self.id, self.qty)
            }
        }
    };
}

logged!(Widget, WidgetLog);
logged!(WidgetRef, WidgetRefLog);

/// A read returned something else than the layout says it must: a fast
/// read that returns the wrong rows is a bug, not a result.
#[derive(Debug)]
pub(crate) struct ReadMismatch(pub(crate) String);

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
             {} reads of each single-object kind and {} of as_of_all per size, \
             each next to the same read of widget_ref_log ({} rows)",
            args.target.backend.name(),
            args.sizes
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / "),
            args.rows_per_object,
            args.iterations,
            args.all_iterations,
            self.layout.stages[0].to,
        );
        let auditor = Auditor::builder(AuditConfig::from_env()?)
            .database("default", DB::database(&pool))
            .build()?;
        let reference = Layout {
            stages: self.layout.stages[..1].to_vec(),
            ..self.layout.clone()
        };
        let bench = Bench {
            pool,
            auditor,
            layout: self.layout,
            reference,
            page: args.page,
        };
        let result = bench.run(args).await;
        bench.auditor.shutdown().await;
        // Leave no tables behind in a database we were given.
        for table in [Widget::log_table(), WidgetRef::log_table()] {
            DB::execute(&bench.pool, &format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        bench.pool.close().await;
        let (samples, plans, table_sizes) = result?;
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

/// The pool, the auditor reading through it, and what the two log tables
/// hold.
struct Bench<DB: AppDb> {
    pool: sqlx::Pool<DB>,
    auditor: Auditor,
    /// `widget_log`, grown through the sizes.
    layout: Layout,
    /// `widget_ref_log`: the first size only.
    reference: Layout,
    page: u64,
}

/// The timed reads, the plans and the table sizes of a run.
type Measured = (Vec<ReadSample>, Vec<PlanRecord>, Vec<(i64, i64)>);

impl<DB: AppDb> Bench<DB> {
    async fn run(&self, args: &HistoryArgs) -> Result<Measured> {
        for table in [Widget::log_table(), WidgetRef::log_table()] {
            DB::execute(&self.pool, &format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        DB::execute(&self.pool, Widget::ddl(DB::DIALECT)).await?;
        DB::execute(&self.pool, WidgetRef::ddl(DB::DIALECT)).await?;
        self.grow::<WidgetRef>(&self.reference.stages[0]).await?;
        let mut samples = Vec::new();
        let mut plans = Vec::new();
        let mut table_sizes = Vec::new();
        for stage in &self.layout.stages {
            table_sizes.push((stage.to, self.grow::<Widget>(stage).await?));
            plans.extend(self.plans(stage.to).await?);
            self.reads(stage.to, args, &mut samples).await?;
        }
        Ok((samples, plans, table_sizes))
    }

    /// Appends `stage` to the log table of `M`, brings its statistics up to
    /// date, and checks the count; returns the table's size in bytes.
    async fn grow<M: Logged>(&self, stage: &Stage) -> Result<i64> {
        let table = M::log_table();
        let started = Instant::now();
        for sql in fill_statements(DB::DIALECT, table, stage) {
            DB::execute(&self.pool, &sql).await?;
        }
        let filled = started.elapsed();
        for sql in after_fill(DB::DIALECT, table) {
            DB::execute(&self.pool, &sql).await?;
        }
        let rows = DB::scalar(&self.pool, &format!("SELECT COUNT(*) FROM {table}")).await?;
        expect(rows == stage.to, || {
            format!("{table} holds {rows} rows, expected {}", stage.to)
        })?;
        let bytes = DB::scalar(&self.pool, &table_bytes(DB::DIALECT, table)).await?;
        eprintln!(
            "  {table}: {} rows ({} appended in {:.1} s, statistics in {:.1} s), \
             {:.0} MB with its indexes",
            stage.to,
            stage.to - stage.from,
            filled.as_secs_f64(),
            (started.elapsed() - filled).as_secs_f64(),
            bytes as f64 / 1e6
        );
        Ok(bytes)
    }

    /// The statement of each single-object read of `object` of `widget_log`,
    /// as the library builds it, with its bind values.
    fn statements(&self, object: i64) -> Result<Vec<(Read, String, Vec<Param>)>> {
        let dialect = DB::DIALECT;
        let at = created_at(self.layout.row(object, self.layout.middle_version()));
        let history = || History::<Widget>::new(&self.auditor, &object);
        [
            (Read::HistoryAll, history().statement(dialect)),
            (
                Read::HistoryPage,
                history().newest_first().limit(self.page).statement(dialect),
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

    /// The plans of the single-object reads of `widget_log` at `size` rows,
    /// printed.
    async fn plans(&self, size: i64) -> Result<Vec<PlanRecord>> {
        let table = Widget::log_table();
        let index = object_index(table);
        let object = self.layout.pick(Read::HistoryAll as usize, size);
        let mut records = Vec::new();
        for (read, sql, params) in self.statements(object)? {
            if size == self.layout.stages[0].to {
                eprintln!("  {} reads with: {sql}", read.name());
            }
            let plan = DB::explain(&self.pool, &sql, &params).await?;
            let uses_index = uses_object_index(DB::DIALECT, table, &plan);
            let verdict = if uses_index { "uses" } else { "DOES NOT USE" };
            eprintln!(
                "  plan of {} at {size} rows ({verdict} {index}):",
                read.name()
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

    /// The warm-up and the timed reads with `widget_log` at `size` rows.
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
        let mut warm_up = Vec::new();
        for i in 0..args.warmup {
            let reads = [Read::HistoryAll, Read::HistoryPage, Read::AsOf];
            self.round(&reads, size, args.iterations + i, &mut warm_up)
                .await?;
        }
        if args.warmup > 0 && args.all_iterations > 0 {
            self.round(&[Read::AsOfAll], size, 0, &mut warm_up).await?;
        }
        let warm = started.elapsed();
        let every = (args.iterations / args.all_iterations.max(1)).max(1);
        let mut all_done = 0;
        for i in 0..args.iterations {
            let mut reads = [Read::HistoryAll, Read::HistoryPage, Read::AsOf];
            reads.rotate_left(i % 3);
            self.round(&reads, size, i, samples).await?;
            if all_done < args.all_iterations && i % every == every / 2 {
                self.round(&[Read::AsOfAll], size, all_done, samples)
                    .await?;
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

    /// Each of `reads` in the `i`-th round, on both tables: the grown one
    /// first on even rounds, the reference first on odd ones.
    async fn round(
        &self,
        reads: &[Read],
        size: i64,
        i: usize,
        samples: &mut Vec<ReadSample>,
    ) -> Result<()> {
        let sides = if i.is_multiple_of(2) {
            [Side::Grown, Side::Reference]
        } else {
            [Side::Reference, Side::Grown]
        };
        let first = self.reference.stages[0].to;
        for &read in reads {
            for side in sides {
                let elapsed = match side {
                    Side::Grown => self.time::<Widget>(read, &self.layout, size, i).await?,
                    Side::Reference => {
                        self.time::<WidgetRef>(read, &self.reference, first, i)
                            .await?
                    }
                };
                samples.push(ReadSample {
                    size,
                    read,
                    side,
                    elapsed,
                });
            }
        }
        Ok(())
    }

    /// Times one read of the log of `M` at `size` rows, of an object of the
    /// `i`-th round (as_of_all: of the whole table), then checks what it
    /// returned against `layout`.
    async fn time<M: Logged>(
        &self,
        read: Read,
        layout: &Layout,
        size: i64,
        i: usize,
    ) -> Result<Duration> {
        // Each kind of read its own object: on a table larger than the
        // database's cache, one read must not find the rows another read of
        // the same object just brought in.
        let object = layout.pick(i * Read::ALL.len() + read as usize, size);
        let last = layout.rows_per_object;
        let pk = object.to_string();
        let table = M::log_table();
        let started = Instant::now();
        match read {
            Read::HistoryAll => {
                let rows = History::<M>::new(&self.auditor, &object).all().await?;
                let elapsed = started.elapsed();
                expect(
                    rows.len() as i64 == last
                        && rows.iter().all(|row| row.object_pk() == pk)
                        && rows[0].created_at() == created_at(layout.row(object, 1)),
                    || {
                        format!(
                            "{table}: history of {object} has {} rows, expected {last} \
                             from its insert on",
                            rows.len()
                        )
                    },
                )?;
                Ok(elapsed)
            }
            Read::HistoryPage => {
                let page = History::<M>::new(&self.auditor, &object)
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
                            "{table}: newest page of {object} has {} rows, expected \
                             {expected} from its last on",
                            page.rows.len()
                        )
                    },
                )?;
                Ok(elapsed)
            }
            Read::AsOf => {
                let middle = layout.middle_version();
                let at = created_at(layout.row(object, middle));
                let state = as_of::<M>(&self.auditor, &object, at).await?;
                let elapsed = started.elapsed();
                let found = state.value().map(Logged::id_and_qty);
                expect(found == Some((object, middle as i32)), || {
                    format!("{table}: as_of of {object} at version {middle}: {state:?}")
                })?;
                Ok(elapsed)
            }
            Read::AsOfAll => {
                let g = size / 2;
                let all = as_of_all::<M>(&self.auditor, created_at(g)).await?;
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
                            "{table}: as_of_all at row {g} has {} objects ({existing} \
                             rebuilt, {deleted} deleted), expected {} ({} deleted)",
                            all.objects.len(),
                            expected.0,
                            expected.1
                        )
                    },
                )?;
                Ok(elapsed)
            }
        }
    }
}
