//! Tells the test targets which servers are not configured, so that the
//! test runner reports the tests that need them as ignored rather than
//! passed: for each of `AUDIT_TEST_POSTGRES_URL`, `AUDIT_TEST_MYSQL_URL` and
//! `AUDIT_TEST_REDIS_URL` that is unset or empty, the cfg `aal_no_postgres`,
//! `aal_no_mysql` or `aal_no_redis` is set. With `AUDIT_TEST_REQUIRE_ALL=1`
//! none is set: the tests run, and a missing URL fails them.

const SERVERS: [(&str, &str); 3] = [
    ("AUDIT_TEST_POSTGRES_URL", "aal_no_postgres"),
    ("AUDIT_TEST_MYSQL_URL", "aal_no_mysql"),
    ("AUDIT_TEST_REDIS_URL", "aal_no_redis"),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=AUDIT_TEST_REQUIRE_ALL");
    let require_all = std::env::var("AUDIT_TEST_REQUIRE_ALL").as_deref() == Ok("1");
    for (var, cfg) in SERVERS {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let set = std::env::var_os(var).is_some_and(|url| !url.is_empty());
        if !set && !require_all {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
