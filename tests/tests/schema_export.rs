//! The build-script helper (which reads sources) and the registry export
//! (which reads the compiled models) write identical files.

use std::collections::BTreeSet;
use std::path::Path;

use awesome_audit_log::{Dialect, build, registry, schema};
use awesome_audit_log_tests::models::{Account, Gadget, Gizmo, Widget, WidgetLog};

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn build_helper_and_registry_write_identical_files() {
    // Link the models of this crate's library, whose sources the helper reads.
    let _ = (
        Widget::log_change,
        Gizmo::log_change,
        Account::log_change,
        Gadget::log_change,
    );
    let labels: Vec<_> = registry::models().iter().map(|m| m.label()).collect();
    assert_eq!(
        labels,
        ["bank.account", "shop.gadget", "shop.gizmo", "shop.widget"]
    );

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (dialect, pg_schema) in [
        (Dialect::Postgres, None),
        (Dialect::Postgres, Some("audit")),
        (Dialect::MySql, None),
        (Dialect::Sqlite, None),
    ] {
        let from_registry = tempfile::tempdir().unwrap();
        let from_sources = tempfile::tempdir().unwrap();
        let exported = schema::export(dialect, pg_schema, from_registry.path()).unwrap();
        let scanned = build::export_schema_from(
            &src,
            "awesome_audit_log_tests",
            dialect,
            pg_schema,
            from_sources.path(),
        )
        .unwrap();
        assert!(scanned.iter().all(|m| m.status == build::Status::Created));

        // The same tables with the same content; the versions are the
        // times of the two exports, which may be a second apart.
        let registry_files = files(from_registry.path());
        assert_eq!(
            without_versions(&registry_files),
            without_versions(&files(from_sources.path())),
            "{dialect:?} {pg_schema:?}"
        );
        assert_eq!(registry_files.len(), 4);
        let versions: BTreeSet<_> = registry_files
            .iter()
            .map(|(name, _)| name.split_once('_').unwrap().0.to_owned())
            .collect();
        assert_eq!(versions.len(), 4, "unique versions: {registry_files:?}");
        assert!(versions.iter().all(|v| v.len() == 14), "{versions:?}");

        // Into the registry's directory, the helper finds every file it
        // would write, with the same name and content, and leaves them.
        let again = build::export_schema_from(
            &src,
            "awesome_audit_log_tests",
            dialect,
            pg_schema,
            from_registry.path(),
        )
        .unwrap();
        assert!(again.iter().all(|m| m.status == build::Status::Unchanged));
        assert_eq!(
            again.into_iter().map(|m| m.path).collect::<Vec<_>>(),
            exported
        );
        assert_eq!(files(from_registry.path()), registry_files);

        let (_, widget) = registry_files
            .iter()
            .find(|(name, _)| name.ends_with("_create_widget_log.sql"))
            .expect("widget_log file");
        let expected = match (dialect, pg_schema) {
            (Dialect::Postgres, Some(_)) => WidgetLog::DDL_POSTGRES
                .replace("\"widget_log\"", "\"audit\".\"widget_log\"")
                .replace(
                    "\"awesome_audit_log_tables\"",
                    "\"audit\".\"awesome_audit_log_tables\"",
                ),
            (Dialect::Postgres, None) => WidgetLog::DDL_POSTGRES.to_owned(),
            (Dialect::MySql, _) => WidgetLog::DDL_MYSQL.to_owned(),
            (Dialect::Sqlite, _) => WidgetLog::DDL_SQLITE.to_owned(),
        };
        assert!(widget.contains(&format!("{expected};\n")), "{widget}");
    }
}

/// The files with their names' versions cut off.
fn without_versions(files: &[(String, String)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(name, content)| {
            let (_, rest) = name.split_once('_').expect("a versioned name");
            (rest.to_owned(), content.clone())
        })
        .collect()
}

#[test]
fn an_invalid_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = schema::export(Dialect::Postgres, Some("a-b"), dir.path()).unwrap_err();
    assert!(err.to_string().contains("PG_SCHEMA"), "{err}");
}
