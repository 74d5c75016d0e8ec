//! The forwarded-for headers: `X-Forwarded-For` and RFC 7239 `Forwarded`,
//! parsed into the hops they list.
//!
//! The parse is strict: a header that a trusted proxy passes on was partly
//! written by the client, and a client that can break its syntax (an
//! unterminated quote that swallows the element the proxy appended, a
//! second `for=` in one element) could otherwise choose the address that is
//! read. A header that does not parse is [`Malformed`], and not believed at
//! all.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ::http::header::{FORWARDED, HeaderName};
use ::http::{HeaderMap, HeaderValue};

/// Which header a trusted proxy's client address is read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default, as the original).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name.
    pub(super) fn name(self) -> HeaderName {
        match self {
            ForwardedHeader::XForwardedFor => X_FORWARDED_FOR,
            ForwardedHeader::Forwarded => FORWARDED,
        }
    }

    /// The hops the header lists, left to right, over all its lines.
    pub(super) fn hops(self, headers: &HeaderMap) -> Result<Vec<Hop>, Malformed> {
        let mut hops = Vec::new();
        for value in headers.get_all(self.name()) {
            match self {
                ForwardedHeader::XForwardedFor => x_forwarded_for(value, &mut hops)?,
                ForwardedHeader::Forwarded => forwarded(value, &mut hops)?,
            }
        }
        Ok(hops)
    }
}

/// `X-Forwarded-For`.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// One hop of a forwarded-for list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hop {
    /// A node given by its address.
    Addr(IpAddr),
    /// A node the proxy did not name: `unknown`, an obfuscated identifier
    /// (`_hidden`), or a `Forwarded` element without `for=`.
    Unnamed,
}

/// Why a forwarded-for header was not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Malformed(&'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The comma-separated nodes of one `X-Forwarded-For` line. Empty entries
/// are skipped, as in any HTTP list.
fn x_forwarded_for(value: &HeaderValue, hops: &mut Vec<Hop>) -> Result<(), Malformed> {
    let value = value
        .to_str()
        .map_err(|_| Malformed("a character that is not visible ASCII"))?;
    for entry in value
        .split(',')
        .map(|entry| entry.trim_matches([' ', '\t']))
    {
        if !entry.is_empty() {
            hops.push(node(entry).ok_or(Malformed("an entry that is not an IP address"))?);
        }
    }
    Ok(())
}

/// The `for=` of each element of one `Forwarded` line (RFC 7239 section 4):
/// `for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8::1]:4711"`.
/// Whitespace is allowed around `,` and `;`, and an unquoted value may hold
/// the `:`, `[` and `]` of an address; anything else off the grammar is
/// malformed, as is a parameter given twice in one element.
fn forwarded(value: &HeaderValue, hops: &mut Vec<Hop>) -> Result<(), Malformed> {
    let mut input = Cursor(value.as_bytes());
    loop {
        // One element: `pair *( ";" pair )`, where a pair may be empty.
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut hop = None;
        loop {
            input.skip_whitespace();
            if !matches!(input.peek(), None | Some(b',' | b';')) {
                let name = input
                    .token()
                    .ok_or(Malformed("a parameter without a name"))?;
                let name = name.to_ascii_lowercase();
                if !input.eat(b'=') {
                    return Err(Malformed("a parameter without `=`"));
                }
                let value = input.value()?;
                if seen.contains(&name) {
                    return Err(Malformed("a parameter given twice in one element"));
                }
                if name == b"for" {
                    let node = std::str::from_utf8(&value)
                        .ok()
                        .and_then(node)
                        .ok_or(Malformed("a `for=` that is not a node"))?;
                    hop = Some(node);
                }
                seen.push(name);
                input.skip_whitespace();
            }
            if !input.eat(b';') {
                break;
            }
        }
        if !seen.is_empty() {
            hops.push(hop.unwrap_or(Hop::Unnamed));
        }
        match input.peek() {
            None => return Ok(()),
            Some(b',') => input.0 = &input.0[1..],
            Some(_) => return Err(Malformed("text after a value")),
        }
    }
}

/// A `Forwarded` header value, read from the left.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.0 = &self.0[1..];
        }
        found
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.0 = &self.0[1..];
        }
    }

    /// `1*tchar` (RFC 9110 section 5.6.2), with `extra` bytes allowed too.
    fn take_while(&mut self, extra: &[u8]) -> Option<&[u8]> {
        let len = self
            .0
            .iter()
            .take_while(|b| is_tchar(**b) || extra.contains(b))
            .count();
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        (len > 0).then_some(taken)
    }

    fn token(&mut self) -> Option<Vec<u8>> {
        self.take_while(&[]).map(<[u8]>::to_vec)
    }

    /// A token (which may hold an address's `:`, `[` and `]`, as some
    /// proxies write them unquoted) or a quoted string, unquoted.
    fn value(&mut self) -> Result<Vec<u8>, Malformed> {
        if !self.eat(b'"') {
            return self
                .take_while(b":[]")
                .map(<[u8]>::to_vec)
                .ok_or(Malformed("a parameter without a value"));
        }
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(Malformed("an unterminated quoted string")),
                Some(b'"') => {
                    self.0 = &self.0[1..];
                    return Ok(value);
                }
                Some(b'\\') => {
                    let escaped = *self
                        .0
                        .get(1)
                        .ok_or(Malformed("an unterminated quoted string"))?;
                    value.push(escaped);
                    self.0 = &self.0[2..];
                }
                Some(byte) => {
                    value.push(byte);
                    self.0 = &self.0[1..];
                }
            }
        }
    }
}

/// A `tchar` of an HTTP token.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// A node as proxies write it (RFC 7239 section 6): `192.0.2.1`,
/// `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`, `unknown`, an
/// obfuscated `_name`, each with an optional port or obfuscated `_port`;
/// and, as `X-Forwarded-For` writes it, a bare `2001:db8::1`. `None` for
/// anything else.
fn node(node: &str) -> Option<Hop> {
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Some(Hop::Addr(addr));
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(Hop::Addr(addr.ip()));
    }
    if let Some(bracketed) = node.strip_prefix('[') {
        let (addr, after) = bracketed.split_once(']')?;
        if !after.is_empty() && !after.strip_prefix(':').is_some_and(is_port) {
            return None;
        }
        return addr.parse().ok().map(Hop::Addr);
    }
    let (name, port) = node
        .split_once(':')
        .map_or((node, None), |(name, port)| (name, Some(port)));
    if !port.is_none_or(is_port) {
        return None;
    }
    if let Ok(addr) = name.parse::<IpAddr>() {
        return Some(Hop::Addr(addr));
    }
    (name.eq_ignore_ascii_case("unknown") || is_obfuscated(name)).then_some(Hop::Unnamed)
}

/// `1*5DIGIT` or an obfuscated `_port`.
fn is_port(port: &str) -> bool {
    (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit()) || is_obfuscated(port)
}

/// `"_" 1*( ALPHA / DIGIT / "." / "_" / "-" )`.
fn is_obfuscated(name: &str) -> bool {
    name.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hops(header: ForwardedHeader, lines: &[&str]) -> Result<Vec<Hop>, Malformed> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header.name(), HeaderValue::from_str(line).unwrap());
        }
        header.hops(&headers)
    }

    fn addr(text: &str) -> Hop {
        Hop::Addr(text.parse().unwrap())
    }

    #[test]
    fn forwarded_elements_and_their_for() {
        let parse = |line| hops(ForwardedHeader::Forwarded, &[line]);
        assert_eq!(
            parse("for=192.0.2.60;proto=http;by=203.0.113.43"),
            Ok(vec![addr("192.0.2.60")])
        );
        assert_eq!(
            parse(r#"For="[2001:db8:cafe::17]:4711", for=192.0.2.43:80"#),
            Ok(vec![addr("2001:db8:cafe::17"), addr("192.0.2.43")])
        );
        assert_eq!(
            parse(r#"for=unknown, for="_gazonk", for=_x:_y, proto=https;host=a"#),
            Ok(vec![Hop::Unnamed, Hop::Unnamed, Hop::Unnamed, Hop::Unnamed])
        );
        // Quoted commas, semicolons and escaped quotes stay in their value.
        assert_eq!(
            parse(r#"host="a,b;c=\"d\"";for=198.51.100.1 ; by=x , ,for=10.0.0.1"#),
            Ok(vec![addr("198.51.100.1"), addr("10.0.0.1")])
        );
        // Lenient about the address characters proxies leave unquoted.
        assert_eq!(
            parse("for=[2001:db8::1]:8080"),
            Ok(vec![addr("2001:db8::1")])
        );
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse(" , ;"), Ok(vec![]));
    }

    #[test]
    fn malformed_forwarded_lines() {
        for line in [
            r#"for=6.6.6.6;by="x, for=9.9.9.9"#,
            r#"for="6.6.6.6\"#,
            "for=6.6.6.6;FOR=7.7.7.7",
            "for=6.6.6.6;by=a;by=b",
            "for",
            "for=",
            "=1.2.3.4",
            "for=1.2.3.4 x",
            r#"for="1.2.3.4"x"#,
            "for = 1.2.3.4",
            "for=1.2.3.4/8",
            "for=host.example",
            "for=_",
            "for=1.2.3.4:123456",
            "for=1.2.3.4:",
            r#"for="[1.2.3.4""#,
            r#"for="[2001:db8::1]x""#,
        ] {
            assert!(hops(ForwardedHeader::Forwarded, &[line]).is_err(), "{line}");
        }
        // One bad line spoils the header.
        assert!(hops(ForwardedHeader::Forwarded, &["for=1.2.3.4", "for=\"x"]).is_err());
    }

    #[test]
    fn x_forwarded_for_entries() {
        let parse = |lines: &[&str]| hops(ForwardedHeader::XForwardedFor, lines);
        assert_eq!(
            parse(&["203.0.113.9, 2001:db8::7,[2001:db8::8]:80", "10.0.0.1:4711"]),
            Ok(vec![
                addr("203.0.113.9"),
                addr("2001:db8::7"),
                addr("2001:db8::8"),
                addr("10.0.0.1"),
            ])
        );
        assert_eq!(
            parse(&[" unknown ,, 10.0.0.1 "]),
            Ok(vec![Hop::Unnamed, addr("10.0.0.1")])
        );
        for line in [
            "not-an-ip",
            "1.2.3.4 5.6.7.8",
            "\"1.2.3.4\"",
            "1.2.3.4;proto=http",
            "1.2.3.4:http",
            "fe80::1%eth0",
        ] {
            assert!(parse(&[line]).is_err(), "{line}");
        }
        let mut headers = HeaderMap::new();
        headers.append(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"1.2.3.4, \xff").unwrap(),
        );
        assert!(ForwardedHeader::XForwardedFor.hops(&headers).is_err());
    }
}
