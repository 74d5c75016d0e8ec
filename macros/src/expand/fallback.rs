//! The stand-ins emitted next to the errors of an invalid model.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use super::api::{Api, api_log_ident};

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
