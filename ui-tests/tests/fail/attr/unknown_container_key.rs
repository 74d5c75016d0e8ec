use awesome_audit_log::{Audited, Auditor, audited};

#[audited(tabel = "widget")]
pub struct Widget {
    pub id: i64,
    pub name: String,
}

// The struct and the API the macro would have generated still exist, so the
// mistake above is the only error.
async fn uses_the_api(auditor: &Auditor, widget: &Widget) {
    let _ = Widget::log_change(auditor, None, Some(widget)).await;
    let _ = Widget::log_changes(auditor, [(Some(widget), None)]).await;
    let rows: Vec<WidgetLog> = WidgetLog::for_object(auditor, &widget.id).await.unwrap();
    let _ = (rows, WidgetLog::TABLE, WidgetLog::DDL_SQLITE);
    let _ = log_table::<Widget>();
}

fn log_table<M: Audited>() -> &'static str {
    M::MODEL.log_table()
}

fn main() {
    let _ = uses_the_api;
}
