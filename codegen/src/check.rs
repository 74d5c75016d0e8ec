//! Checks of one audited struct beyond what parsing catches: names that go
//! into SQL, the primary key, attribute combinations. Each problem is
//! recorded at the token that caused it.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{Attribute, Generics, Ident};

use crate::ast::{Field, Retention};
use crate::attr::{FieldAttrs, PartitionArgs, RetentionArgs, is_field_attr};
use crate::ctxt::Ctxt;
use crate::duration::parse_seconds;
use crate::ident::{MAX_IDENTIFIER_LEN, MAX_TABLE_LEN, is_model_label, is_plain_identifier};
use crate::partition::{PARTITION_BY_LIST, PartitionBy};

pub fn generics(cx: &Ctxt, generics: &Generics) {
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            &generics.params,
            "`#[audited]` does not support generic structs: one log table per model needs one concrete type",
        );
    } else if let Some(where_clause) = &generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "`#[audited]` does not support where clauses on the audited struct",
        );
    }
}

/// `table` is the audited table's name, written at `span`; `derived` when it
/// comes from the struct's name rather than `#[audited(table = "...")]`.
pub fn table_name(cx: &Ctxt, table: &str, span: Span, derived: bool) {
    let origin = if derived {
        " (from the struct's name)"
    } else {
        ""
    };
    let fix = if derived {
        "; set another with `#[audited(table = \"...\")]`"
    } else {
        ""
    };
    if !is_plain_identifier(table) {
        cx.error_at(
            span,
            format!(
                "table name {table:?}{origin} is not a plain SQL identifier (ASCII letters, digits and `_`, not starting with a digit){fix}"
            ),
        );
    } else if table.len() > MAX_TABLE_LEN {
        cx.error_at(
            span,
            format!(
                "table name {table:?}{origin} is {} characters long, the limit is {MAX_TABLE_LEN}: its log table `{table}_log` must fit PostgreSQL's {MAX_IDENTIFIER_LEN}-character identifiers{fix}",
                table.len()
            ),
        );
    }
}

pub fn label(cx: &Ctxt, label: &str, span: Span) {
    if !is_model_label(label) {
        cx.error_at(
            span,
            format!(
                "label {label:?} is not of the form \"app.model\": two lower-case identifiers joined by a dot, such as \"shop.widget\""
            ),
        );
    }
}

/// A partitioning: `by` is given and names an interval.
pub fn partition(cx: &Ctxt, args: &PartitionArgs) -> Option<PartitionBy> {
    let Some(by) = &args.by else {
        cx.error_at(
            args.span,
            format!(
                "`partition(...)` needs its interval: write `partition(by = \"month\")` with {PARTITION_BY_LIST}"
            ),
        );
        return None;
    };
    let parsed = PartitionBy::parse(&by.value);
    if parsed.is_none() {
        cx.error_at(
            by.span,
            format!(
                "unknown interval {:?}: `partition(by = ...)` takes {PARTITION_BY_LIST}",
                by.value
            ),
        );
    }
    parsed
}

/// A retention policy: at least one rule, a duration in a known unit and
/// longer than zero, a number of rows to keep above zero.
pub fn retention(cx: &Ctxt, args: &RetentionArgs) -> Option<Retention> {
    if args.older_than.is_none() && args.keep_last.is_none() {
        cx.error_at(
            args.span,
            "`retention(...)` needs a rule: `older_than = \"90d\"`, `keep_last = 100` or both",
        );
        return None;
    }
    let mut valid = true;
    let older_than_secs = args.older_than.as_ref().and_then(|older_than| {
        let seconds = parse_seconds(&older_than.value);
        if let Err(error) = &seconds {
            valid = false;
            cx.error_at(
                older_than.span,
                format!("`older_than = {:?}`: {error}", older_than.value),
            );
        }
        seconds.ok()
    });
    let keep_last = args.keep_last.as_ref().and_then(|lit| {
        match lit.base10_parse::<u64>() {
            Ok(0) => cx.error_spanned_by(
                lit,
                "`keep_last = 0` would keep no row of an object; give 1 or more, or leave it out to prune by age alone",
            ),
            Ok(rows) => return Some(rows),
            Err(error) => cx.error_spanned_by(lit, format!("`keep_last`: {error}")),
        }
        valid = false;
        None
    });
    valid.then_some(Retention {
        older_than_secs,
        keep_last,
    })
}

/// A column name given with `#[audit(column = "...")]`: it goes into the
/// triggers' SQL.
pub fn column_name(cx: &Ctxt, column: &str, span: Span) {
    if !is_plain_identifier(column) || column.len() > MAX_IDENTIFIER_LEN {
        cx.error_at(
            span,
            format!(
                "column name {column:?} is not a plain SQL identifier of at most {MAX_IDENTIFIER_LEN} characters (ASCII letters, digits and `_`, not starting with a digit)"
            ),
        );
    }
}

/// A model with triggers (`#[audited(triggers)]`, written at `span`):
/// every stored plain field's type has a trigger rendering, the primary
/// key's is one written as text like its `Display`, the JSON keys and
/// columns are plain (they are spliced into SQL), and the fields fit the
/// databases' function-argument limits.
pub fn triggers(cx: &Ctxt, span: Span, fields: &[Field], pk: usize) {
    use crate::ast::FieldKind;
    use crate::trigger::MAX_TRIGGER_FIELDS;
    let stored = fields.iter().filter(|f| f.kind != FieldKind::Skip).count();
    if stored > MAX_TRIGGER_FIELDS {
        cx.error_at(
            span,
            format!(
                "`triggers` supports at most {MAX_TRIGGER_FIELDS} stored fields (PostgreSQL functions take at most 100 arguments), this model has {stored}; skip some or log this model with `log_change`"
            ),
        );
    }
    for (index, field) in fields.iter().enumerate() {
        if field.kind == FieldKind::Skip {
            continue;
        }
        let ty = quote::ToTokens::to_token_stream(&field.ty)
            .to_string()
            .replace(' ', "");
        if field.kind == FieldKind::Plain && field.render.is_none() {
            cx.error_at(
                field.span,
                format!(
                    "field `{}`: type `{ty}` has no trigger rendering (a trigger writes bool, integers, String, Uuid, NaiveDate, DateTime<Utc>, serde_json::Value and Option of them as serde does); mark it `#[audit(skip)]` or `#[audit(redact)]`, or leave out `triggers`",
                    field.ident
                ),
            );
        }
        if index == pk && !field.render.is_some_and(crate::trigger::Render::can_be_key) {
            cx.error_at(
                field.span,
                format!(
                    "primary key `{}`: a trigger writes `object_pk` from an integer, String or Uuid column, not `{ty}`; leave out `triggers` to log this model with `log_change`",
                    field.ident
                ),
            );
        }
        if !field
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            cx.error_at(
                field.key_span,
                format!(
                    "JSON key {:?}: with `triggers`, keys are ASCII letters, digits and `_` (they are written into the triggers' SQL)",
                    field.key
                ),
            );
        }
    }
}

pub fn json_key(cx: &Ctxt, key: &str, span: Span) {
    if key.is_empty() {
        cx.error_at(span, "`rename` needs a non-empty JSON key");
    }
}

pub fn field_attrs(cx: &Ctxt, field: &Ident, attrs: &FieldAttrs) {
    if let (Some(_), Some(redact)) = (attrs.pk, attrs.redact) {
        cx.error_at(
            redact,
            format!("`{field}` is the primary key and cannot be redacted: every log row stores it in clear as `object_pk`, the column its history is found by"),
        );
    }
    if let Some(skip) = attrs.skip {
        if attrs.pk.is_some() {
            cx.error_at(
                skip,
                format!("`{field}` is the primary key and cannot be skipped: every log row names its object"),
            );
        }
        if attrs.redact.is_some() {
            cx.error_at(skip, "`skip` and `redact` exclude each other: a skipped field is never stored, a redacted one is stored masked");
        }
        if let Some(rename) = &attrs.rename {
            cx.error_at(rename.span, "`rename` has no effect on a skipped field");
        }
        if let Some(column) = &attrs.column {
            cx.error_at(
                column.span,
                "`column` has no effect on a skipped field: a trigger never reads it",
            );
        }
    }
}

/// The primary key: the one field marked `#[audit(pk)]`, else the field named
/// `id`. `skips` and `redacts` are the fields marked `#[audit(skip)]` and
/// `#[audit(redact)]`, where.
pub fn primary_key(
    cx: &Ctxt,
    ident: &Ident,
    fields: &[Field],
    marks: &[(usize, Span)],
    skips: &[(usize, Span)],
    redacts: &[(usize, Span)],
) -> Option<usize> {
    match marks {
        [] => {
            let Some(id) = fields.iter().position(|f| f.ident == "id") else {
                cx.error_spanned_by(
                    ident,
                    format!("`{ident}` has no primary key: mark a field with `#[audit(pk)]` or name it `id`"),
                );
                return None;
            };
            if let Some((_, skip)) = skips.iter().find(|(index, _)| *index == id) {
                cx.error_at(
                    *skip,
                    "`id` is the primary key (no field is marked `#[audit(pk)]`) and cannot be skipped; to skip it, mark another field `#[audit(pk)]`",
                );
                return None;
            }
            if let Some((_, redact)) = redacts.iter().find(|(index, _)| *index == id) {
                cx.error_at(
                    *redact,
                    "`id` is the primary key (no field is marked `#[audit(pk)]`) and cannot be redacted: every log row stores it in clear as `object_pk`; to redact it, mark another field `#[audit(pk)]`",
                );
                return None;
            }
            Some(id)
        }
        [(index, _)] => Some(*index),
        [(first, _), rest @ ..] => {
            for (index, span) in rest {
                cx.error_at(
                    *span,
                    format!(
                        "`{}` cannot be a second primary key: `{}` is already marked `#[audit(pk)]`",
                        fields[*index].ident, fields[*first].ident
                    ),
                );
            }
            None
        }
    }
}

pub fn distinct_keys(cx: &Ctxt, fields: &[Field]) {
    let mut seen: HashMap<&str, &Ident> = HashMap::new();
    for field in fields
        .iter()
        .filter(|f| f.kind != crate::ast::FieldKind::Skip)
    {
        if let Some(first) = seen.insert(&field.key, &field.ident) {
            cx.error_at(
                field.key_span,
                format!(
                    "JSON key {:?} is used by both `{first}` and `{}`; rename one with `#[audit(rename = \"...\")]`",
                    field.key, field.ident
                ),
            );
        }
    }
}

/// Each stored field names a variant of the generated `<Struct>Field` enum
/// (its name in PascalCase); two fields must not name the same one.
pub fn distinct_variants(cx: &Ctxt, fields: &[Field]) {
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    for field in fields
        .iter()
        .filter(|f| f.kind != crate::ast::FieldKind::Skip)
    {
        let variant = field.variant();
        if let Some(first) = seen.insert(variant.to_string(), &field.ident) {
            cx.error_spanned_by(
                &field.ident,
                format!(
                    "`{first}` and `{}` would both be the variant `{variant}` of the generated field enum; rename one of the fields",
                    field.ident
                ),
            );
        }
    }
}

/// `#[audit(...)]` belongs on fields; on the struct it is a misplaced
/// container option.
pub fn container_attrs(cx: &Ctxt, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|attr| is_field_attr(attr)) {
        cx.error_spanned_by(
            attr,
            "`#[audit(...)]` goes on fields; options of the whole struct go in `#[audited(...)]`",
        );
    }
}
