//! The exit status a script can test.

use std::process::{ExitCode, Termination};

/// How a command ended, as the tool's exit status says it: `0` all is
/// well, `1` a check found drift or a command failed, `2` bad usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[must_use = "the exit status is what a script sees: return it from `main`"]
pub enum Exit {
    /// Exit status 0: all is well.
    Success,
    /// Exit status 1: a check found drift, or a command failed.
    Failure,
    /// Exit status 2: bad usage (a missing database URL, a table that is
    /// not a log table named with `--table`, no terminal to confirm on).
    Usage,
}

impl Exit {
    /// The numeric status: 0, 1 or 2.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
        }
    }

    /// [`Exit::Success`] when `ok`, else [`Exit::Failure`].
    pub(crate) const fn from_ok(ok: bool) -> Self {
        if ok { Exit::Success } else { Exit::Failure }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        self.into()
    }
}
