//! The `#[audited]` attribute of
//! [`awesome-audit-log`](https://docs.rs/awesome-audit-log); its reference is
//! documented there, on the re-export `awesome_audit_log::audited`.
//! This crate is an implementation detail: depend on `awesome-audit-log`.

mod expand;

use proc_macro::TokenStream;

/// Makes a struct an audited model. See `awesome_audit_log::audited` for
/// the full reference.
#[proc_macro_attribute]
pub fn audited(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::audited(args.into(), input.into()).into()
}
