use awesome_audit_log::{Audited, audited};

// Neither `Serialize` nor `PartialEq`: fine on a skipped field.
pub struct Cache;

#[audited(table = "shop_widget", label = "shop.widget")]
pub struct Widget {
    pub id: i64,
    #[audit(rename = "title")]
    pub name: String,
    pub qty: i32,
    pub tags: Vec<String>,
    pub price: Option<f64>,
    #[audit(redact)]
    pub api_key: String,
    #[audit(skip)]
    pub cache: Cache,
}

#[audited]
struct Order {
    #[audit(pk)]
    number: String,
    r#type: String,
}

// `id` is not the key here, so it may be redacted. Its log keeps a year,
// and every token's newest five rows, in weekly partitions on PostgreSQL.
#[audited(
    label = "shop.token",
    retention(older_than = "52w", keep_last = 5),
    partition(by = "week")
)]
struct Token {
    #[audit(pk)]
    name: String,
    #[audit(redact)]
    id: String,
}

fn main() {
    let model = <Widget as Audited>::MODEL;
    assert_eq!(model.label(), "shop.widget");
    assert_eq!(model.table(), "shop_widget");
    assert_eq!(WidgetLog::TABLE, "shop_widget_log");
    assert_eq!(model.pk_field(), "id");
    let fields: Vec<_> = model
        .fields()
        .iter()
        .map(|f| (f.name(), f.key(), f.redacted()))
        .collect();
    assert_eq!(
        fields,
        [
            ("id", "id", false),
            ("name", "title", false),
            ("qty", "qty", false),
            ("tags", "tags", false),
            ("price", "price", false),
            ("api_key", "api_key", true),
        ],
    );

    let order = Order {
        number: "A-1".into(),
        r#type: "retail".into(),
    };
    assert_eq!(order.object_pk(), "A-1");
    assert_eq!(<Order as Audited>::MODEL.table(), "order");
    assert_eq!(<Order as Audited>::MODEL.fields()[1].key(), "type");

    let token = Token {
        name: "deploy".into(),
        id: "s3cret".into(),
    };
    assert_eq!(token.object_pk(), "deploy");
    assert_eq!(<Token as Audited>::MODEL.pk_field(), "name");
    assert!(<Token as Audited>::MODEL.fields()[1].redacted());

    let policy = <Token as Audited>::MODEL.retention().unwrap();
    assert_eq!(
        policy.older_than,
        Some(std::time::Duration::from_secs(52 * 7 * 24 * 60 * 60))
    );
    assert_eq!(policy.keep_last, Some(5));
    assert_eq!(<Widget as Audited>::MODEL.retention(), None);
    assert_eq!(
        <Token as Audited>::MODEL.partition(),
        Some(awesome_audit_log::partition::PartitionBy::Week)
    );
    assert_eq!(<Widget as Audited>::MODEL.partition(), None);
    assert!(TokenLog::DDL_POSTGRES.contains(") PARTITION BY RANGE (\"created_at\")"));
    assert!(!TokenLog::DDL_MYSQL.contains("PARTITION"));
}
