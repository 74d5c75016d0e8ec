//! The built `awesome-audit-log` binary, run as a user runs it: its
//! stdout, stderr and exit status.

use std::process::{Command, Stdio};

use serde_json::Value;

/// What one run of the tool gave.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub code: i32,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Run {
    /// Panics (showing the output) unless the exit status is `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics unless stdout holds `text`.
    #[track_caller]
    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless stderr holds `text`.
    #[track_caller]
    pub fn complains(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The object of `table` in stdout's JSON array.
    #[track_caller]
    pub fn table(&self, table: &str) -> Value {
        self.json()
            .as_array()
            .and_then(|tables| tables.iter().find(|t| t["table"] == table))
            .cloned()
            .unwrap_or_else(|| panic!("no `{table}` in\n{}", self.stdout))
    }

    /// The tables named in stdout's JSON array.
    #[track_caller]
    pub fn tables(&self) -> Vec<String> {
        self.json()
            .as_array()
            .map(|tables| {
                tables
                    .iter()
                    .filter_map(|t| t["table"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The kinds of the drifts of one table object of `schema check --json`.
pub fn drift_kinds(table: &Value) -> Vec<String> {
    table["drifts"]
        .as_array()
        .map(|drifts| {
            drifts
                .iter()
                .filter_map(|d| d["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the tool with `args`, `DATABASE_URL` set to `url` (unset for
/// `None`), no other of its variables, and no terminal on stdin.
pub fn run(url: Option<&str>, args: &[&str]) -> Run {
    run_env(url, &[], args)
}

/// [`run`] with the variables `env` set too.
pub fn run_env(url: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Run {
    run_program(
        Command::new(env!("CARGO_BIN_EXE_awesome-audit-log")),
        url,
        env,
        args,
    )
}

/// [`run_env`] of an application that embeds the tool (this test binary,
/// see [`crate::embedded`]): it knows the models it links, `Gadget` with
/// its triggers among them, and reads its configuration from the
/// `AWESOME_AUDIT_LOG_*` variables of `env`.
pub fn embedded(url: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.env(crate::embedded::VAR, "1");
    run_program(command, Some(url), env, args)
}

fn run_program(
    mut command: Command,
    url: Option<&str>,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run {
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("AWESOME_AUDIT_LOG_PG_SCHEMA")
        .stdin(Stdio::null());
    // Other database aliases (DATABASE_URL_X) only when given.
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("DATABASE_URL_") {
            command.env_remove(var);
        }
    }
    command.envs(env.iter().copied());
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().expect("run the tool");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
