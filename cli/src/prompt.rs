//! Asking before a change: commands that change tables (`schema apply`,
//! `prune`, `dedupe`) ask on the terminal unless given `--yes`, and
//! refuse to go on without a terminal to ask on.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::error::Error;

/// Whether `command` may ask: stdin is a terminal. Without one it is
/// [`Error::NoTerminal`] (exit 2): no one could answer, and going ahead
/// unasked is what `--yes` is for. `dry_run` names what `--dry-run` shows.
pub(crate) fn require_terminal(command: &'static str, dry_run: &'static str) -> Result<(), Error> {
    if io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Error::NoTerminal { command, dry_run })
    }
}

/// Asks `question` on stderr, with ` [y/N] ` after it, and reads the
/// answer from stdin: only `y` or `yes` (in any case) goes ahead.
pub(crate) fn confirm(question: &str) -> Result<bool, Error> {
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_goes_ahead() {
        for yes in ["y\n", "Y", " yes \r\n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "y y", "oui"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
