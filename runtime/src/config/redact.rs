//! Credentials kept out of what is shown: a URL's password is masked in
//! `Debug` output, log lines and error messages.

use std::borrow::Cow;
use std::fmt;

/// The mask written in place of a password.
const MASK: &str = "***";

/// Query parameters that carry a password (`redis+unix:///run/redis.sock?pass=…`).
const SECRET_PARAMETERS: [&str; 2] = ["pass", "password"];

/// A URL shown with its password masked: scheme, user, host, port, path
/// and the other query parameters are kept. Use it wherever a URL from the
/// configuration is logged or printed.
///
/// ```
/// use awesome_audit_log::config::RedactedUrl;
///
/// let shown = RedactedUrl("redis://audit:s3cret@cache.internal:6379/0").to_string();
/// assert_eq!(shown, "redis://audit:***@cache.internal:6379/0");
///
/// let shown = RedactedUrl("redis+unix:///run/redis.sock?db=1&pass=s3cret").to_string();
/// assert_eq!(shown, "redis+unix:///run/redis.sock?db=1&pass=***");
///
/// // Nothing to hide: shown as it is.
/// assert_eq!(RedactedUrl("redis://127.0.0.1:6379").to_string(), "redis://127.0.0.1:6379");
/// ```
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a str);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let authority = url.find("://").map_or(0, |i| i + 3);
        f.write_str(&url[..authority])?;
        let mut rest = &url[authority..];
        // The last `@` ends the user information, as in URL parsers; a
        // password may hold `@`, `/`, `?` or `#` that its writer did not
        // escape, so nothing before it is taken for the host.
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => write!(f, "{user}:{MASK}@")?,
                None => write!(f, "{userinfo}@")?,
            }
            rest = &rest[at + 1..];
        }
        let Some((path, query)) = rest.split_once('?') else {
            return f.write_str(rest);
        };
        write!(f, "{path}?")?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_parameter(name) => write!(f, "{name}={MASK}")?,
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

fn is_secret_parameter(name: &str) -> bool {
    SECRET_PARAMETERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}

/// `text` with the password of every URL in it masked, for messages that
/// quote what a user wrote (a parser's error showing the offending line).
pub(crate) fn redact_urls_in(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(separator) = rest.find("://") {
        let start = rest[..separator]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[separator..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map_or(rest.len(), |i| separator + i);
        out.push_str(&rest[..start]);
        out.push_str(&RedactedUrl(&rest[start..end]).to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_is_kept() {
        let cases = [
            (
                "redis://user:secret@host:6379/0",
                "redis://user:***@host:6379/0",
            ),
            ("rediss://:secret@host", "rediss://:***@host"),
            ("redis://user@host:6379", "redis://user@host:6379"),
            ("redis://host:6379/3", "redis://host:6379/3"),
            // Unescaped `@`, `/` and `?` in the password.
            ("redis://u:p@ss/w?rd@host/1", "redis://u:***@host/1"),
            (
                "redis+unix:///tmp/r.sock?db=2&PASS=secret&user=u",
                "redis+unix:///tmp/r.sock?db=2&PASS=***&user=u",
            ),
            (
                "unix:///tmp/r.sock?password=secret",
                "unix:///tmp/r.sock?password=***",
            ),
            ("user:secret@host:6379", "user:***@host:6379"),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(RedactedUrl(url).to_string(), shown, "{url}");
            assert_eq!(format!("{:?}", RedactedUrl(url)), format!("{shown:?}"));
        }
    }

    #[test]
    fn urls_inside_text_are_masked() {
        let text =
            "line 1: REDIS_URL = \"redis://u:secret@h:1/0\" and `mysql://root:pw@db/x`, not://here";
        assert_eq!(
            redact_urls_in(text),
            "line 1: REDIS_URL = \"redis://u:***@h:1/0\" and `mysql://root:***@db/x`, not://here"
        );
        assert!(matches!(redact_urls_in("no url"), Cow::Borrowed(_)));
    }
}
