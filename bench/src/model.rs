//! The audited models the benchmark writes, logs and reads.

// Declared through a local macro, the generated API counts as this crate's
// code, and the benchmark uses only part of it.
#![allow(dead_code)]

use awesome_audit_log::audited;
use awesome_audit_log::chrono::{DateTime, Utc};

/// Object `i` of the write benchmarks, as inserted, last changed `at`.
pub(crate) fn widget(i: usize, at: DateTime<Utc>) -> Widget {
    Widget {
        id: i as i64,
        name: format!("widget {i}"),
        qty: (i % 100) as i32,
        price: 25 * i as i64 + 150,
        active: i.is_multiple_of(2),
        updated_at: at,
    }
}

/// An audited model with the fields of a widget, on the table `$table`.
macro_rules! widget_model {
    ($(#[$doc:meta])* $name:ident, table = $table:tt, label = $label:tt) => {
        $(#[$doc])*
        #[audited(table = $table, label = $label, triggers)]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            /// Primary key.
            pub id: i64,
            /// Display name.
            pub name: String,
            /// Quantity in stock: the field the update phase changes.
            pub qty: i32,
            /// Unit price, in cents: an integer, which the generated
            /// triggers render exactly as serde does (a float they cannot).
            pub price: i64,
            /// Whether it is for sale.
            pub active: bool,
            /// Last change (UTC, microseconds).
            pub updated_at: DateTime<Utc>,
        }
    };
}

widget_model!(
    /// The audited model: a row of the benchmark's `widget` table.
    Widget,
    table = "widget",
    label = "bench.widget"
);

widget_model!(
    /// The same model with a log table of its own, `widget_ref_log`: the
    /// read benchmark keeps it at the first size and reads it alongside the
    /// growing `widget_log`, as the reference each size is compared with.
    WidgetRef,
    table = "widget_ref",
    label = "bench.widget_ref"
);
