//! What `#[audited(triggers)]` adds: the description of the model's
//! triggers in its `ModelInfo`, the statements that install them as
//! constants, and `install_triggers` / `uninstall_triggers`.

use awesome_audit_log_codegen::ast::Model;
use awesome_audit_log_codegen::ddl::Dialect;
use awesome_audit_log_codegen::trigger::{Render, Stored, TriggerOptions, install_statements};
use proc_macro2::TokenStream;
use quote::quote;

/// The `&'static TriggerModel` of a model with triggers.
pub(super) fn trigger_model(model: &Model, private: &TokenStream) -> TokenStream {
    let fields = model.trigger_fields();
    let spec = model.trigger_model(&fields);
    let field_tokens = spec.fields.iter().map(|field| {
        let column = field.column;
        let key = field.key;
        let stored = match field.stored {
            Stored::Plain(render) => {
                let render = render_tokens(render, private);
                quote!(#private::Stored::Plain(#render))
            }
            Stored::Redacted => quote!(#private::Stored::Redacted),
        };
        quote!(#private::TriggerField { column: #column, key: #key, stored: #stored })
    });
    let (table, log_table, pk_column) = (spec.table, spec.log_table, spec.pk_column);
    let pk_render = render_tokens(spec.pk_render, private);
    quote! {
        &#private::TriggerModel {
            table: #table,
            log_table: #log_table,
            pk_column: #pk_column,
            pk_render: #pk_render,
            fields: &[#(#field_tokens),*],
        }
    }
}

fn render_tokens(render: Render, private: &TokenStream) -> TokenStream {
    let variant = match render {
        Render::Bool => quote!(Bool),
        Render::Int => quote!(Int),
        Render::Text => quote!(Text),
        Render::Uuid => quote!(Uuid),
        Render::Date => quote!(Date),
        Render::DateTimeUtc => quote!(DateTimeUtc),
        Render::Json => quote!(Json),
    };
    quote!(#private::Render::#variant)
}

/// The model's trigger constants and methods.
pub(super) fn api(model: &Model, private: &TokenStream, vis: &syn::Visibility) -> TokenStream {
    let fields = model.trigger_fields();
    let spec = model.trigger_model(&fields);
    let statements =
        Dialect::ALL.map(|dialect| install_statements(dialect, &spec, &TriggerOptions::new()));
    Methods {
        ident: &model.ident,
        vis,
        private,
        table: &model.table,
        statements: Some(statements),
    }
    .generate()
}

/// The same items with stub bodies, emitted next to the errors of a model
/// that asked for triggers, so that code using them is not buried in
/// follow-up errors.
pub(super) fn fallback(item: &syn::DeriveInput, private: &TokenStream) -> TokenStream {
    Methods {
        ident: &item.ident,
        vis: &item.vis,
        private,
        table: "",
        statements: None,
    }
    .generate()
}

/// The trigger constants and methods of one model; `statements: None`
/// for the fallback's stubs.
struct Methods<'a> {
    ident: &'a syn::Ident,
    vis: &'a syn::Visibility,
    private: &'a TokenStream,
    table: &'a str,
    statements: Option<[Vec<String>; 3]>,
}

impl Methods<'_> {
    fn generate(&self) -> TokenStream {
        let Methods {
            ident,
            vis,
            private,
            table,
            ..
        } = *self;
        let [postgres, mysql, sqlite] = match &self.statements {
            Some(statements) => statements
                .clone()
                .map(|statements| quote!(&[#(#statements),*])),
            None => [quote!(&[]), quote!(&[]), quote!(&[])],
        };
        let stub = self.statements.is_none();
        let body = |real: TokenStream| {
            if stub {
                quote!(::core::unreachable!())
            } else {
                real
            }
        };
        let allow_stub = stub.then(|| quote!(#[allow(unused_variables, clippy::unused_async)]));
        let install = body(
            quote!(#private::install_triggers(auditor, <Self as #private::Audited>::MODEL).await),
        );
        let uninstall = body(
            quote!(#private::uninstall_triggers(auditor, <Self as #private::Audited>::MODEL).await),
        );
        let doc = |dialect: &str, what: &str| {
            format!(
                "The statements that install the audit triggers of `{table}` on {dialect}, in order: {what}. For the search path's schema, with unchanged updates not logged; `install_triggers` generates them for the configuration."
            )
        };
        let doc_pg = doc(
            "PostgreSQL",
            "`CREATE OR REPLACE FUNCTION`, `DROP TRIGGER IF EXISTS`, `CREATE TRIGGER` (run them in one transaction)",
        );
        let doc_my = doc(
            "MySQL / MariaDB",
            "a `DROP TRIGGER IF EXISTS` then a `CREATE TRIGGER` per action",
        );
        let doc_lite = doc(
            "SQLite",
            "a `DROP TRIGGER IF EXISTS` then a `CREATE TRIGGER` per action",
        );
        quote! {
            #[automatically_derived]
            impl #ident {
                #[doc = #doc_pg]
                #vis const TRIGGERS_POSTGRES: &'static [&'static str] = #postgres;
                #[doc = #doc_my]
                #vis const TRIGGERS_MYSQL: &'static [&'static str] = #mysql;
                #[doc = #doc_lite]
                #vis const TRIGGERS_SQLITE: &'static [&'static str] = #sqlite;

                /// The statements that install this model's audit triggers in
                /// `dialect` (see the `TRIGGERS_*` constants).
                #vis const fn trigger_ddl(dialect: #private::Dialect) -> &'static [&'static str] {
                    match dialect {
                        #private::Dialect::Postgres => Self::TRIGGERS_POSTGRES,
                        #private::Dialect::MySql => Self::TRIGGERS_MYSQL,
                        #private::Dialect::Sqlite => Self::TRIGGERS_SQLITE,
                    }
                }

                /// Installs this model's audit triggers on the audit database,
                /// replacing any older version; removes them when the configuration
                /// leaves the model unaudited. The log table is created if missing.
                #allow_stub
                #vis async fn install_triggers(
                    auditor: &#private::Auditor,
                ) -> ::core::result::Result<#private::TriggerOutcome, #private::Error> {
                    #install
                }

                /// Removes this model's audit triggers from the audit database.
                #allow_stub
                #vis async fn uninstall_triggers(
                    auditor: &#private::Auditor,
                ) -> ::core::result::Result<(), #private::Error> {
                    #uninstall
                }
            }
        }
    }
}
