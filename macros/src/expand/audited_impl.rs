//! The `Audited` impl of a valid model: its `ModelInfo`, the field visitors
//! that build the snapshot and the changes, and its registration.

use awesome_audit_log_codegen::ast::{FieldKind, Model};
use awesome_audit_log_codegen::partition::PartitionBy;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::DeriveInput;

use super::api::{Api, ApiField, api_field_ident, api_log_ident};
use super::spans::{TypeSpans, respan};

/// The API and the `Audited` impl of a valid model; `item` is the struct
/// without its `#[audit(...)]` attributes.
pub(super) fn generate(model: &Model, item: &DeriveInput) -> TokenStream {
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

    let restore = restore_body(model, &private);

    let api = Api {
        item,
        private: &private,
        krate,
        log_table,
        partition: model.partition,
        fields: model
            .stored_fields()
            .map(|field| ApiField {
                variant: field.variant(),
                name: field.ident.to_string(),
                key: field.key.clone(),
            })
            .collect(),
        stub: false,
    }
    .generate();
    let retention = model.retention.map(|retention| {
        let some = |value: Option<TokenStream>| match value {
            Some(value) => quote!(::core::option::Option::Some(#value)),
            None => quote!(::core::option::Option::None),
        };
        let older_than = some(
            retention
                .older_than_secs
                .map(|secs| quote!(::core::time::Duration::from_secs(#secs))),
        );
        let keep_last = some(retention.keep_last.map(|rows| quote!(#rows)));
        quote!(.with_retention(#private::Retention::new(#older_than, #keep_last)))
    });
    let (with_triggers, trigger_api) = if model.triggers {
        let spec = super::triggers::trigger_model(model, &private);
        (
            Some(quote!(.with_triggers(#spec))),
            Some(super::triggers::api(model, &private, &item.vis)),
        )
    } else {
        (None, None)
    };
    let partition = model.partition.map(|by| {
        let variant = syn::Ident::new(
            match by {
                PartitionBy::Day => "Day",
                PartitionBy::Week => "Week",
                PartitionBy::Month => "Month",
            },
            Span::call_site(),
        );
        quote!(.with_partition(#private::PartitionBy::#variant))
    });
    let log_ident = api_log_ident(item);
    let field_ident = api_field_ident(item);
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
            )#retention #with_triggers #partition;

            #[automatically_derived]
            impl #private::Audited for #ident {
                type Log = #log_ident;
                type Field = #field_ident;

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

                fn restore(
                    snapshot: &#private::Map<::std::string::String, #private::Value>,
                    base: ::core::option::Option<Self>,
                ) -> ::core::result::Result<Self, ::std::vec::Vec<#private::UnrestorableField>> {
                    #restore
                }
            }

            #trigger_api

            // Registered without naming `<Struct as Audited>`, so that a struct
            // that cannot implement `Audited` (not `Sync`, say) gets one error.
            #private::inventory::submit! {
                #private::Registration::new(#model_info)
            }
        };
    }
}

/// The body of `Audited::restore`: each plain field read back from the
/// snapshot (its `Deserialize` bound spanned at the field's type), the
/// others taken from `base`; the value only if every field was found.
fn restore_body(model: &Model, private: &TokenStream) -> TokenStream {
    let vars: Vec<syn::Ident> = (0..model.fields.len())
        .map(|i| syn::Ident::new(&format!("__field{i}"), Span::mixed_site()))
        .collect();
    let members: Vec<&syn::Ident> = model.fields.iter().map(|field| &field.ident).collect();
    let types: Vec<&syn::Type> = model.fields.iter().map(|field| &field.ty).collect();
    let restoring = syn::Ident::new("restoring", Span::mixed_site());
    let reads = model.fields.iter().zip(&vars).map(|(field, var)| {
        let name = field.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let key = &field.key;
        let ty = &field.ty;
        match field.kind {
            FieldKind::Plain => {
                let at = TypeSpans::of(field);
                let plain = at.path(private, "Restoring::plain");
                quote_spanned! {at.first=>
                    let #var = #plain::<#ty>(&mut #restoring, snapshot, #name, #key, #var);
                }
            }
            FieldKind::Redact => quote! {
                let #var = #restoring.kept(#name, #private::Unrestorable::Redacted, #var);
            },
            FieldKind::Skip => quote! {
                let #var = #restoring.kept(#name, #private::Unrestorable::Skipped, #var);
            },
        }
    });
    quote! {
        let mut #restoring = #private::Restoring::default();
        let (#(#vars,)*) = match base {
            ::core::option::Option::Some(Self { #(#members: #vars),* }) => {
                (#(::core::option::Option::Some(#vars),)*)
            }
            ::core::option::Option::None => (#(::core::option::Option::<#types>::None,)*),
        };
        #(#reads)*
        let (#(::core::option::Option::Some(#vars),)*) = (#(#vars,)*) else {
            return ::core::result::Result::Err(#restoring.finish());
        };
        ::core::result::Result::Ok(Self { #(#members: #vars),* })
    }
}
