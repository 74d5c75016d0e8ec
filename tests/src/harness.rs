//! A fresh database per test, on each backend, dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use awesome_audit_log::{AuditConfig, Auditor, Database, Dialect};
use sqlx::{AssertSqlSafe, MySqlPool, PgPool, SqlitePool};

/// The backend a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the server at `AUDIT_TEST_POSTGRES_URL`.
    Postgres,
    /// A fresh database on the server at `AUDIT_TEST_MYSQL_URL`.
    MySql,
}

impl Kind {
    /// The SQL dialect.
    pub fn dialect(self) -> Dialect {
        match self {
            Kind::Sqlite => Dialect::Sqlite,
            Kind::Postgres => Dialect::Postgres,
            Kind::MySql => Dialect::MySql,
        }
    }

    fn env_var(self) -> Option<&'static str> {
        match self {
            Kind::Sqlite => None,
            Kind::Postgres => Some("AUDIT_TEST_POSTGRES_URL"),
            Kind::MySql => Some("AUDIT_TEST_MYSQL_URL"),
        }
    }
}

/// A pool of the test's own database, for setting up and checking.
#[derive(Debug, Clone)]
pub enum TestPool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL / MariaDB.
    MySql(MySqlPool),
}

/// One test's database.
pub struct TestDb {
    /// The backend.
    pub kind: Kind,
    /// The database's URL.
    pub url: String,
    /// A pool on it.
    pub pool: TestPool,
    server: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Says, once per test binary and variable, that tests were skipped: the
/// tests that need nothing else are marked ignored at build time
/// (`tests/build.rs`) and get here only when run with `--include-ignored`;
/// tests that also run on SQLite get here for their server part. It
/// writes to the process's stderr directly: the test harness captures
/// `eprintln!` of passing tests, and a skip must be visible.
pub fn say_skipped(var: &str) {
    use std::io::Write as _;
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !said.iter().any(|v| v == var) {
        said.push(var.to_owned());
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {var} is not set; what needs it did not run (set it, or AUDIT_TEST_REQUIRE_ALL=1 to fail instead)"
        );
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh database of `kind`, or `None` (after saying so) when its
    /// server URL is not set and `AUDIT_TEST_REQUIRE_ALL` is not `1`.
    pub async fn new(kind: Kind) -> Option<TestDb> {
        let name = format!(
            "aal_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let Some(var) = kind.env_var() else {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}/{name}.db", dir.path().display());
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("sqlite url");
            let pool = SqlitePool::connect_with(options.create_if_missing(true))
                .await
                .expect("open sqlite file");
            return Some(TestDb {
                kind,
                url,
                pool: TestPool::Sqlite(pool),
                server: None,
                _dir: Some(dir),
            });
        };
        let server = match std::env::var(var) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("AUDIT_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                    panic!("AUDIT_TEST_REQUIRE_ALL=1 but {var} is not set");
                }
                say_skipped(var);
                return None;
            }
        };
        let url = with_database(&server, &name);
        let pool = match kind {
            Kind::Postgres => {
                let admin = PgPool::connect(&server)
                    .await
                    .expect("connect to AUDIT_TEST_POSTGRES_URL");
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                TestPool::Postgres(
                    PgPool::connect(&url)
                        .await
                        .expect("connect to test database"),
                )
            }
            Kind::MySql => {
                let admin = MySqlPool::connect(&server)
                    .await
                    .expect("connect to AUDIT_TEST_MYSQL_URL");
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                TestPool::MySql(
                    MySqlPool::connect(&url)
                        .await
                        .expect("connect to test database"),
                )
            }
            Kind::Sqlite => unreachable!("handled above"),
        };
        Some(TestDb {
            kind,
            url,
            pool,
            server: Some((server, name)),
            _dir: None,
        })
    }

    /// The database as the auditor takes it.
    pub fn database(&self) -> Database {
        match &self.pool {
            TestPool::Sqlite(pool) => pool.clone().into(),
            TestPool::Postgres(pool) => pool.clone().into(),
            TestPool::MySql(pool) => pool.clone().into(),
        }
    }

    /// An auditor with `config` and this database as `default`.
    pub fn auditor(&self, config: AuditConfig) -> Auditor {
        Auditor::builder(config)
            .database("default", self.database())
            .build()
            .expect("valid auditor")
    }

    /// A database of the same kind that cannot be reached: a closed port on
    /// 127.0.0.1, or an SQLite file in a directory that does not exist.
    pub fn unreachable(&self) -> Database {
        let timeout = Duration::from_secs(2);
        match self.kind {
            Kind::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions =
                    "sqlite:///nonexistent-dir/audit.db"
                        .parse()
                        .expect("sqlite url");
                sqlx::sqlite::SqlitePoolOptions::new()
                    .acquire_timeout(timeout)
                    .connect_lazy_with(options)
                    .into()
            }
            Kind::Postgres => sqlx::postgres::PgPoolOptions::new()
                .acquire_timeout(timeout)
                .connect_lazy("postgres://postgres@127.0.0.1:1/test")
                .expect("url")
                .into(),
            Kind::MySql => sqlx::mysql::MySqlPoolOptions::new()
                .acquire_timeout(timeout)
                .connect_lazy("mysql://root@127.0.0.1:1/test")
                .expect("url")
                .into(),
        }
    }

    /// Runs one statement.
    pub async fn exec(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            TestPool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            TestPool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            TestPool::MySql(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        };
        result.expect("statement runs");
    }

    /// How many sessions the server has open on this database (its own
    /// pool's included); `None` for SQLite.
    pub async fn sessions(&self) -> Option<i64> {
        match &self.pool {
            TestPool::Sqlite(_) => None,
            TestPool::Postgres(pool) => Some(
                sqlx::query_scalar(
                    "SELECT CAST(count(*) AS BIGINT) FROM pg_stat_activity \
                     WHERE datname = current_database()",
                )
                .fetch_one(pool)
                .await
                .expect("count sessions"),
            ),
            TestPool::MySql(pool) => Some(
                sqlx::query_scalar(
                    "SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.processlist \
                     WHERE db = DATABASE()",
                )
                .fetch_one(pool)
                .await
                .expect("count sessions"),
            ),
        }
    }

    /// The number of rows in `table`, 0 while it does not exist.
    pub async fn count_if_exists(&self, table: &str) -> i64 {
        if self.table_exists(None, table).await {
            self.count(table).await
        } else {
            0
        }
    }

    /// The number of rows in `table` (a trusted name, optionally `schema.table`).
    pub async fn count(&self, table: &str) -> i64 {
        let quoted = table
            .split('.')
            .map(|part| self.kind.dialect().quote(part))
            .collect::<Vec<_>>()
            .join(".");
        let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {quoted}"));
        let result = match &self.pool {
            TestPool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            TestPool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            TestPool::MySql(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        };
        result.expect("count rows")
    }

    /// The integers a one-column query returns, sorted (a trusted query).
    pub async fn ids(&self, sql: &str) -> Vec<i64> {
        let sql = sql.replace(
            "AS BIGINT",
            if self.kind == Kind::MySql {
                "AS SIGNED"
            } else {
                "AS BIGINT"
            },
        );
        let sql = AssertSqlSafe(sql);
        let result = match &self.pool {
            TestPool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestPool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestPool::MySql(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        };
        let mut ids: Vec<i64> = result.expect("query ids");
        ids.sort_unstable();
        ids
    }

    /// The optional texts a one-column query returns, in its order (a
    /// trusted query).
    pub async fn texts(&self, sql: &str) -> Vec<Option<String>> {
        let sql = AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            TestPool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestPool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            TestPool::MySql(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        };
        result.expect("query texts")
    }

    /// The columns of `table` (in `schema` on PostgreSQL, else the default
    /// schema), in table order.
    pub async fn columns(&self, schema: Option<&str>, table: &str) -> Vec<String> {
        let result = match &self.pool {
            TestPool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(pool)
                    .await
            }
            TestPool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2 \
                     ORDER BY ordinal_position",
                )
                .bind(schema)
                .bind(table)
                .fetch_all(pool)
                .await
            }
            TestPool::MySql(pool) => {
                sqlx::query_scalar(
                    "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                     WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(pool)
                .await
            }
        };
        result.expect("list columns")
    }

    /// The indexes of `table` (in `schema` on PostgreSQL, else the default
    /// schema), by name, each with its columns in order; on MySQL a column
    /// indexed by a prefix reads `column(length)`.
    pub async fn indexes(
        &self,
        schema: Option<&str>,
        table: &str,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let rows: Vec<(String, String)> = match &self.pool {
            TestPool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT l.name, i.name FROM pragma_index_list(?1) AS l, \
                     pragma_index_info(l.name) AS i ORDER BY l.name, i.seqno",
                )
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("list indexes")
            }
            TestPool::Postgres(pool) => {
                let defs: Vec<(String, String)> = sqlx::query_as(
                    "SELECT indexname::text, indexdef FROM pg_indexes \
                     WHERE schemaname = COALESCE($1, current_schema()) AND tablename = $2",
                )
                .bind(schema)
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("list indexes");
                // `CREATE INDEX name ON schema.table USING btree (a, b)`
                defs.into_iter()
                    .flat_map(|(name, def)| {
                        let columns = def
                            .rsplit_once('(')
                            .map(|(_, list)| list.trim_end_matches(')').to_owned())
                            .unwrap_or_default();
                        columns
                            .split(", ")
                            .map(|column| (name.clone(), column.to_owned()))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
            TestPool::MySql(pool) => {
                sqlx::query_as(
                    "SELECT CAST(index_name AS CHAR), \
                     CAST(CONCAT(column_name, IF(sub_part IS NULL, '', CONCAT('(', sub_part, ')'))) AS CHAR) \
                     FROM information_schema.statistics \
                     WHERE table_schema = DATABASE() AND table_name = ? \
                     ORDER BY index_name, seq_in_index",
                )
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("list indexes")
            }
        };
        let mut indexes = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (name, column) in rows {
            indexes.entry(name).or_default().push(column);
        }
        indexes
    }

    /// Whether `table` exists (in `schema` on PostgreSQL, else the default schema).
    pub async fn table_exists(&self, schema: Option<&str>, table: &str) -> bool {
        let count: Result<i64, sqlx::Error> = match &self.pool {
            TestPool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(table)
                    .fetch_one(pool)
                    .await
            }
            TestPool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2",
                )
                .bind(schema)
                .bind(table)
                .fetch_one(pool)
                .await
            }
            TestPool::MySql(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                )
                .bind(table)
                .fetch_one(pool)
                .await
            }
        };
        count.expect("look up table") > 0
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.server.take() else {
            return;
        };
        let kind = self.kind;
        // Runs on its own thread and runtime: Drop cannot await, and the
        // test's runtime may be shutting down.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                match kind {
                    Kind::Postgres => {
                        let admin = PgPool::connect(&server).await?;
                        sqlx::query(AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .execute(&admin)
                        .await?;
                        admin.close().await;
                    }
                    Kind::MySql => {
                        let admin = MySqlPool::connect(&server).await?;
                        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                            .execute(&admin)
                            .await?;
                        admin.close().await;
                    }
                    Kind::Sqlite => {}
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database: {e}");
        }
    }
}

/// A TCP proxy on 127.0.0.1 in front of a database server, which the test
/// can take down (every connection cut, new ones refused at once) and bring
/// back, to simulate a server outage without stopping the shared server;
/// or make lose the server's answers (the request reaches the server, which
/// does the work and commits, but the answer is dropped and the connection
/// cut), to simulate a connection lost after a commit.
pub struct FlakyProxy {
    /// The proxy's address.
    pub addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    lose_answers: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    /// Starts a proxy to `target`, up.
    pub async fn start(target: std::net::SocketAddr) -> FlakyProxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(true));
        let lose_answers = Arc::new(AtomicBool::new(false));
        let connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let accept = {
            let up = Arc::clone(&up);
            let lose_answers = Arc::clone(&lose_answers);
            let connections = Arc::clone(&connections);
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let lose_answers = Arc::clone(&lose_answers);
                    let task = tokio::spawn(async move {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                            return;
                        };
                        let (mut client_read, mut client_write) = client.into_split();
                        let (mut server_read, mut server_write) = server.into_split();
                        // Set when a statement is executed while answers
                        // are being lost: its answer is the one to lose.
                        let armed = AtomicBool::new(false);
                        let requests = async {
                            let mut buf = vec![0u8; 64 * 1024];
                            loop {
                                let n = client_read.read(&mut buf).await?;
                                if n == 0 {
                                    return Ok::<_, std::io::Error>(());
                                }
                                if lose_answers.load(Ordering::SeqCst) && executes(&buf[..n]) {
                                    armed.store(true, Ordering::SeqCst);
                                }
                                server_write.write_all(&buf[..n]).await?;
                            }
                        };
                        let answers = async {
                            let mut buf = vec![0u8; 64 * 1024];
                            loop {
                                let n = server_read.read(&mut buf).await?;
                                if n == 0 || armed.load(Ordering::SeqCst) {
                                    // Dropped: the connection ends here.
                                    return Ok::<_, std::io::Error>(());
                                }
                                client_write.write_all(&buf[..n]).await?;
                            }
                        };
                        tokio::select! {
                            _ = requests => {}
                            _ = answers => {}
                        }
                    });
                    connections
                        .lock()
                        .expect("proxy lock")
                        .push(task.abort_handle());
                }
            })
        };
        FlakyProxy {
            addr,
            up,
            lose_answers,
            connections,
            accept,
        }
    }

    /// While `on`, the answer to a statement executed is dropped and its
    /// connection cut: the work was done, the client never hears so.
    pub fn lose_answers(&self, on: bool) {
        self.lose_answers.store(on, Ordering::SeqCst);
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.connections.lock().expect("proxy lock").drain(..) {
            task.abort();
        }
    }

    /// Accepts connections again.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Whether a client's request executes a statement: PostgreSQL's Bind
/// (`B`, the extended protocol) or Query (`Q`); MySQL's COM_STMT_EXECUTE
/// (0x17) or COM_QUERY (0x03) after the 4-byte packet header.
fn executes(request: &[u8]) -> bool {
    matches!(request.first(), Some(b'B' | b'Q')) || matches!(request.get(4), Some(0x17 | 0x03))
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.down();
        self.accept.abort();
    }
}

impl TestDb {
    /// This database through a [`FlakyProxy`]; `None` for SQLite.
    pub async fn behind_proxy(&self) -> Option<(FlakyProxy, Database)> {
        self.behind_proxy_with(true).await
    }

    /// [`behind_proxy`](Self::behind_proxy), with the pool pinging each
    /// connection it hands out (`test_before_acquire`) or not: without the
    /// ping, a statement is the first thing sent on an idle connection, so
    /// a lost answer is that statement's.
    pub async fn behind_proxy_with(
        &self,
        test_before_acquire: bool,
    ) -> Option<(FlakyProxy, Database)> {
        let (server, name) = self.server.as_ref()?;
        let rest = server
            .split_once("://")
            .map_or(server.as_str(), |(_, rest)| rest);
        let host_port = rest.split(['/', '?']).next().unwrap_or(rest);
        let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, hp)| hp);
        let target = tokio::net::lookup_host(host_port)
            .await
            .expect("resolve server")
            .next()
            .expect("server address");
        let proxy = FlakyProxy::start(target).await;
        let url = with_database(
            &server.replacen(host_port, &proxy.addr.to_string(), 1),
            name,
        );
        let timeout = Duration::from_secs(2);
        let database = match self.kind {
            Kind::Postgres => sqlx::postgres::PgPoolOptions::new()
                .acquire_timeout(timeout)
                .test_before_acquire(test_before_acquire)
                .connect_lazy(&url)
                .expect("url")
                .into(),
            Kind::MySql => sqlx::mysql::MySqlPoolOptions::new()
                .acquire_timeout(timeout)
                .test_before_acquire(test_before_acquire)
                .connect_lazy(&url)
                .expect("url")
                .into(),
            Kind::Sqlite => return None,
        };
        Some((proxy, database))
    }
}
