//! Feature `clap`: the audit context of a command line parsed by clap
//! ([`AuditContext::from_clap`], [`clap_options`]).

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use super::AuditContext;

impl AuditContext {
    /// The context of a clap command line: [`AuditContext::command`]
    /// with path = the name of the command that runs (the innermost
    /// subcommand), route = the full command name (the names from the
    /// program down to that subcommand, joined by spaces), user agent =
    /// [`clap_options`]. Pass the same `Command` that produced `matches`.
    ///
    /// ```
    /// use awesome_audit_log::context::AuditContext;
    /// use clap::{Arg, ArgAction, Command};
    ///
    /// let cli = Command::new("shop").subcommand(
    ///     Command::new("recount")
    ///         .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue))
    ///         .arg(Arg::new("limit").long("limit").default_value("100")),
    /// );
    /// let matches = cli.clone().try_get_matches_from(["shop", "recount", "--dry-run"]).unwrap();
    /// let ctx = AuditContext::from_clap(&cli, &matches);
    /// assert_eq!(ctx.path.as_deref(), Some("recount"));
    /// assert_eq!(ctx.route.as_deref(), Some("shop recount"));
    /// assert_eq!(ctx.user_agent.as_deref(), Some("dry_run=true")); // limit kept its default
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "clap")))]
    pub fn from_clap(command: &Command, matches: &ArgMatches) -> Self {
        let mut names = vec![command.get_name().to_owned()];
        let (mut level, mut level_matches) = (command, matches);
        while let Some((name, sub_matches)) = level_matches.subcommand() {
            let Some(sub) = level.find_subcommand(name) else {
                break;
            };
            names.push(sub.get_name().to_owned());
            (level, level_matches) = (sub, sub_matches);
        }
        let name = names.last().cloned().unwrap_or_default();
        AuditContext::command(name, names.join(" ")).with_options(clap_options(command, matches))
    }
}

/// The options of a parsed command line that were not left at their
/// defaults (given on the command line or taken from an environment
/// variable, per clap's `ArgMatches::value_source`), as `(id, value)`
/// pairs in the order the command declares them; several values are
/// joined with `,`. Subcommands that ran add their own options after
/// their parent's. Filter the list (secrets!) and pass it to
/// [`AuditContext::with_options`] to choose what is recorded.
///
/// ```
/// use awesome_audit_log::context::{AuditContext, clap_options};
/// use clap::{Arg, ArgAction, Command};
///
/// let cli = Command::new("import")
///     .arg(Arg::new("file").required(true))
///     .arg(Arg::new("password").long("password"))
///     .arg(Arg::new("tag").long("tag").action(ArgAction::Append))
///     .arg(Arg::new("verbose").short('v').action(ArgAction::Count));
/// let matches = cli
///     .clone()
///     .try_get_matches_from(["import", "a.csv", "--password", "pw", "--tag", "x", "--tag", "y", "-vv"])
///     .unwrap();
/// let options: Vec<_> = clap_options(&cli, &matches)
///     .into_iter()
///     .filter(|(id, _)| id != "password")
///     .collect();
/// let ctx = AuditContext::command("import", "import").with_options(options);
/// assert_eq!(ctx.user_agent.as_deref(), Some("file=a.csv tag=x,y verbose=2"));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "clap")))]
pub fn clap_options(command: &Command, matches: &ArgMatches) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Vec::new();
    let (mut command, mut matches) = (command, matches);
    loop {
        options_of_level(command, matches, &mut options);
        let Some((name, sub_matches)) = matches.subcommand() else {
            break;
        };
        let Some(sub) = command.find_subcommand(name) else {
            break;
        };
        (command, matches) = (sub, sub_matches);
    }
    options
}

fn options_of_level(command: &Command, matches: &ArgMatches, out: &mut Vec<(String, String)>) {
    // Only ids present in `matches` are queried: asking for any other id
    // panics in debug builds of clap.
    let present: Vec<&str> = matches.ids().map(|id| id.as_str()).collect();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if !present.contains(&id) || out.iter().any(|(seen, _)| seen == id) {
            continue;
        }
        match matches.value_source(id) {
            Some(ValueSource::DefaultValue) | None => continue,
            Some(_) => {}
        }
        out.push((id.to_owned(), value_text(matches, id)));
    }
}

fn value_text(matches: &ArgMatches, id: &str) -> String {
    let raw: Vec<String> = match matches.try_get_raw(id) {
        Ok(Some(raw)) => raw
            .map(|value| value.to_string_lossy().into_owned())
            .collect(),
        _ => Vec::new(),
    };
    if raw.is_empty() {
        // A counted flag (`-vv`) keeps its count as a typed value only.
        if let Ok(Some(count)) = matches.try_get_one::<u8>(id) {
            return count.to_string();
        }
    }
    raw.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_options_skip_defaults_and_groups() {
        use clap::{Arg, ArgAction, ArgGroup, Command};
        let cli = Command::new("shop")
            .arg(
                Arg::new("verbose")
                    .short('v')
                    .action(ArgAction::Count)
                    .global(true),
            )
            .arg(Arg::new("quiet").long("quiet").action(ArgAction::SetTrue))
            .group(ArgGroup::new("noise").args(["verbose", "quiet"]))
            .subcommand(
                Command::new("recount")
                    .arg(Arg::new("shop").required(true))
                    .arg(Arg::new("limit").long("limit").default_value("100"))
                    .arg(
                        Arg::new("dry_run")
                            .long("dry-run")
                            .action(ArgAction::SetTrue),
                    )
                    .arg(Arg::new("note").long("note"))
                    .arg(
                        Arg::new("port")
                            .long("port")
                            .action(ArgAction::Append)
                            .value_parser(clap::value_parser!(u8)),
                    ),
            );
        let matches = cli
            .clone()
            .try_get_matches_from([
                "shop", "-v", "recount", "main", "--note", "a b", "--port", "7", "--port", "8",
            ])
            .unwrap();
        let ctx = AuditContext::from_clap(&cli, &matches);
        assert_eq!(ctx.path.as_deref(), Some("recount"));
        assert_eq!(ctx.route.as_deref(), Some("shop recount"));
        assert_eq!(ctx.method.as_deref(), Some("execute"));
        assert_eq!(
            ctx.user_agent.as_deref(),
            Some(r#"verbose=1 shop=main note="a b" port=7,8"#)
        );

        let matches = cli.clone().try_get_matches_from(["shop"]).unwrap();
        let ctx = AuditContext::from_clap(&cli, &matches);
        assert_eq!(ctx.path.as_deref(), Some("shop"));
        assert_eq!(ctx.user_agent, None);
    }
}
