use awesome_audit_log::audited;

#[audited(table = "widget", triggers)]
struct Widget {
    id: i64,
    price: f64,
}

// The methods `triggers` generates are stood in for: one error, not three.
async fn install(auditor: &awesome_audit_log::Auditor) {
    let _ = Widget::install_triggers(auditor).await;
    let _ = Widget::uninstall_triggers(auditor).await;
    let _ = Widget::trigger_ddl(awesome_audit_log::Dialect::Sqlite);
}

fn main() {
    let _ = install;
}
