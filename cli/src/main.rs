//! The standalone `awesome-audit-log` tool: it links no audited model, so
//! it works on the managed log tables and those named with `--table`.

use awesome_audit_log_cli::{Cli, Exit, run};
use clap::Parser;

fn main() -> Exit {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("awesome-audit-log: could not start the async runtime: {error}");
            return Exit::Failure;
        }
    };
    runtime.block_on(run(
        &cli.global,
        &cli.command,
        &awesome_audit_log::registry::models(),
    ))
}
