//! Finds the `#[audited]` structs in a crate's source files, for build
//! scripts: a build script runs before its crate is compiled, so it cannot
//! ask the crate's registry and reads the sources with the macro's own model
//! code instead.

use std::fmt;
use std::path::{Path, PathBuf};

use syn::{DeriveInput, Item};

use crate::ast::Model;
use crate::attr::{Container, is_container_attr};
use crate::ctxt::Ctxt;

/// A source file that could not be read or holds an invalid `#[audited]` struct.
#[derive(Debug)]
pub struct ScanError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ScanError {}

/// The audited models declared in one file's source text, in source order.
/// `app` is the default label's first part (the crate name).
///
/// ```
/// let src = r#"
///     #[audited(table = "widget")]
///     pub struct Widget { id: i64, name: String }
/// "#;
/// let models = awesome_audit_log_codegen::scan::models_in_source(src, "shop").unwrap();
/// assert_eq!(models[0].log_table, "widget_log");
/// assert_eq!(models[0].label, "shop.widget");
/// ```
pub fn models_in_source(src: &str, app: &str) -> syn::Result<Vec<Model>> {
    let file = syn::parse_file(src)?;
    let mut models = Vec::new();
    let cx = Ctxt::new();
    collect(&cx, &file.items, app, &mut models);
    cx.check()?;
    Ok(models)
}

/// The audited models of every `.rs` file below `dir`, files in path order.
pub fn models_in_dir(dir: &Path, app: &str) -> Result<Vec<Model>, ScanError> {
    let mut files = Vec::new();
    rust_files(dir, &mut files).map_err(|e| ScanError {
        path: dir.to_owned(),
        message: e.to_string(),
    })?;
    files.sort();
    let mut models = Vec::new();
    for path in files {
        let src = std::fs::read_to_string(&path).map_err(|e| ScanError {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let found = models_in_source(&src, app).map_err(|e| {
            let start = e.span().start();
            ScanError {
                message: format!("{}:{}: {e}", start.line, start.column + 1),
                path: path.clone(),
            }
        })?;
        models.extend(found);
    }
    Ok(models)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn collect(cx: &Ctxt, items: &[Item], app: &str, models: &mut Vec<Model>) {
    for item in items {
        let input: DeriveInput = match item {
            Item::Mod(module) => {
                if let Some((_, items)) = &module.content
                    && !is_cfg_test(&module.attrs)
                {
                    collect(cx, items, app, models);
                }
                continue;
            }
            Item::Struct(item) => item.clone().into(),
            Item::Enum(item) => item.clone().into(),
            Item::Union(item) => item.clone().into(),
            _ => continue,
        };
        let Some(attr) = input.attrs.iter().find(|a| is_container_attr(a)) else {
            continue;
        };
        let container = Container::from_attr(cx, attr);
        if let Some(model) = Model::from_input(cx, container, &input, Some(app)) {
            models.push(model);
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}
