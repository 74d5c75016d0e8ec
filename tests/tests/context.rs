//! Who made the change: the HTTP layer against a real server and client,
//! and the command, job and shell scopes. SQLite is enough here: the
//! context columns are written the same way on every backend (the
//! behavioural suite covers the backends).

use std::panic::AssertUnwindSafe;

use awesome_audit_log::context::{self, AuditContext, os_user};
use awesome_audit_log::http::{AuditLayer, ForwardedHeader};
use awesome_audit_log::{Action, AuditConfig, Auditor};
use awesome_audit_log_tests::models::{GizmoLog, Widget, WidgetLog};
use awesome_audit_log_tests::server::{TestServer, app};
use awesome_audit_log_tests::{Kind, TestDb};
use futures_util::FutureExt;
use futures_util::future::join_all;

async fn sqlite() -> TestDb {
    TestDb::new(Kind::Sqlite)
        .await
        .expect("SQLite is always available")
}

async fn widget_rows(auditor: &Auditor, id: i64) -> Vec<WidgetLog> {
    WidgetLog::for_object(auditor, &id)
        .await
        .expect("read widget_log")
}

async fn gizmo_rows(auditor: &Auditor, id: i64) -> Vec<GizmoLog> {
    GizmoLog::for_object(auditor, &id)
        .await
        .expect("read gizmo_log")
}

/// The context columns of a row, in table order.
type Columns = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn columns_of(row: &WidgetLog) -> Columns {
    (
        row.entry_point.clone(),
        row.route.clone(),
        row.path.clone(),
        row.method.clone(),
        row.ip.clone(),
        row.user_id,
        row.user_name.clone(),
        row.user_agent.clone(),
    )
}

fn gizmo_columns(row: &GizmoLog) -> Columns {
    (
        row.entry_point.clone(),
        row.route.clone(),
        row.path.clone(),
        row.method.clone(),
        row.ip.clone(),
        row.user_id,
        row.user_name.clone(),
        row.user_agent.clone(),
    )
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

const NO_CONTEXT: Columns = (None, None, None, None, None, None, None, None);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
}

/// A server with the layer built from `config`, and its auditor.
async fn serve(db: &TestDb, config: AuditConfig, concurrent: usize) -> (TestServer, Auditor) {
    serve_with(db, config, concurrent, |layer| layer).await
}

async fn serve_with(
    db: &TestDb,
    config: AuditConfig,
    concurrent: usize,
    configure: impl FnOnce(AuditLayer) -> AuditLayer,
) -> (TestServer, Auditor) {
    let auditor = db.auditor(config);
    let layer = configure(AuditLayer::new(auditor.config()));
    let server = TestServer::start(app(auditor.clone(), layer, concurrent)).await;
    (server, auditor)
}

fn trusting(proxies: &str) -> AuditConfig {
    let mut config = AuditConfig::default();
    config.trusted_proxies = proxies.parse().expect("valid proxies");
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_rows_carry_every_context_column() {
    let db = sqlite().await;
    let (server, auditor) = serve(&db, AuditConfig::default(), 1).await;
    let client = client();

    let response = client
        .post(server.url("/widgets/7?dry_run=1&tag=a%20b"))
        .header("user-agent", "context-test/1.0")
        .header("x-ext-user-id", "42")
        .header("x-ext-user-name", "ada")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // The same client (and likely the same connection) with no user and
    // another agent: nothing of the first request may stick.
    let response = client
        .patch(server.url("/widgets/7"))
        .header("user-agent", "other-agent")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let rows = widget_rows(&auditor, 7).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        columns_of(&rows[0]),
        (
            s("http"),
            s("/widgets/{id}"),
            s("/widgets/7?dry_run=1&tag=a%20b"),
            s("POST"),
            s("127.0.0.1"),
            Some(42),
            s("ada"),
            s("context-test/1.0"),
        )
    );
    assert_eq!(
        columns_of(&rows[1]),
        (
            s("http"),
            s("/widgets/{id}"),
            s("/widgets/7"),
            s("PATCH"),
            s("127.0.0.1"),
            None,
            None,
            s("other-agent"),
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_set_inside_the_layer_or_by_an_extractor() {
    let db = sqlite().await;
    let client = client();

    // An auth middleware inside the layer calls `context::set_user`.
    let (server, auditor) = serve(&db, AuditConfig::default(), 1).await;
    client
        .post(server.url("/widgets/1"))
        .header("x-inner-user-id", "5")
        .header("x-inner-user-name", "grace")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let row = &widget_rows(&auditor, 1).await[0];
    assert_eq!(
        (row.user_id, row.user_name.as_deref()),
        (Some(5), Some("grace"))
    );

    // A function given to the layer finds the user; it wins over the extension.
    let (server, auditor) = serve_with(&db, AuditConfig::default(), 1, |layer| {
        layer.user_from(|request| {
            let name = request.headers.get("x-gateway-user")?.to_str().ok()?;
            Some(context::AuditUser::named(name))
        })
    })
    .await;
    client
        .post(server.url("/widgets/2"))
        .header("x-gateway-user", "linus")
        .header("x-ext-user-id", "9")
        .header("x-ext-user-name", "ext")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let row = &widget_rows(&auditor, 2).await[0];
    assert_eq!(
        (row.user_id, row.user_name.as_deref()),
        (None, Some("linus"))
    );
    // Without the header the extractor says nothing and the extension is used.
    client
        .post(server.url("/widgets/3"))
        .header("x-ext-user-id", "9")
        .header("x-ext-user-name", "ext")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let row = &widget_rows(&auditor, 3).await[0];
    assert_eq!(
        (row.user_id, row.user_name.as_deref()),
        (Some(9), Some("ext"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_only_from_trusted_proxies() {
    let db = sqlite().await;
    let client = client();
    let send = |server: &TestServer, id: i64, header: Option<(&'static str, &'static str)>| {
        let mut request = client.post(server.url(&format!("/widgets/{id}")));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap().error_for_status().unwrap() }
    };
    let ip_of = |auditor: Auditor, id: i64| async move {
        widget_rows(&auditor, id).await[0].ip.clone().unwrap()
    };

    // 127.0.0.1 is not trusted: a forged header is ignored.
    let (untrusted, auditor) = serve(&db, AuditConfig::default(), 1).await;
    send(&untrusted, 1, Some(("x-forwarded-for", "203.0.113.9"))).await;
    assert_eq!(ip_of(auditor.clone(), 1).await, "127.0.0.1");
    send(&untrusted, 2, Some(("forwarded", "for=203.0.113.9"))).await;
    assert_eq!(ip_of(auditor.clone(), 2).await, "127.0.0.1");

    // 127.0.0.1 is a trusted proxy: its header names the client.
    let (trusted, auditor) = serve(&db, trusting("127.0.0.1, 10.0.0.0/8"), 1).await;
    send(&trusted, 11, Some(("x-forwarded-for", "203.0.113.9"))).await;
    assert_eq!(ip_of(auditor.clone(), 11).await, "203.0.113.9");
    // A client that sends its own header through the proxy cannot forge:
    // the proxy appended the real address, read from the right.
    send(
        &trusted,
        12,
        Some(("x-forwarded-for", "198.51.100.66, 203.0.113.9")),
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 12).await, "203.0.113.9");
    // Trusted hops (another proxy inside 10/8) are skipped.
    send(
        &trusted,
        13,
        Some(("x-forwarded-for", "203.0.113.9, 10.1.2.3")),
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 13).await, "203.0.113.9");
    // No header: the proxy itself.
    send(&trusted, 14, None).await;
    assert_eq!(ip_of(auditor.clone(), 14).await, "127.0.0.1");
    // The layer reads X-Forwarded-For unless told otherwise.
    send(&trusted, 15, Some(("forwarded", "for=203.0.113.9"))).await;
    assert_eq!(ip_of(auditor.clone(), 15).await, "127.0.0.1");

    let (forwarded, auditor) = serve_with(&db, trusting("127.0.0.1"), 1, |layer| {
        layer.forwarded_header(ForwardedHeader::Forwarded)
    })
    .await;
    send(
        &forwarded,
        21,
        Some(("forwarded", r#"for="[2001:db8::5]:4711";proto=https"#)),
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 21).await, "2001:db8::5");
}

/// Every row a request logs (in the handler and in work it spawns with
/// the context) shares one correlation id: a trusted proxy's
/// `X-Request-Id`, else a new UUID v7 per request. A client's own header is
/// ignored; a task spawned without the context has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_rows_share_one_correlation_id() {
    let db = sqlite().await;
    let client = client();
    let send = |server: &TestServer, id: i64, request_id: Option<&'static str>| {
        let mut request = client.post(server.url(&format!("/concurrent/{id}")));
        if let Some(request_id) = request_id {
            request = request.header("x-request-id", request_id);
        }
        async move { request.send().await.unwrap().error_for_status().unwrap() }
    };
    let ids_of = async |table: &str, id: i64| {
        db.texts(&format!(
            "SELECT correlation_id FROM {table} WHERE object_pk = '{id}' ORDER BY id"
        ))
        .await
    };
    let one_id = async |id: i64| {
        let ids = ids_of("widget_log", id).await;
        assert_eq!(ids.len(), 3, "insert, update, spawned delete");
        assert!(ids.iter().all(|each| *each == ids[0]), "{ids:?}");
        assert_eq!(ids_of("gizmo_log", id).await, [None], "plain spawn");
        ids[0].clone().expect("a correlation id")
    };
    let is_uuid_v7 =
        |id: &str| uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.get_version_num() == 7);

    // 127.0.0.1 is not trusted: the client's header is ignored.
    let (untrusted, _auditor) = serve(&db, AuditConfig::default(), 1).await;
    send(&untrusted, 1, Some("forged-id")).await;
    send(&untrusted, 2, None).await;
    let (first, second) = (one_id(1).await, one_id(2).await);
    assert!(
        is_uuid_v7(&first) && is_uuid_v7(&second),
        "{first} {second}"
    );
    assert_ne!(first, second);

    // 127.0.0.1 is a trusted proxy: its request id is the correlation id.
    let (trusted, _auditor) = serve(&db, trusting("127.0.0.1"), 1).await;
    send(&trusted, 3, Some("4bf92f3577b34da6")).await;
    assert_eq!(one_id(3).await, "4bf92f3577b34da6");
    send(&trusted, 4, None).await;
    assert!(is_uuid_v7(&one_id(4).await));
}

/// A trusted proxy passes on what the client wrote into the header; when the
/// header does not parse, none of it is believed and the proxy (the socket
/// peer) is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_forwarded_for_from_a_trusted_proxy_gives_the_proxy() {
    let db = sqlite().await;
    let client = client();
    let send = |server: &TestServer, id: i64, name: &'static str, value: &'static str| {
        let request = client
            .post(server.url(&format!("/widgets/{id}")))
            .header(name, value);
        async move { request.send().await.unwrap().error_for_status().unwrap() }
    };
    let ip_of = |auditor: Auditor, id: i64| async move {
        widget_rows(&auditor, id).await[0].ip.clone().unwrap()
    };

    let (forwarded, auditor) = serve_with(&db, trusting("127.0.0.1, 10.0.0.0/8"), 1, |layer| {
        layer.forwarded_header(ForwardedHeader::Forwarded)
    })
    .await;
    // The client's unterminated quote would swallow the element the proxy
    // appended (`for=9.9.9.9`), leaving the client's own `for=6.6.6.6`.
    send(
        &forwarded,
        1,
        "forwarded",
        r#"for=6.6.6.6;by="x, for=9.9.9.9"#,
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 1).await, "127.0.0.1");
    send(
        &forwarded,
        2,
        "forwarded",
        "for=6.6.6.6;for=7.7.7.7, for=10.1.2.3",
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 2).await, "127.0.0.1");
    send(
        &forwarded,
        3,
        "forwarded",
        "for=6.6.6.6, for=proxy.example, for=10.1.2.3",
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 3).await, "127.0.0.1");
    // Well-formed, the same server reads it.
    send(
        &forwarded,
        4,
        "forwarded",
        r#"for=198.51.100.17;by="a, b", for=10.1.2.3"#,
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 4).await, "198.51.100.17");

    let (xff, auditor) = serve(&db, trusting("127.0.0.1, 10.0.0.0/8"), 1).await;
    send(
        &xff,
        11,
        "x-forwarded-for",
        "198.51.100.66, not-an-ip, 10.1.2.3",
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 11).await, "127.0.0.1");
    send(
        &xff,
        12,
        "x-forwarded-for",
        "198.51.100.66, 10.1.2.3 6.6.6.6",
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 12).await, "127.0.0.1");
    // `unknown` is a proxy's way of not naming a hop: the walk stops there.
    send(
        &xff,
        13,
        "x-forwarded-for",
        "198.51.100.66, unknown, 10.1.2.3",
    )
    .await;
    assert_eq!(ip_of(auditor.clone(), 13).await, "10.1.2.3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_gone_after_success_error_and_panic() {
    let db = sqlite().await;
    let (server, auditor) = serve(&db, AuditConfig::default(), 1).await;
    let client = client();
    let cases = [("/widgets/1", 201), ("/fail/2", 422), ("/panic/3", 500)];
    for (id, (path, status)) in (1..).zip(cases) {
        let response = client
            .post(server.url(path))
            .header("x-ext-user-id", "42")
            .header("x-ext-user-name", "ada")
            .header("x-after-id", id.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");

        // Inside the request: the full context.
        let rows = widget_rows(&auditor, id).await;
        assert_eq!(rows.len(), 1, "{path}");
        let (entry_point, route, row_path, ..) = columns_of(&rows[0]);
        assert_eq!(entry_point.as_deref(), Some("http"));
        assert_eq!(row_path.as_deref(), Some(path));
        assert!(route.is_some_and(|route| route.ends_with("/{id}")));
        assert_eq!(rows[0].user_id, Some(42));

        // Logged by the outer middleware in the same task after the request
        // finished (or panicked): no context at all.
        let after = gizmo_rows(&auditor, id).await;
        assert_eq!(after.len(), 1, "{path}");
        assert_eq!(gizmo_columns(&after[0]), NO_CONTEXT, "{path}");
    }
    // The server still serves after the panic.
    let response = client.post(server.url("/widgets/4")).send().await.unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_see_each_others_context() {
    const REQUESTS: i64 = 120;
    let db = sqlite().await;
    let (server, auditor) = serve(&db, AuditConfig::default(), REQUESTS as usize).await;
    let client = client();

    // Every request waits inside its handler until all are in flight, so
    // their scopes are interleaved on the server's two worker threads. Half
    // the users come from the request extension, half from set_user inside.
    let requests = (1..=REQUESTS).map(|i| {
        let prefix = if i % 2 == 0 { "ext" } else { "inner" };
        client
            .post(server.url(&format!("/concurrent/{i}?n={i}")))
            .header("user-agent", format!("agent-{i}"))
            .header(format!("x-{prefix}-user-id"), (1000 + i).to_string())
            .header(format!("x-{prefix}-user-name"), format!("user-{i}"))
            .send()
    });
    for response in join_all(requests).await {
        let response = response.unwrap();
        let status = response.status();
        assert_eq!(status, 200, "{}", response.text().await.unwrap_or_default());
    }

    for i in 1..=REQUESTS {
        let rows = widget_rows(&auditor, i).await;
        // insert, update (after the barrier), delete (from context::spawn)
        assert_eq!(rows.len(), 3, "request {i}");
        for row in &rows {
            assert_eq!(
                columns_of(row),
                (
                    s("http"),
                    s("/concurrent/{id}"),
                    Some(format!("/concurrent/{i}?n={i}")),
                    s("POST"),
                    s("127.0.0.1"),
                    Some(1000 + i),
                    Some(format!("user-{i}")),
                    Some(format!("agent-{i}")),
                ),
                "request {i}, {} row",
                row.action
            );
        }
        assert_eq!(rows[2].action, Action::Delete, "the spawned task's row");
        // A plain tokio::spawn does not carry the context.
        let plain = gizmo_rows(&auditor, i).await;
        assert_eq!(plain.len(), 1);
        assert_eq!(gizmo_columns(&plain[0]), NO_CONTEXT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_http_off_records_nothing() {
    let db = sqlite().await;
    let mut config = AuditConfig::default();
    config.capture_http = false;
    let (server, auditor) = serve(&db, config, 1).await;
    client()
        .post(server.url("/widgets/1?x=1"))
        .header("x-ext-user-id", "42")
        .header("x-ext-user-name", "ada")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let rows = widget_rows(&auditor, 1).await;
    assert_eq!(columns_of(&rows[0]), NO_CONTEXT);
}

fn recount_cli() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    Command::new("shop").subcommand(
        Command::new("recount")
            .arg(Arg::new("warehouse").required(true))
            .arg(
                Arg::new("dry_run")
                    .long("dry-run")
                    .action(ArgAction::SetTrue),
            )
            .arg(Arg::new("limit").long("limit").default_value("100"))
            .arg(Arg::new("batch").long("batch").default_value("10")),
    )
}

#[tokio::test]
async fn command_scope_from_clap() {
    let db = sqlite().await;
    let auditor = db.auditor(AuditConfig::default());
    let cli = recount_cli();
    let matches = cli
        .clone()
        .try_get_matches_from(["shop", "recount", "north", "--dry-run", "--batch", "50"])
        .unwrap();
    let ctx = AuditContext::from_clap(&cli, &matches);
    context::capture(auditor.config(), ctx, async {
        let _ = Widget::log_change(
            &auditor,
            None,
            Some(&Widget {
                id: 1,
                name: "a".into(),
                qty: 1,
            }),
        )
        .await
        .unwrap();
    })
    .await;
    let rows = widget_rows(&auditor, 1).await;
    assert_eq!(
        columns_of(&rows[0]),
        (
            s("management_command"),
            s("shop recount"),
            s("recount"),
            s("execute"),
            None,
            None,
            os_user(),
            s("warehouse=north dry_run=true batch=50"),
        )
    );

    // CAPTURE_COMMANDS = false: no context.
    let config = AuditConfig::from_toml_str("CAPTURE_COMMANDS = false").unwrap();
    let auditor = db.auditor(config);
    let ctx = AuditContext::from_clap(&cli, &matches);
    context::capture(auditor.config(), ctx, async {
        let _ = Widget::log_change(
            &auditor,
            None,
            Some(&Widget {
                id: 2,
                name: "a".into(),
                qty: 1,
            }),
        )
        .await
        .unwrap();
    })
    .await;
    assert_eq!(columns_of(&widget_rows(&auditor, 2).await[0]), NO_CONTEXT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_scope_and_spawned_work() {
    let db = sqlite().await;
    let auditor = db.auditor(AuditConfig::default());
    let w = |id| Widget {
        id,
        name: "a".into(),
        qty: 1,
    };
    let ctx = AuditContext::job("shop.jobs.recount", Some("shop.jobs"));
    context::capture(auditor.config(), ctx, async {
        let _ = Widget::log_change(&auditor, None, Some(&w(1)))
            .await
            .unwrap();
        // Carried along by context::spawn ...
        let child = auditor.clone();
        let _ = context::spawn(async move { Widget::log_change(&child, None, Some(&w(2))).await })
            .await
            .unwrap()
            .unwrap();
        // ... and by context::bind on a JoinSet ...
        let mut set = tokio::task::JoinSet::new();
        let child = auditor.clone();
        set.spawn(context::bind(async move {
            Widget::log_change(&child, None, Some(&w(3))).await
        }));
        let _ = set.join_next().await.unwrap().unwrap().unwrap();
        // ... but not by a plain tokio::spawn.
        let child = auditor.clone();
        let _ = tokio::spawn(async move { Widget::log_change(&child, None, Some(&w(4))).await })
            .await
            .unwrap()
            .unwrap();
    })
    .await;

    let job = (
        s("celery_task"),
        s("shop.jobs.recount"),
        s("recount"),
        s("run"),
        None,
        None,
        os_user(),
        s("task=shop.jobs.recount module=shop.jobs"),
    );
    for id in 1..=3 {
        assert_eq!(columns_of(&widget_rows(&auditor, id).await[0]), job, "{id}");
    }
    assert_eq!(columns_of(&widget_rows(&auditor, 4).await[0]), NO_CONTEXT);

    // CAPTURE_JOBS (the clearer alias of CAPTURE_CELERY) = false: no context.
    let auditor = db.auditor(AuditConfig::from_toml_str("CAPTURE_JOBS = false").unwrap());
    let ctx = AuditContext::job("shop.jobs.recount", None);
    context::capture(auditor.config(), ctx, async {
        let _ = Widget::log_change(&auditor, None, Some(&w(5)))
            .await
            .unwrap();
    })
    .await;
    assert_eq!(columns_of(&widget_rows(&auditor, 5).await[0]), NO_CONTEXT);
}

#[tokio::test]
async fn scopes_end_on_error_and_panic() {
    let db = sqlite().await;
    let auditor = db.auditor(AuditConfig::default());
    let w = |id| Widget {
        id,
        name: "a".into(),
        qty: 1,
    };

    let failed: Result<(), &str> = context::scope(AuditContext::shell("fix-prices"), async {
        let _ = Widget::log_change(&auditor, None, Some(&w(1)))
            .await
            .unwrap();
        Err("job failed")
    })
    .await;
    assert!(failed.is_err());
    let _ = Widget::log_change(&auditor, None, Some(&w(2)))
        .await
        .unwrap();

    let panicked = AssertUnwindSafe(context::scope(AuditContext::job("boom", None), async {
        let _ = Widget::log_change(&auditor, None, Some(&w(3)))
            .await
            .unwrap();
        panic!("job panicked");
    }))
    .catch_unwind()
    .await;
    assert!(panicked.is_err());
    let _ = Widget::log_change(&auditor, None, Some(&w(4)))
        .await
        .unwrap();

    let shell = columns_of(&widget_rows(&auditor, 1).await[0]);
    assert_eq!(
        shell,
        (
            s("shell"),
            None,
            s("fix-prices"),
            None,
            None,
            None,
            os_user(),
            None
        )
    );
    assert_eq!(
        columns_of(&widget_rows(&auditor, 3).await[0]).0,
        s("celery_task")
    );
    assert_eq!(columns_of(&widget_rows(&auditor, 2).await[0]), NO_CONTEXT);
    assert_eq!(columns_of(&widget_rows(&auditor, 4).await[0]), NO_CONTEXT);
}
