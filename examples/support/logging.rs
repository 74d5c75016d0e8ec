//! The examples' log output: the library reports rows it skips (audit
//! database down) or drops (full queue) as `tracing` warnings, shown here on
//! stderr; `RUST_LOG` overrides the filter.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Installs a subscriber writing to stderr (coloured only on a terminal),
/// filtered by `RUST_LOG` or `warn,awesome_audit_log=info`.
pub fn init() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,awesome_audit_log=info")),
        )
        .init();
}
