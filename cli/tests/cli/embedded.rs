//! This test binary doubles as an application that embeds the tool: run
//! with [`VAR`] set, it parses the tool's command line and runs it with
//! [`run_with`], handing it the models it links (those of the integration
//! tests' crate, `Gadget` declared with triggers among them, less `Badge`)
//! and its configuration from the `AWESOME_AUDIT_LOG_*` variables, as a
//! user's binary does.

use awesome_audit_log::{AuditConfig, registry};
use awesome_audit_log_cli::{Cli, Setup, run_with};
use clap::Parser;

/// The variable that makes the test binary the embedding application (not
/// one of `AWESOME_AUDIT_LOG_*`, which the configuration reads).
pub const VAR: &str = "AAL_CLI_TESTS_EMBEDDED";

/// Runs the tool as the application does, and exits with its status.
pub fn main() -> ! {
    // Linked, so that their registrations are.
    let _ = awesome_audit_log_tests::models::Gadget::log_change;
    let cli = Cli::parse();
    let config = match AuditConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("the application's configuration: {error}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // `Badge` (the suite's case of a UUID primary key) has triggers too;
    // the trigger commands are tested on `Gadget` alone.
    let models: Vec<_> = registry::models()
        .into_iter()
        .filter(|model| model.label() != "shop.badge")
        .collect();
    let setup = Setup::new().models(&models).config(config);
    let exit = runtime.block_on(run_with(&cli.global, &cli.command, &setup));
    std::process::exit(exit.code().into())
}
