//! JSON columns as read back: every backend hands the stored text here
//! (PostgreSQL's JSONB as `::text`), and this one parser turns it into a
//! [`Value`] without serde_json's recursion limit, on a stack that grows
//! as deep as the document goes (serde_stacker), with numbers read exactly
//! (serde_json's `float_roundtrip`: PostgreSQL prints `f64::MAX` in 309
//! digits). What `log_change` wrote, the read APIs return.

use serde::Deserialize as _;
use serde_json::Value;

use super::decode::decode_error;

/// The JSON text of `column`, parsed; an error naming the column when it
/// is not one JSON document.
pub(crate) fn parse(column: &str, text: &str) -> Result<Value, sqlx::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    json.disable_recursion_limit();
    let value = Value::deserialize(serde_stacker::Deserializer::new(&mut json))
        .map_err(|e| decode_error(column, e))?;
    json.end().map_err(|e| decode_error(column, e))?;
    Ok(value)
}

/// A nullable JSON column's text, parsed.
pub(crate) fn parse_nullable(
    column: &str,
    text: Option<&str>,
) -> Result<Option<Value>, sqlx::Error> {
    text.map(|text| parse(column, text)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn numbers_read_back_exactly() {
        for number in [f64::MAX, -f64::MAX, f64::MIN_POSITIVE, 5e-324, 1e-300, 0.1] {
            assert_eq!(parse("c", &number.to_string()).unwrap(), number, "{number}");
        }
        // As PostgreSQL prints f64::MAX and 1e-300: in full.
        let max = format!("{:.0}", f64::MAX);
        assert_eq!(max.len(), 309);
        assert_eq!(parse("c", &max).unwrap(), f64::MAX);
        let tiny = format!("0.{}1", "0".repeat(299));
        assert_eq!(parse("c", &tiny).unwrap(), 1e-300);
        assert_eq!(parse("c", &i64::MIN.to_string()).unwrap(), i64::MIN);
        assert_eq!(parse("c", &u64::MAX.to_string()).unwrap(), u64::MAX);
    }

    /// No recursion limit, and no stack overflow on a small stack either.
    #[test]
    fn deep_documents_parse_on_a_small_stack() {
        let text = nested(100_000);
        let depth = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut value = parse("c", &text).unwrap();
                // Taken apart level by level: dropping it whole would recurse.
                let mut depth = 0;
                while let Value::Array(mut items) = value {
                    value = items.pop().unwrap_or_default();
                    depth += 1;
                }
                depth
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(depth, 100_000);
    }

    #[test]
    fn bad_documents_name_the_column() {
        for text in ["", "{", "[1] [2]", "nul", "1e999", &nested(10)[1..]] {
            let err = parse("changes", text).unwrap_err();
            assert!(
                matches!(&err, sqlx::Error::ColumnDecode { index, .. } if index == "changes"),
                "{text}: {err}"
            );
        }
        assert_eq!(parse_nullable("before", None).unwrap(), None);
    }
}
