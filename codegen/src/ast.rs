//! The validated model of one `#[audited]` struct: everything the macro
//! generates from and everything the build helper needs for the DDL.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident};

use crate::attr::{Container, FieldAttrs};
use crate::check;
use crate::ctxt::Ctxt;
use crate::ident::{log_table_name, pascal_case, snake_case};
use crate::partition::PartitionBy;
use crate::trigger::classify::render_of;
use crate::trigger::{Render, Stored, TriggerField, TriggerModel};

/// An audited struct, parsed and checked.
pub struct Model {
    /// The struct's name.
    pub ident: Ident,
    /// The model label (`app.model`) that AUDIT_MODELS and NOT_AUDIT_MODELS name.
    pub label: String,
    /// The audited table (`widget`).
    pub table: String,
    /// The log table (`widget_log`).
    pub log_table: String,
    /// The path generated code names the runtime by.
    pub krate: syn::Path,
    /// Every named field, in declaration order (skipped ones included).
    pub fields: Vec<Field>,
    /// Index of the primary-key field in `fields`.
    pub pk: usize,
    /// The retention policy, from `#[audited(retention(...))]`.
    pub retention: Option<Retention>,
    /// Whether the model has database triggers (`#[audited(triggers)]`);
    /// every stored field then has a [`Field::render`].
    pub triggers: bool,
    /// The partitioning of the log table on PostgreSQL, from
    /// `#[audited(partition(by = "..."))]`.
    pub partition: Option<PartitionBy>,
}

/// A model's retention policy: which rows of its log table a prune
/// deletes. A row goes when every rule given lets it go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Rows older than this many seconds (`older_than = "90d"`).
    pub older_than_secs: Option<u64>,
    /// Rows that are not among the newest this many of their object
    /// (`keep_last = 100`).
    pub keep_last: Option<u64>,
}

/// How a field takes part in snapshots and diffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Stored as its JSON value.
    Plain,
    /// Stored as a fixed mask; a change is still recorded as changed.
    Redact,
    /// Never stored, never compared.
    Skip,
}

/// One field of an audited struct.
pub struct Field {
    /// The Rust field name.
    pub ident: Ident,
    /// The field's type.
    pub ty: syn::Type,
    /// The key in the `before` / `after` / `changes` JSON objects.
    pub key: String,
    /// Plain, redacted or skipped.
    pub kind: FieldKind,
    /// The span of the field's type, for errors about it.
    pub span: Span,
    /// Where the JSON key comes from: the `rename` literal, else the field's name.
    pub key_span: Span,
    /// The field's column in the model's table: `#[audit(column = "...")]`,
    /// else the field's name.
    pub column: String,
    /// How a trigger renders the column as the field's JSON (`None`: it
    /// cannot; an error only for a model with triggers).
    pub render: Option<Render>,
}

impl Model {
    /// Parses and checks `input` with the arguments of its `#[audited]`
    /// attribute. `app` is the default label's first part (the crate name);
    /// errors go to `cx` and `None` is returned when there were any.
    pub fn from_input(
        cx: &Ctxt,
        container: Container,
        input: &DeriveInput,
        app: Option<&str>,
    ) -> Option<Model> {
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "`#[audited]` needs named fields: the log's JSON is keyed by field name, so tuple structs are not supported",
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "`#[audited]` needs a struct with named fields; a unit struct has nothing to audit",
                    );
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[audited]` supports structs with named fields, not enums",
                );
                None
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[audited]` supports structs with named fields, not unions",
                );
                None
            }
        };
        check::generics(cx, &input.generics);
        check::container_attrs(cx, &input.attrs);
        let retention = container
            .retention
            .as_ref()
            .and_then(|args| check::retention(cx, args));
        let partition = container
            .partition
            .as_ref()
            .and_then(|args| check::partition(cx, args));

        let struct_name = unraw(&input.ident);
        let table = match &container.table {
            Some(table) => {
                check::table_name(cx, &table.value, table.span, false);
                table.value.clone()
            }
            None => {
                let table = snake_case(&struct_name);
                check::table_name(cx, &table, input.ident.span(), true);
                table
            }
        };
        let label = match (&container.label, app) {
            (Some(label), _) => {
                check::label(cx, &label.value, label.span);
                label.value.clone()
            }
            (None, Some(app)) => format!("{}.{}", app.to_lowercase(), struct_name.to_lowercase()),
            (None, None) => {
                cx.error_spanned_by(
                    &input.ident,
                    "cannot tell this crate's name for the default model label; set `#[audited(label = \"app.model\")]`",
                );
                String::new()
            }
        };

        let mut fields = Vec::new();
        let mut pk_marks = Vec::new();
        let mut skip_marks = Vec::new();
        let mut redact_marks = Vec::new();
        for field in named.into_iter().flat_map(|named| &named.named) {
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let attrs = FieldAttrs::from_attrs(cx, &field.attrs);
            check::field_attrs(cx, &ident, &attrs);
            if let Some(span) = attrs.pk {
                pk_marks.push((fields.len(), span));
            }
            if let Some(span) = attrs.skip {
                skip_marks.push((fields.len(), span));
            }
            if let Some(span) = attrs.redact {
                redact_marks.push((fields.len(), span));
            }
            let kind = if attrs.skip.is_some() {
                FieldKind::Skip
            } else if attrs.redact.is_some() {
                FieldKind::Redact
            } else {
                FieldKind::Plain
            };
            let column = match &attrs.column {
                Some(column) => {
                    check::column_name(cx, &column.value, column.span);
                    column.value.clone()
                }
                None => unraw(&ident),
            };
            let (key, key_span) = match attrs.rename {
                Some(rename) => {
                    check::json_key(cx, &rename.value, rename.span);
                    (rename.value, rename.span)
                }
                None => (unraw(&ident), ident.span()),
            };
            fields.push(Field {
                span: syn::spanned::Spanned::span(&field.ty),
                column,
                render: render_of(&field.ty),
                ident,
                ty: field.ty.clone(),
                key,
                key_span,
                kind,
            });
        }
        let pk = if named.is_some() {
            check::primary_key(
                cx,
                &input.ident,
                &fields,
                &pk_marks,
                &skip_marks,
                &redact_marks,
            )
        } else {
            None
        };
        check::distinct_keys(cx, &fields);
        check::distinct_variants(cx, &fields);
        let triggers = container.triggers.is_some();
        if let (Some(span), Some(pk)) = (container.triggers, pk) {
            check::triggers(cx, span, &fields, pk);
        }

        if cx.has_errors() {
            return None;
        }
        Some(Model {
            ident: input.ident.clone(),
            label,
            log_table: log_table_name(&table),
            table,
            krate: container
                .krate
                .unwrap_or_else(|| syn::parse_quote!(::awesome_audit_log)),
            fields,
            pk: pk?,
            retention,
            triggers,
            partition,
        })
    }

    /// The primary-key field.
    pub fn pk_field(&self) -> &Field {
        &self.fields[self.pk]
    }

    /// The fields that appear in snapshots and diffs (all but skipped ones).
    pub fn stored_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.kind != FieldKind::Skip)
    }
}

impl Model {
    /// The stored fields as the trigger generator sees them; only
    /// meaningful for a model with triggers, where every plain field has a
    /// rendering.
    pub fn trigger_fields(&self) -> Vec<TriggerField<'_>> {
        self.stored_fields()
            .map(|field| TriggerField {
                column: &field.column,
                key: &field.key,
                stored: match (field.kind, field.render) {
                    (FieldKind::Plain, Some(render)) => Stored::Plain(render),
                    // Unreachable for a checked model with triggers.
                    _ => Stored::Redacted,
                },
            })
            .collect()
    }

    /// What the triggers are generated from, over `fields` (from
    /// [`Model::trigger_fields`]).
    pub fn trigger_model<'a>(&'a self, fields: &'a [TriggerField<'a>]) -> TriggerModel<'a> {
        let pk = self.pk_field();
        TriggerModel {
            table: &self.table,
            log_table: &self.log_table,
            pk_column: &pk.column,
            pk_render: pk.render.unwrap_or(Render::Text),
            fields,
        }
    }
}

impl Field {
    /// The field's variant in the generated `<Struct>Field` enum: its name
    /// in PascalCase, spanned at the field.
    pub fn variant(&self) -> Ident {
        Ident::new(&pascal_case(&unraw(&self.ident)), self.ident.span())
    }
}

/// The name of an identifier without a raw prefix: `r#type` → `type`.
fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(stripped) => stripped.to_owned(),
        None => name,
    }
}
