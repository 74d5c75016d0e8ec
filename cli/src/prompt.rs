//! Asking before a change: commands that change tables (`schema apply`,
//! `prune`, `dedupe`, `triggers install` / `uninstall`) ask on the
//! terminal unless given `--yes`, and refuse to go on without a terminal
//! to ask on.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::error::Error;
use crate::exit::Exit;

/// Statements a command prints, then runs once confirmed (`schema apply`,
/// `triggers install`, `triggers uninstall`).
#[derive(Debug)]
pub(crate) struct Plan {
    /// The command, named when there is no terminal to ask on.
    pub command: &'static str,
    /// What is asked, when something is to run.
    pub question: String,
    /// How many tables have something to run.
    pub to_run: usize,
    /// `--dry-run`: print, change nothing.
    pub dry_run: bool,
    /// `--yes`: do not ask.
    pub yes: bool,
    /// `--json`: stdout holds only the result; the plan goes to stderr
    /// when it is asked about.
    pub json: bool,
}

/// Prints the plan with `print_plan`, stops after a dry run, and asks
/// unless `--yes`. `Some(exit)` when the command ends here (with `--json`,
/// its result printed with `print_result`); `None` to go ahead.
pub(crate) fn confirm_plan(
    plan: &Plan,
    out: &mut dyn Write,
    print_plan: &dyn Fn(&mut dyn Write) -> io::Result<()>,
    print_result: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<Option<Exit>, Error> {
    if !plan.json {
        print_plan(out)?;
    }
    if plan.dry_run {
        if plan.json {
            print_result(out)?;
        } else if plan.to_run > 0 {
            writeln!(out, "-- dry run: nothing was changed")?;
        }
        return Ok(Some(Exit::Success));
    }
    if plan.to_run > 0 && !plan.yes {
        require_terminal(plan.command, "the statements")?;
        if plan.json {
            // The statements, for the person who is asked.
            print_plan(&mut io::stderr())?;
        }
        if !confirm(&plan.question)? {
            eprintln!("nothing was changed");
            if plan.json {
                print_result(out)?;
            }
            return Ok(Some(Exit::Failure));
        }
    }
    Ok(None)
}

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
