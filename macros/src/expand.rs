//! Code generation: the validated model in, the struct plus its audit
//! implementation out. On errors the struct is still re-emitted, with a
//! fallback so that one mistake gives one error, not ten.

use awesome_audit_log_codegen::ast::{Field, FieldKind, Model};
use awesome_audit_log_codegen::attr::{Container, is_field_attr};
use awesome_audit_log_codegen::ctxt::Ctxt;
use awesome_audit_log_codegen::ddl::{Dialect, create_table};
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{Data, DeriveInput, Fields, Item};

pub fn audited(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: DeriveInput = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = unsupported_item(input.clone()).into_compile_error();
            return quote!(#input #error);
        }
    };
    let cx = Ctxt::new();
    let container = Container::from_args(&cx, args);
    let fallback_krate = match (&container.krate, container.krate_invalid) {
        (_, true) => None,
        (Some(krate), false) => Some(krate.clone()),
        (None, false) => Some(syn::parse_quote!(::awesome_audit_log)),
    };
    let app = std::env::var("CARGO_CRATE_NAME").ok();
    let model = Model::from_input(&cx, container, &item, app.as_deref());
    strip_audit_attrs(&mut item);
    match (model, cx.check()) {
        (Some(model), Ok(())) => {
            let generated = generate(&model, &item);
            quote!(#item #generated)
        }
        (_, result) => {
            let errors = result.err().map(syn::Error::into_compile_error);
            let fallback = fallback_krate.map(|krate| fallback(&item, &krate));
            quote!(#item #errors #fallback)
        }
    }
}

/// The error for an item that is not a struct, enum or union, at its keyword.
fn unsupported_item(input: TokenStream) -> syn::Error {
    let parsed = syn::parse2::<Item>(input);
    let (keyword, what): (&dyn ToTokens, &str) = match &parsed {
        Ok(Item::Fn(item)) => (&item.sig.fn_token, "functions"),
        Ok(Item::Impl(item)) => (&item.impl_token, "impl blocks"),
        Ok(Item::Trait(item)) => (&item.trait_token, "traits"),
        Ok(Item::Mod(item)) => (&item.mod_token, "modules"),
        Ok(Item::Type(item)) => (&item.type_token, "type aliases"),
        Ok(Item::Const(item)) => (&item.const_token, "constants"),
        Ok(Item::Static(item)) => (&item.static_token, "statics"),
        _ => {
            return syn::Error::new(
                Span::call_site(),
                "`#[audited]` supports structs with named fields only",
            );
        }
    };
    syn::Error::new_spanned(
        keyword,
        format!("`#[audited]` supports structs with named fields, not {what}"),
    )
}

/// Removes the inert `#[audit(...)]` attributes the macro consumed (or
/// reported as misplaced), so rustc does not report them as unknown.
fn strip_audit_attrs(item: &mut DeriveInput) {
    item.attrs.retain(|attr| !is_field_attr(attr));
    if let Data::Struct(data) = &mut item.data {
        let fields = match &mut data.fields {
            Fields::Named(named) => &mut named.named,
            Fields::Unnamed(unnamed) => &mut unnamed.unnamed,
            Fields::Unit => return,
        };
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| !is_field_attr(attr));
        }
    }
}

/// The first and last token of a field's type. Generated code that names
/// the field's value starts at the first and ends with the field's name at
/// the last, so rustc reports an error about the value at the whole type
/// (`Vec<Dimensions>`, not `Vec`) without needing `Span::join`.
struct TypeSpans {
    first: Span,
    last: Span,
}

impl TypeSpans {
    fn of(field: &Field) -> Self {
        let mut tokens = field.ty.to_token_stream().into_iter();
        let first = tokens.next().map_or(field.span, |token| token.span());
        let last = tokens.last().map_or(first, |token| token.span());
        TypeSpans { first, last }
    }

    /// `private::name` (`name` may be `Trait::method`) spanning the whole
    /// type, for a callee that rustc blames when it cannot blame one argument.
    fn path(&self, private: &TokenStream, name: &str) -> TokenStream {
        let mut segments: Vec<_> = name
            .split("::")
            .map(|segment| syn::Ident::new(segment, self.first))
            .collect();
        if let Some(last) = segments.last_mut() {
            last.set_span(self.last);
        }
        let private = respan(private, self.first);
        quote!(#private #(:: #segments)*)
    }
}

/// `tokens` with every span set to `span`, so that an error about them is
/// reported at `span` only (a field's type, say) and not partly at the
/// `#[audited]` attribute.
fn respan(tokens: impl ToTokens, span: Span) -> TokenStream {
    tokens
        .into_token_stream()
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                TokenTree::Group(respanned)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

fn generate(model: &Model, item: &DeriveInput) -> TokenStream {
    let krate = &model.krate;
    let private = quote!(#krate::__private);
    let ident = &model.ident;
    let label = &model.label;
    let table = &model.table;
    let log_table = &model.log_table;
    let struct_name = ident.to_string();

    let field_infos = model.stored_fields().map(|field| {
        let name = field.ident.to_string();
        let key = &field.key;
        let redacted = field.kind == FieldKind::Redact;
        quote!(#private::FieldInfo::new(#name, #key, #redacted))
    });
    let pk = model.pk_field();
    let pk_name = pk.ident.to_string();
    let object_pk = {
        let at = TypeSpans::of(pk);
        let pk_to_string = at.path(&private, "pk_to_string");
        let member = respan(&pk.ident, at.last);
        quote_spanned! {at.first=>
            #pk_to_string(&self.#member)
        }
    };

    // Everything that names a field's value is spanned at the field's type,
    // so a missing trait is reported there. Each plain field's bound is
    // checked first, by the same statement in both methods: rustc reports
    // an unmet bound once per span and method, and drops an error identical
    // to one already reported, so the user sees one error per field.
    let value_checks: Vec<TokenStream> = model
        .stored_fields()
        .filter(|field| field.kind == FieldKind::Plain)
        .map(|field| {
            let at = TypeSpans::of(field);
            let private = respan(&private, at.first);
            let ty = &field.ty;
            quote_spanned! {at.first=>
                let _ = #private::differs::<#ty>;
            }
        })
        .collect();
    let visits = model.stored_fields().map(|field| {
        let at = TypeSpans::of(field);
        let member = respan(&field.ident, at.last);
        let key = syn::LitStr::new(&field.key, at.first);
        match field.kind {
            FieldKind::Redact => {
                let redacted = at.path(&private, "FieldVisitor::redacted");
                quote_spanned! {at.first=>
                    #redacted(visitor, #key)?;
                }
            }
            _ => {
                let visit = at.path(&private, "FieldVisitor::field");
                quote_spanned! {at.first=>
                    #visit(visitor, #key, &self.#member)?;
                }
            }
        }
    });
    let diffs = model.stored_fields().map(|field| {
        let at = TypeSpans::of(field);
        let member = respan(&field.ident, at.last);
        let key = syn::LitStr::new(&field.key, at.first);
        match field.kind {
            FieldKind::Redact => {
                let differs = at.path(&private, "differs_redacted");
                let changed = at.path(&private, "DiffVisitor::redacted_changed");
                quote_spanned! {at.first=>
                    if #differs(&before.#member, &after.#member) {
                        #changed(visitor, #key)?;
                    }
                }
            }
            _ => {
                let differs = at.path(&private, "differs");
                let changed = at.path(&private, "DiffVisitor::changed");
                quote_spanned! {at.first=>
                    if #differs(&before.#member, &after.#member) {
                        #changed(visitor, #key, &before.#member, &after.#member)?;
                    }
                }
            }
        }
    });

    let api = Api {
        item,
        private: &private,
        log_table,
        stub: false,
    }
    .generate();
    let log_ident = api_log_ident(item);
    let model_info = syn::Ident::new("MODEL_INFO", Span::mixed_site());

    quote! {
        #api

        const _: () = {
            const #model_info: &'static #private::ModelInfo = &#private::ModelInfo::new(
                #label,
                #table,
                #log_table,
                #struct_name,
                ::core::module_path!(),
                #pk_name,
                &[#(#field_infos),*],
                [#log_ident::DDL_POSTGRES, #log_ident::DDL_MYSQL, #log_ident::DDL_SQLITE],
            );

            #[automatically_derived]
            impl #private::Audited for #ident {
                type Log = #log_ident;

                const MODEL: &'static #private::ModelInfo = #model_info;

                fn object_pk(&self) -> ::std::string::String {
                    #object_pk
                }

                fn visit_fields<V: #private::FieldVisitor>(
                    &self,
                    visitor: &mut V,
                ) -> ::core::result::Result<(), #private::SnapshotError> {
                    #(#value_checks)*
                    #(#visits)*
                    ::core::result::Result::Ok(())
                }

                fn visit_changes<V: #private::DiffVisitor>(
                    before: &Self,
                    after: &Self,
                    visitor: &mut V,
                ) -> ::core::result::Result<(), #private::SnapshotError> {
                    #(#value_checks)*
                    #(#diffs)*
                    ::core::result::Result::Ok(())
                }
            }

            // Registered without naming `<Struct as Audited>`, so that a struct
            // that cannot implement `Audited` (not `Sync`, say) gets one error.
            #private::inventory::submit! {
                #private::Registration::new(#model_info)
            }
        };
    }
}

fn api_log_ident(item: &DeriveInput) -> syn::Ident {
    format_ident!("{}Log", item.ident)
}

/// The API `#[audited]` gives a struct besides the `Audited` impl:
/// `<Struct>Log` with its constants and `for_object`, and
/// `Struct::log_change` / `Struct::log_changes`. The fallback emits the same
/// items with stub bodies.
struct Api<'a> {
    item: &'a DeriveInput,
    private: &'a TokenStream,
    log_table: &'a str,
    /// Stub bodies (`unreachable!()`): the fallback after an error, where
    /// `Struct` may not implement `Audited`.
    stub: bool,
}

impl Api<'_> {
    fn generate(&self) -> TokenStream {
        let private = self.private;
        let ident = &self.item.ident;
        let vis = &self.item.vis;
        let (impl_generics, ty_generics, where_clause) = self.item.generics.split_for_impl();
        let log_ident = api_log_ident(self.item);
        let log_table = self.log_table;
        let struct_name = ident.to_string();
        let [ddl_postgres, ddl_mysql, ddl_sqlite] = if self.stub {
            [String::new(), String::new(), String::new()]
        } else {
            Dialect::ALL.map(|dialect| create_table(dialect, None, log_table))
        };
        let body = |real: TokenStream| {
            if self.stub {
                quote!(::core::unreachable!())
            } else {
                real
            }
        };
        let for_object = body(quote!(auditor.history::<#ident>(pk).await));
        let log_change = body(quote!(auditor.log_change::<Self>(before, after).await));
        let log_changes = body(quote!(auditor.log_changes::<Self, I>(changes).await));
        let log_change_in = body(quote!(tx.log_change::<Self>(before, after).await));
        let log_changes_in = body(quote!(tx.log_changes::<Self, I>(changes).await));
        // Only the fallback sees generic items, where `&'a Self` needs this.
        let self_outlives = (!self.item.generics.params.is_empty()).then(|| quote!(Self: 'a,));
        let allow_stub = self
            .stub
            .then(|| quote!(#[allow(unused_variables, clippy::unused_async)]));

        let log_doc = format!(
            "A row of the `{log_table}` audit log of [`{struct_name}`], as read back by [`{log_ident}::for_object`]. Generated by `#[audited]`."
        );
        let for_object_doc = format!(
            "The history of one `{struct_name}`, oldest first: every row of `{log_table}` whose `object_pk` is `pk`."
        );

        quote! {
            #[doc = #log_doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::Eq)]
            #vis struct #log_ident {
                /// The log row's own id.
                pub id: i64,
                /// `insert`, `update` or `delete`.
                pub action: #private::Action,
                /// The primary key of the changed object, as text.
                pub object_pk: ::std::string::String,
                /// Every stored field before the change; `None` for an insert.
                pub before: ::core::option::Option<#private::Value>,
                /// Every stored field after the change; `None` for a delete.
                pub after: ::core::option::Option<#private::Value>,
                /// `{"field": {"from": old, "to": new}}` for each changed field.
                pub changes: ::core::option::Option<#private::Value>,
                /// What caused the change: `http`, `management_command`, `celery_task`, `shell`.
                pub entry_point: ::core::option::Option<::std::string::String>,
                /// The route or full command / job name.
                pub route: ::core::option::Option<::std::string::String>,
                /// The request path or short command / job name.
                pub path: ::core::option::Option<::std::string::String>,
                /// The HTTP method, or `execute` / `run`.
                pub method: ::core::option::Option<::std::string::String>,
                /// The client's IP address.
                pub ip: ::core::option::Option<::std::string::String>,
                /// The acting user's id.
                pub user_id: ::core::option::Option<i64>,
                /// The acting user's name.
                pub user_name: ::core::option::Option<::std::string::String>,
                /// The client's user agent, or the command's options.
                pub user_agent: ::core::option::Option<::std::string::String>,
                /// When the change happened (taken by the application, UTC).
                pub created_at: #private::DateTime<#private::Utc>,
            }

            #[automatically_derived]
            impl #log_ident {
                /// The log table's name.
                pub const TABLE: &'static str = #log_table;
                /// `CREATE TABLE IF NOT EXISTS` of the log table on PostgreSQL (in the search path's schema).
                pub const DDL_POSTGRES: &'static str = #ddl_postgres;
                /// `CREATE TABLE IF NOT EXISTS` of the log table on MySQL / MariaDB.
                pub const DDL_MYSQL: &'static str = #ddl_mysql;
                /// `CREATE TABLE IF NOT EXISTS` of the log table on SQLite.
                pub const DDL_SQLITE: &'static str = #ddl_sqlite;

                #[doc = #for_object_doc]
                #allow_stub
                pub async fn for_object(
                    auditor: &#private::Auditor,
                    pk: &(impl ::core::fmt::Display + ?::core::marker::Sized),
                ) -> ::core::result::Result<::std::vec::Vec<Self>, #private::Error> {
                    #for_object
                }
            }

            #[automatically_derived]
            impl ::core::convert::From<#private::LogRecord> for #log_ident {
                fn from(record: #private::LogRecord) -> Self {
                    let #private::LogRecord {
                        id, action, object_pk, before, after, changes, entry_point, route,
                        path, method, ip, user_id, user_name, user_agent, created_at, ..
                    } = record;
                    Self {
                        id, action, object_pk, before, after, changes, entry_point, route,
                        path, method, ip, user_id, user_name, user_agent, created_at,
                    }
                }
            }

            #[automatically_derived]
            impl #impl_generics #ident #ty_generics #where_clause {
                /// Logs one change of this model: `(None, Some(new))` an insert,
                /// `(Some(old), Some(new))` an update, `(Some(old), None)` a delete.
                /// The timestamp and the current audit context are taken now.
                #allow_stub
                #vis async fn log_change(
                    auditor: &#private::Auditor,
                    before: ::core::option::Option<&Self>,
                    after: ::core::option::Option<&Self>,
                ) -> ::core::result::Result<#private::LogOutcome, #private::Error> {
                    #log_change
                }

                /// Logs many changes of this model with one multi-row INSERT per
                /// chunk of `BULK_CHUNK_SIZE` rows; each item is a `(before, after)` pair
                /// as for `log_change`.
                #allow_stub
                #vis async fn log_changes<'a, I>(
                    auditor: &#private::Auditor,
                    changes: I,
                ) -> ::core::result::Result<#private::BatchOutcome, #private::Error>
                where
                    #self_outlives
                    I: ::core::iter::IntoIterator<
                        Item = (::core::option::Option<&'a Self>, ::core::option::Option<&'a Self>),
                    >,
                {
                    #log_changes
                }

                /// Logs one change made in `tx`: inside the transaction when the
                /// audit database is the transaction's, else after it commits.
                #allow_stub
                #vis async fn log_change_in<DB: #private::AuditDatabase>(
                    tx: &mut #private::AuditTransaction<'_, DB>,
                    before: ::core::option::Option<&Self>,
                    after: ::core::option::Option<&Self>,
                ) -> ::core::result::Result<#private::LogOutcome, #private::Error> {
                    #log_change_in
                }

                /// Logs many changes made in `tx`, like `log_changes`, inside the
                /// transaction or after it commits like `log_change_in`.
                #allow_stub
                #vis async fn log_changes_in<'a, DB: #private::AuditDatabase, I>(
                    tx: &mut #private::AuditTransaction<'_, DB>,
                    changes: I,
                ) -> ::core::result::Result<#private::BatchOutcome, #private::Error>
                where
                    #self_outlives
                    I: ::core::iter::IntoIterator<
                        Item = (::core::option::Option<&'a Self>, ::core::option::Option<&'a Self>),
                    >,
                {
                    #log_changes_in
                }
            }
        }
    }
}

/// Stand-ins emitted next to the errors, so code that uses the generated API
/// is not buried in follow-up errors: the same items with stub bodies, and a
/// stub `Audited` impl when the item is not generic.
fn fallback(item: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let private = quote!(#krate::__private);
    let api = Api {
        item,
        private: &private,
        log_table: "",
        stub: true,
    }
    .generate();
    if !item.generics.params.is_empty() {
        return api;
    }
    let ident = &item.ident;
    let log_ident = api_log_ident(item);
    quote! {
        #api

        const _: () = {
            #[automatically_derived]
            #[allow(unused_variables)]
            impl #private::Audited for #ident {
                type Log = #log_ident;

                const MODEL: &'static #private::ModelInfo = &#private::ModelInfo::new(
                    "", "", "", "", "", "", &[], ["", "", ""],
                );

                fn object_pk(&self) -> ::std::string::String {
                    ::core::unreachable!()
                }

                fn visit_fields<V: #private::FieldVisitor>(
                    &self,
                    visitor: &mut V,
                ) -> ::core::result::Result<(), #private::SnapshotError> {
                    ::core::unreachable!()
                }

                fn visit_changes<V: #private::DiffVisitor>(
                    before: &Self,
                    after: &Self,
                    visitor: &mut V,
                ) -> ::core::result::Result<(), #private::SnapshotError> {
                    ::core::unreachable!()
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expand(args: proc_macro2::TokenStream) -> String {
        let input = quote! {
            struct Widget {
                id: i64,
                name: String,
            }
        };
        super::audited(args, input).to_string()
    }

    #[test]
    fn crate_override_is_the_only_path_to_the_runtime() {
        let out = expand(quote!(crate = "reexport::audit", label = "shop.widget"));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(
            out.contains("reexport :: audit :: __private :: Audited"),
            "{out}"
        );
        assert!(!out.contains("awesome_audit_log"), "{out}");
    }

    #[test]
    fn fallback_follows_the_crate_override() {
        let out = expand(quote!(crate = "reexport::audit", tabel = "widget"));
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fn log_change"), "{out}");
        assert!(!out.contains("awesome_audit_log"), "{out}");
    }

    #[test]
    fn no_fallback_without_a_path_to_the_runtime() {
        let out = expand(quote!(crate = "not a path"));
        assert!(out.contains("compile_error"), "{out}");
        assert!(!out.contains("fn log_change"), "{out}");
    }
}
