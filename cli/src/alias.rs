//! Which database: `--database-url`, or a database alias (`--database
//! NAME`, the Django original's option) looked up among the aliases the
//! embedding binary hands the tool, or else in the environment: `default`
//! is `DATABASE_URL`, any other alias `X` is `DATABASE_URL_X` (upper-cased).

use std::collections::BTreeMap;

use awesome_audit_log::config::DEFAULT_ALIAS;

use crate::cli::GlobalArgs;
use crate::error::Error;

/// The variable of the default alias.
const DEFAULT_VARIABLE: &str = "DATABASE_URL";

/// The variable that holds the URL of `alias`: `DATABASE_URL` for
/// `default`, else `DATABASE_URL_` and the alias upper-cased; `None` for
/// an alias that cannot name a variable (only letters, digits and `_`).
pub(crate) fn variable(alias: &str) -> Option<String> {
    if alias == DEFAULT_ALIAS {
        return Some(DEFAULT_VARIABLE.to_owned());
    }
    let plain = !alias.is_empty() && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| format!("{DEFAULT_VARIABLE}_{}", alias.to_ascii_uppercase()))
}

/// The URL the command works on. `aliases` are the embedding binary's
/// (alias → URL); when it hands none, the environment's are used, read
/// with `env` (a variable's value, `None` when unset). `vars` lists the
/// environment's variable names, to say which aliases are known.
pub(crate) fn resolve(
    global: &GlobalArgs,
    aliases: &BTreeMap<String, String>,
    env: impl Fn(&str) -> Option<String>,
    vars: impl Iterator<Item = String>,
) -> Result<String, Error> {
    let given = |url: &String| !url.trim().is_empty();
    // clap refuses both, but not when one follows the subcommand.
    if global.database_url.is_some() && global.database.is_some() {
        return Err(Error::UrlAndAlias);
    }
    if let Some(url) = global.database_url.as_ref().filter(|url| given(url)) {
        return Ok(url.clone());
    }
    let named = global.database.as_deref();
    let alias = named.unwrap_or(DEFAULT_ALIAS);
    let found = if aliases.is_empty() {
        variable(alias).and_then(|var| env(&var))
    } else {
        aliases.get(alias).cloned()
    };
    if let Some(url) = found.filter(given) {
        return Ok(url);
    }
    if named.is_none() {
        return Err(Error::NoDatabaseUrl);
    }
    let known: Vec<String> = if aliases.is_empty() {
        let mut known: Vec<String> = vars
            .filter_map(|var| environment_alias(&var))
            .filter(|alias| {
                variable(alias)
                    .and_then(|var| env(&var))
                    .is_some_and(|url| given(&url))
            })
            .collect();
        known.sort();
        known.dedup();
        known
    } else {
        aliases.keys().cloned().collect()
    };
    Err(Error::UnknownAlias {
        alias: alias.chars().take(64).collect(),
        known,
    })
}

/// The alias a variable of the environment names: `default` for
/// `DATABASE_URL`, `x` for `DATABASE_URL_X`.
fn environment_alias(var: &str) -> Option<String> {
    if var == DEFAULT_VARIABLE {
        return Some(DEFAULT_ALIAS.to_owned());
    }
    var.strip_prefix(DEFAULT_VARIABLE)
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|alias| !alias.is_empty())
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(url: Option<&str>, alias: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            database_url: url.map(str::to_owned),
            database: alias.map(str::to_owned),
            ..GlobalArgs::default()
        }
    }

    const ENV: [(&str, &str); 4] = [
        ("DATABASE_URL", "sqlite://main.db"),
        ("DATABASE_URL_REPORTS", "postgres://reports"),
        ("DATABASE_URL_EMPTY", " "),
        ("HOME", "/home/me"),
    ];

    fn standalone(global: &GlobalArgs) -> Result<String, Error> {
        let env = |var: &str| {
            ENV.iter()
                .find(|(name, _)| *name == var)
                .map(|(_, value)| (*value).to_owned())
        };
        let vars = ENV.iter().map(|(name, _)| (*name).to_owned());
        resolve(global, &BTreeMap::new(), env, vars)
    }

    #[test]
    fn aliases_name_variables() {
        assert_eq!(variable("default").as_deref(), Some("DATABASE_URL"));
        assert_eq!(variable("reports").as_deref(), Some("DATABASE_URL_REPORTS"));
        assert_eq!(variable("Old_2").as_deref(), Some("DATABASE_URL_OLD_2"));
        for bad in ["", "a-b", "a b", "x=1", "é"] {
            assert_eq!(variable(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn standalone_aliases_come_from_the_environment() {
        assert_eq!(standalone(&global(None, None)).unwrap(), "sqlite://main.db");
        assert_eq!(
            standalone(&global(None, Some("default"))).unwrap(),
            "sqlite://main.db"
        );
        assert_eq!(
            standalone(&global(None, Some("reports"))).unwrap(),
            "postgres://reports"
        );
        assert_eq!(
            standalone(&global(Some("mysql://x"), None)).unwrap(),
            "mysql://x"
        );
        for unknown in ["nope", "empty", "a-b"] {
            let error = standalone(&global(None, Some(unknown))).unwrap_err();
            assert!(
                matches!(&error, Error::UnknownAlias { known, .. } if known == &["default", "reports"]),
                "{error}"
            );
            assert!(error.to_string().contains("default, reports"), "{error}");
        }
    }

    #[test]
    fn embedded_aliases_are_the_binarys() {
        let aliases: BTreeMap<String, String> = [
            ("default".to_owned(), "sqlite://app.db".to_owned()),
            ("audit".to_owned(), "postgres://audit".to_owned()),
        ]
        .into();
        let env = |_: &str| Some("sqlite://from-env.db".to_owned());
        let vars = || std::iter::once("DATABASE_URL_OTHER".to_owned());
        let resolve = |global: &GlobalArgs| resolve(global, &aliases, env, vars());
        assert_eq!(resolve(&global(None, None)).unwrap(), "sqlite://app.db");
        assert_eq!(
            resolve(&global(None, Some("audit"))).unwrap(),
            "postgres://audit"
        );
        let error = resolve(&global(None, Some("other"))).unwrap_err();
        assert!(
            matches!(&error, Error::UnknownAlias { known, .. } if known == &["audit", "default"]),
            "{error}"
        );
    }

    #[test]
    fn a_url_and_an_alias_conflict() {
        let both = standalone(&global(Some("sqlite://x.db"), Some("reports")));
        assert!(matches!(both, Err(Error::UrlAndAlias)));
    }

    #[test]
    fn nothing_at_all_is_no_database_url() {
        let none = |_: &str| None;
        let result = resolve(
            &global(Some(""), None),
            &BTreeMap::new(),
            none,
            std::iter::empty(),
        );
        assert!(matches!(result, Err(Error::NoDatabaseUrl)));
    }
}
