//! The stand-ins emitted next to the errors of an invalid model.

use awesome_audit_log_codegen::ident::pascal_case;
use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use super::api::{Api, ApiField, api_field_ident, api_log_ident};

/// Stand-ins emitted next to the errors, so code that uses the generated API
/// is not buried in follow-up errors: the same items with stub bodies, and a
/// stub `Audited` impl when the item is not generic.
pub(super) fn fallback(item: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let private = quote!(#krate::__private);
    let api = Api {
        item,
        private: &private,
        krate,
        log_table: "",
        partition: None,
        fields: stand_in_fields(item),
        stub: true,
    }
    .generate();
    if !item.generics.params.is_empty() {
        return api;
    }
    let ident = &item.ident;
    let log_ident = api_log_ident(item);
    let field_ident = api_field_ident(item);
    quote! {
        #api

        const _: () = {
            #[automatically_derived]
            #[allow(unused_variables)]
            impl #private::Audited for #ident {
                type Log = #log_ident;
                type Field = #field_ident;

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

                fn restore(
                    snapshot: &#private::Map<::std::string::String, #private::Value>,
                    base: ::core::option::Option<Self>,
                ) -> ::core::result::Result<Self, ::std::vec::Vec<#private::UnrestorableField>> {
                    ::core::unreachable!()
                }
            }
        };
    }
}

/// The field enum's variants of an invalid model: every named field, so
/// that code naming one is not buried in follow-up errors.
fn stand_in_fields(item: &DeriveInput) -> Vec<ApiField> {
    let syn::Data::Struct(data) = &item.data else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    data.fields
        .iter()
        .filter_map(|field| field.ident.as_ref())
        .filter_map(|ident| {
            let name = ident.to_string();
            let variant = pascal_case(&name);
            // A duplicate or empty variant is itself one of the errors.
            (!variant.is_empty() && seen.insert(variant.clone())).then(|| ApiField {
                variant: syn::Ident::new(&variant, ident.span()),
                key: name.strip_prefix("r#").unwrap_or(&name).to_owned(),
                name,
            })
        })
        .collect()
}
