//! The expansion of `#[audited]` is clean under strict lints and names
//! nothing through paths the user's crate can shadow.

#![deny(
    warnings,
    unused,
    unused_qualifications,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unused_results
)]

/// Shadows `core::...` paths.
mod core {}
/// Shadows `std::...` paths.
mod std {}

/// Shadows the prelude names generated code might use unqualified.
#[allow(dead_code, non_camel_case_types)]
mod shadow {
    pub struct Option;
    pub struct Result;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub struct String;
    pub struct Vec;
    pub struct Box;
    pub trait Send {}
    pub trait Sync {}
    pub trait Sized {}
    pub trait From {}
    pub trait Into {}
    pub trait Clone {}
    pub trait PartialEq {}
    pub trait Iterator {}
    pub trait IntoIterator {}
}
#[allow(unused_imports)]
use shadow::*;

use awesome_audit_log::{Auditor, audited};

/// A documented, audited model, with database triggers.
#[audited(table = "widget", triggers)]
#[derive(Debug)]
pub struct Widget {
    /// The primary key.
    pub id: i64,
    /// The name, in the column `name_col`.
    #[audit(column = "name_col")]
    pub name: ::std::string::String,
    /// A secret.
    #[audit(redact)]
    pub api_key: ::std::string::String,
    /// Not logged.
    #[audit(skip)]
    pub cache: ::std::vec::Vec<u8>,
}

/// An audited model that stays private to the crate, with triggers it
/// never installs.
#[audited(triggers)]
#[derive(Debug)]
struct Order {
    #[audit(pk)]
    number: u64,
}

/// Logs a change of each model.
pub async fn log(auditor: &Auditor, widget: &Widget) {
    let _ = Widget::log_change(
        auditor,
        ::core::option::Option::None,
        ::core::option::Option::Some(widget),
    )
    .await;
    let order = Order { number: 1 };
    let _ = Order::log_change(
        auditor,
        ::core::option::Option::Some(&order),
        ::core::option::Option::None,
    )
    .await;
}

fn main() {
    let _ = log;
}
