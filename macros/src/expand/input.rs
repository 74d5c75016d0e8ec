//! The checks and clean-up of the item `#[audited]` is applied to: the error
//! for an item that is not a struct, and the removal of the `#[audit(...)]`
//! attributes the macro consumed.

use awesome_audit_log_codegen::attr::is_field_attr;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Data, DeriveInput, Fields, Item};

/// The error for an item that is not a struct, enum or union, at its keyword.
pub(super) fn unsupported_item(input: TokenStream) -> syn::Error {
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
pub(super) fn strip_audit_attrs(item: &mut DeriveInput) {
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
