//! Naming rules for log tables: which identifiers are safe to splice into SQL.

/// Suffix appended to a model's table to name its log table.
pub const LOG_SUFFIX: &str = "_log";

/// PostgreSQL truncates identifiers longer than this many bytes.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// The longest model table name: its log table (`<table>_log`) must still fit
/// PostgreSQL's identifier limit.
pub const MAX_TABLE_LEN: usize = MAX_IDENTIFIER_LEN - LOG_SUFFIX.len();

/// Whether `name` is a plain SQL identifier: `[A-Za-z_][A-Za-z0-9_]*`.
///
/// Only such names are ever spliced into SQL text; they are quoted as well.
///
/// ```
/// use awesome_audit_log_codegen::ident::is_plain_identifier;
///
/// assert!(is_plain_identifier("widget"));
/// assert!(is_plain_identifier("_shop_Order2"));
/// assert!(!is_plain_identifier("2fast"));
/// assert!(!is_plain_identifier("widget; DROP TABLE x"));
/// assert!(!is_plain_identifier(""));
/// ```
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The log table of a model table: `widget` → `widget_log`.
///
/// ```
/// assert_eq!(awesome_audit_log_codegen::ident::log_table_name("widget"), "widget_log");
/// ```
pub fn log_table_name(table: &str) -> String {
    format!("{table}{LOG_SUFFIX}")
}

/// Whether `name` can be a log table's name: a plain identifier ending in
/// `_log` that fits PostgreSQL's identifier limit. Names read back from a
/// database or a stream are checked with this before they reach SQL.
///
/// ```
/// use awesome_audit_log_codegen::ident::is_log_table_name;
///
/// assert!(is_log_table_name("widget_log"));
/// assert!(!is_log_table_name("widget"));
/// assert!(!is_log_table_name("x\"; DROP TABLE widget; --_log"));
/// ```
pub fn is_log_table_name(name: &str) -> bool {
    is_plain_identifier(name) && name.len() <= MAX_IDENTIFIER_LEN && name.ends_with(LOG_SUFFIX)
}

/// `snake_case` of a Rust type name: `OrderItem` → `order_item`,
/// `HTTPRequest` → `http_request`.
///
/// ```
/// use awesome_audit_log_codegen::ident::snake_case;
///
/// assert_eq!(snake_case("Widget"), "widget");
/// assert_eq!(snake_case("OrderItem"), "order_item");
/// assert_eq!(snake_case("HTTPRequest"), "http_request");
/// assert_eq!(snake_case("Item2Part"), "item2_part");
/// ```
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A field name as an enum variant: `qty` → `Qty`, `api_key` → `ApiKey`,
/// `r#type` → `Type`.
///
/// ```
/// use awesome_audit_log_codegen::ident::pascal_case;
///
/// assert_eq!(pascal_case("qty"), "Qty");
/// assert_eq!(pascal_case("api_key"), "ApiKey");
/// assert_eq!(pascal_case("r#type"), "Type");
/// assert_eq!(pascal_case("_x2_y"), "X2Y");
/// ```
pub fn pascal_case(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut out = String::with_capacity(name.len());
    for part in name.split('_').filter(|part| !part.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// Whether `label` is a model label as AUDIT_MODELS lists them: `app.model`,
/// both parts lower-case identifiers.
///
/// ```
/// use awesome_audit_log_codegen::ident::is_model_label;
///
/// assert!(is_model_label("shop.widget"));
/// assert!(!is_model_label("Shop.Widget"));
/// assert!(!is_model_label("widget"));
/// assert!(!is_model_label("a.b.c"));
/// ```
pub fn is_model_label(label: &str) -> bool {
    let Some((app, model)) = label.split_once('.') else {
        return false;
    };
    let part = |s: &str| is_plain_identifier(s) && !s.chars().any(|c| c.is_ascii_uppercase());
    part(app) && part(model)
}
