//! Parsing of `#[audited(...)]` arguments and `#[audit(...)]` field
//! attributes into plain values with spans. Unknown and duplicate keys are
//! recorded in the [`Ctxt`] and parsing goes on, so every mistake is reported.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::symbol::*;

/// A string argument and the span of its literal.
#[derive(Debug, Clone)]
pub struct WithSpan<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// The arguments of `#[audited(...)]`.
#[derive(Default)]
pub struct Container {
    /// `table = "..."`.
    pub table: Option<WithSpan<String>>,
    /// `label = "..."`.
    pub label: Option<WithSpan<String>>,
    /// `crate = "..."`.
    pub krate: Option<syn::Path>,
    /// Whether `crate = "..."` was given but is not a path (generated code
    /// then has no way to name the runtime).
    pub krate_invalid: bool,
    /// `retention(...)`.
    pub retention: Option<RetentionArgs>,
    /// `triggers`, where written: generate the model's database triggers.
    pub triggers: Option<Span>,
    /// `partition(...)`.
    pub partition: Option<PartitionArgs>,
}

/// The arguments of `partition(...)`, as written; checked by
/// [`crate::ast::Model::from_input`].
pub struct PartitionArgs {
    /// Where `partition` was written.
    pub span: Span,
    /// `by = "month"`.
    pub by: Option<WithSpan<String>>,
}

/// The arguments of `retention(...)`, as written; checked by
/// [`crate::ast::Model::from_input`].
pub struct RetentionArgs {
    /// Where `retention` was written.
    pub span: Span,
    /// `older_than = "90d"`.
    pub older_than: Option<WithSpan<String>>,
    /// `keep_last = 100`: the literal, read later.
    pub keep_last: Option<syn::LitInt>,
}

impl Container {
    /// Parses the argument tokens of the attribute macro.
    pub fn from_args(cx: &Ctxt, args: TokenStream) -> Self {
        let mut container = Container::default();
        let parser = syn::meta::parser(|meta| container.parse_meta(cx, meta));
        if let Err(error) = parser.parse2(args) {
            cx.syn_error(error);
        }
        container
    }

    /// Parses the arguments of an `#[audited]` attribute found in source
    /// (the build helper's path).
    pub fn from_attr(cx: &Ctxt, attr: &Attribute) -> Self {
        match &attr.meta {
            syn::Meta::List(list) => Self::from_args(cx, list.tokens.clone()),
            _ => Container::default(),
        }
    }

    fn parse_meta(&mut self, cx: &Ctxt, meta: ParseNestedMeta) -> syn::Result<()> {
        const ATTR: Place = Place("audited");
        if meta.path == TABLE {
            if let Some(lit) = string_value(cx, &meta, ATTR, "widget")? {
                set_once(cx, &meta, ATTR, &mut self.table, spanned(&lit));
            }
        } else if meta.path == LABEL {
            if let Some(lit) = string_value(cx, &meta, ATTR, "shop.widget")? {
                set_once(cx, &meta, ATTR, &mut self.label, spanned(&lit));
            }
        } else if meta.path == CRATE {
            let Some(lit) = string_value(cx, &meta, ATTR, "::awesome_audit_log")? else {
                self.krate_invalid = true;
                return Ok(());
            };
            match lit.parse::<syn::Path>() {
                Ok(path) => set_once(cx, &meta, ATTR, &mut self.krate, path),
                Err(_) => {
                    self.krate_invalid = true;
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "`crate` must be a Rust path such as \"::awesome_audit_log\" or \"my_crate::audit\", found {:?}",
                            lit.value()
                        ),
                    );
                }
            }
        } else if meta.path == TRIGGERS {
            let span = syn::spanned::Spanned::span(&meta.path);
            no_value(cx, &meta, ATTR)?;
            set_once(cx, &meta, ATTR, &mut self.triggers, span);
        } else if meta.path == RETENTION {
            if let Some(retention) = RetentionArgs::parse(cx, &meta)? {
                set_once(cx, &meta, ATTR, &mut self.retention, retention);
            }
        } else if meta.path == PARTITION {
            if let Some(partition) = PartitionArgs::parse(cx, &meta)? {
                set_once(cx, &meta, ATTR, &mut self.partition, partition);
            }
        } else {
            unknown_key(cx, &meta, ATTR, CONTAINER_KEYS)?;
        }
        Ok(())
    }
}

impl RetentionArgs {
    /// `retention(older_than = "...", keep_last = ...)`; anything else is
    /// recorded as an error and gives `None`.
    fn parse(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Self>> {
        const ATTR: Place = Place("audited(retention");
        let span = syn::spanned::Spanned::span(&meta.path);
        if !meta.input.peek(syn::token::Paren) {
            skip_value(meta)?;
            cx.error_at(
                span,
                format!(
                    "`retention` takes a list: expected `#[audited(retention(older_than = \"90d\", keep_last = 100))]` with {RETENTION_KEYS} or both"
                ),
            );
            return Ok(None);
        }
        let mut args = RetentionArgs {
            span,
            older_than: None,
            keep_last: None,
        };
        // A key that could not be read is reported where it stands; the
        // policy is then left out, so that no second error follows.
        let mut unread = false;
        let content;
        syn::parenthesized!(content in meta.input);
        // `retention()` parses, and is then reported as a policy without a rule.
        let list: TokenStream = content.parse()?;
        let parser = syn::meta::parser(|inner| {
            if inner.path == OLDER_THAN {
                match string_value(cx, &inner, ATTR, "90d")? {
                    Some(lit) => set_once(cx, &inner, ATTR, &mut args.older_than, spanned(&lit)),
                    None => unread = true,
                }
            } else if inner.path == KEEP_LAST {
                match int_value(cx, &inner, ATTR, "100")? {
                    Some(lit) => set_once(cx, &inner, ATTR, &mut args.keep_last, lit),
                    None => unread = true,
                }
            } else {
                unread = true;
                unknown_key(cx, &inner, ATTR, RETENTION_KEYS)?;
            }
            Ok(())
        });
        parser.parse2(list)?;
        Ok((!unread).then_some(args))
    }
}

impl PartitionArgs {
    /// `partition(by = "...")`; anything else is recorded as an error and
    /// gives `None`.
    fn parse(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Self>> {
        const ATTR: Place = Place("audited(partition");
        let span = syn::spanned::Spanned::span(&meta.path);
        if !meta.input.peek(syn::token::Paren) {
            skip_value(meta)?;
            cx.error_at(
                span,
                "`partition` takes a list: expected `#[audited(partition(by = \"month\"))]` with \"day\", \"week\" or \"month\"",
            );
            return Ok(None);
        }
        let mut args = PartitionArgs { span, by: None };
        let mut unread = false;
        let content;
        syn::parenthesized!(content in meta.input);
        let list: TokenStream = content.parse()?;
        let parser = syn::meta::parser(|inner| {
            if inner.path == BY {
                match string_value(cx, &inner, ATTR, "month")? {
                    Some(lit) => set_once(cx, &inner, ATTR, &mut args.by, spanned(&lit)),
                    None => unread = true,
                }
            } else {
                unread = true;
                unknown_key(cx, &inner, ATTR, PARTITION_KEYS)?;
            }
            Ok(())
        });
        parser.parse2(list)?;
        Ok((!unread).then_some(args))
    }
}

/// What `#[audit(...)]` said about one field.
#[derive(Default)]
pub struct FieldAttrs {
    /// `pk`, where written.
    pub pk: Option<Span>,
    /// `skip`, where written.
    pub skip: Option<Span>,
    /// `redact`, where written.
    pub redact: Option<Span>,
    /// `rename = "..."`.
    pub rename: Option<WithSpan<String>>,
    /// `column = "..."`: the data table's column, when it is not the field's name.
    pub column: Option<WithSpan<String>>,
}

impl FieldAttrs {
    /// Parses every `#[audit(...)]` attribute among `attrs`.
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| is_field_attr(a)) {
            let empty = match &attr.meta {
                syn::Meta::Path(_) => true,
                syn::Meta::List(list) => list.tokens.is_empty(),
                syn::Meta::NameValue(_) => false,
            };
            if empty {
                cx.error_spanned_by(
                    attr,
                    format!("`#[audit]` needs an argument, one of {FIELD_KEYS}"),
                );
                continue;
            }
            if let syn::Meta::NameValue(meta) = &attr.meta {
                cx.error_spanned_by(
                    meta,
                    format!("expected `#[audit(...)]` with one of {FIELD_KEYS}"),
                );
                continue;
            }
            let result = attr.parse_nested_meta(|meta| out.parse_meta(cx, meta));
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        out
    }

    fn parse_meta(&mut self, cx: &Ctxt, meta: ParseNestedMeta) -> syn::Result<()> {
        const ATTR: Place = Place("audit");
        let span = syn::spanned::Spanned::span(&meta.path);
        if meta.path == PK {
            no_value(cx, &meta, ATTR)?;
            set_once(cx, &meta, ATTR, &mut self.pk, span);
        } else if meta.path == SKIP {
            no_value(cx, &meta, ATTR)?;
            set_once(cx, &meta, ATTR, &mut self.skip, span);
        } else if meta.path == REDACT {
            no_value(cx, &meta, ATTR)?;
            set_once(cx, &meta, ATTR, &mut self.redact, span);
        } else if meta.path == RENAME {
            if let Some(lit) = string_value(cx, &meta, ATTR, "title")? {
                set_once(cx, &meta, ATTR, &mut self.rename, spanned(&lit));
            }
        } else if meta.path == COLUMN {
            if let Some(lit) = string_value(cx, &meta, ATTR, "qty_col")? {
                set_once(cx, &meta, ATTR, &mut self.column, spanned(&lit));
            }
        } else {
            unknown_key(cx, &meta, ATTR, FIELD_KEYS)?;
        }
        Ok(())
    }
}

/// Whether `attr` is an `#[audit(...)]` field attribute (the macro strips
/// them from the struct it re-emits).
pub fn is_field_attr(attr: &Attribute) -> bool {
    attr.path() == AUDIT
}

/// Whether `attr` is `#[audited]` or a path ending in `audited`, such as
/// `#[awesome_audit_log::audited(...)]` (the build helper's scan).
pub fn is_container_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == AUDITED.0)
}

/// Where a key is written, for messages: the attribute's path up to the
/// list the key is in (`audit`, `audited`, `audited(retention`).
#[derive(Clone, Copy)]
struct Place(&'static str);

impl Place {
    /// The attribute with `inner` as the list's content:
    /// `#[audited(retention(inner))]`.
    fn with(self, inner: &str) -> String {
        let close = ")".repeat(self.0.matches('(').count());
        format!("#[{}({inner}){close}]", self.0)
    }
}

fn spanned(lit: &LitStr) -> WithSpan<String> {
    WithSpan {
        value: lit.value(),
        span: lit.span(),
    }
}

fn path_name(meta: &ParseNestedMeta) -> String {
    meta.path.to_token_stream().to_string().replace(' ', "")
}

fn set_once<T>(cx: &Ctxt, meta: &ParseNestedMeta, attr: Place, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        cx.error_spanned_by(
            &meta.path,
            format!(
                "duplicate key `{}` in `{}`",
                path_name(meta),
                attr.with("...")
            ),
        );
    } else {
        *slot = Some(value);
    }
}

/// The string literal of `key = "..."`. Anything else is recorded as an
/// error showing the expected form (`example` is a sample value) and gives
/// `None`; the value is consumed so parsing can go on.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attr: Place,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    let example = format!("\"{example}\"");
    let wanted = ("a string value", "a string literal");
    literal_value(cx, meta, attr, &example, wanted, |lit| match lit {
        syn::Lit::Str(lit) => Some(lit.clone()),
        _ => None,
    })
}

/// The integer literal of `key = 100`, like [`string_value`].
fn int_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attr: Place,
    example: &str,
) -> syn::Result<Option<syn::LitInt>> {
    let wanted = ("a number", "a whole number");
    literal_value(cx, meta, attr, example, wanted, |lit| match lit {
        syn::Lit::Int(lit) => Some(lit.clone()),
        _ => None,
    })
}

/// The literal of `key = value` that `pick` takes. No value, or another
/// one, is recorded as an error saying what the key `needs` and `takes`
/// (`example` is a sample value as written) and gives `None`; the value is
/// consumed so parsing can go on.
fn literal_value<T>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attr: Place,
    example: &str,
    (needs, takes): (&str, &str),
    pick: impl FnOnce(&syn::Lit) -> Option<T>,
) -> syn::Result<Option<T>> {
    let key = path_name(meta);
    let expected = format!("expected `{}`", attr.with(&format!("{key} = {example}")));
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.syn_error(meta.error(format!("`{key}` needs {needs}: {expected}")));
        return Ok(None);
    }
    let value = meta.value()?.parse::<syn::Expr>()?;
    if let syn::Expr::Lit(syn::ExprLit { lit, .. }) = &value
        && let Some(picked) = pick(lit)
    {
        return Ok(Some(picked));
    }
    cx.error_spanned_by(value, format!("`{key}` takes {takes}: {expected}"));
    Ok(None)
}

/// A flag key such as `skip` stands alone; a value is recorded as an error.
fn no_value(cx: &Ctxt, meta: &ParseNestedMeta, attr: Place) -> syn::Result<()> {
    if skip_value(meta)? {
        let key = path_name(meta);
        cx.syn_error(meta.error(format!(
            "`{key}` takes no value: write `{}`",
            attr.with(&key)
        )));
    }
    Ok(())
}

/// Consumes a `= value` or `(...)` after a key; whether there was one.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
        Ok(true)
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Records an unknown key and consumes its value so parsing can go on.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta, attr: Place, expected: &str) -> syn::Result<()> {
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown key `{}` in `{}`; expected one of {expected}",
            path_name(meta),
            attr.with("...")
        ),
    );
    skip_value(meta)?;
    Ok(())
}
