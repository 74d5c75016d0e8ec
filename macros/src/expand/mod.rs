//! Code generation: the validated model in, the struct plus its audit
//! implementation out. On errors the struct is still re-emitted, with a
//! fallback so that one mistake gives one error, not ten.

mod api;
mod audited_impl;
mod fallback;
mod input;
mod spans;
mod triggers;

use awesome_audit_log_codegen::ast::Model;
use awesome_audit_log_codegen::attr::Container;
use awesome_audit_log_codegen::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use self::fallback::fallback;
use self::input::{strip_audit_attrs, unsupported_item};

/// Expands `#[audited(args)]` on `input`: the struct, then either its
/// `Audited` impl and API or the errors and the fallback.
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
    let wants_triggers = container.triggers.is_some();
    let app = std::env::var("CARGO_CRATE_NAME").ok();
    let model = Model::from_input(&cx, container, &item, app.as_deref());
    strip_audit_attrs(&mut item);
    match (model, cx.check()) {
        (Some(model), Ok(())) => {
            let generated = audited_impl::generate(&model, &item);
            quote!(#item #generated)
        }
        (_, result) => {
            let errors = result.err().map(syn::Error::into_compile_error);
            let fallback = fallback_krate.map(|krate| {
                let private = quote!(#krate::__private);
                // A generic item (itself an error) has no plain `impl` to stand in.
                let triggers = (wants_triggers && item.generics.params.is_empty())
                    .then(|| triggers::fallback(&item, &private));
                let api = fallback(&item, &krate);
                quote!(#api #triggers)
            });
            quote!(#item #errors #fallback)
        }
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
        assert!(
            out.contains(r#"serde (crate = "reexport::audit::__private::serde")"#),
            "{out}"
        );
        // Only paths matter: the DDL text names the table of managed
        // tables, `awesome_audit_log_tables`.
        assert!(!out.contains("awesome_audit_log ::"), "{out}");
        assert!(!out.contains(":: awesome_audit_log"), "{out}");
    }

    #[test]
    fn serde_finds_itself_through_the_runtime() {
        let out = expand(quote!());
        assert!(
            out.contains(r#"serde (crate = "::awesome_audit_log::__private::serde")"#),
            "{out}"
        );
        assert!(
            out.contains(":: awesome_audit_log :: __private :: serde :: Serialize"),
            "{out}"
        );
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
