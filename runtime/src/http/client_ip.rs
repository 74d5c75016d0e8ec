//! The client IP: the socket peer, or the client that a trusted proxy
//! names in its forwarded-for header.

use std::net::{IpAddr, SocketAddr};

use ::http::Extensions;
use ::http::request::Parts;

use super::ForwardedHeader;
use super::forwarded::Hop;
use crate::config::TrustedProxies;

/// The socket peer, or the client a trusted proxy names. A header that does
/// not parse is not believed at all: part of it was written by the client,
/// who could otherwise hide the proxy's own entry behind broken syntax.
pub(super) fn client_ip(
    parts: &Parts,
    trusted: &TrustedProxies,
    header: ForwardedHeader,
) -> Option<IpAddr> {
    let peer = peer(parts)?;
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let hops = match header.hops(&parts.headers) {
        Ok(hops) => hops,
        Err(malformed) => {
            tracing::debug!(
                %peer,
                header = %header.name(),
                "malformed forwarded-for header from a trusted proxy ({malformed}); the client IP is the proxy's own address"
            );
            return Some(peer);
        }
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Hop::Addr(hop) = hop else { break };
        client = hop.to_canonical();
        if !trusted.contains(client) {
            break;
        }
    }
    Some(client)
}

/// Whether the request came from a trusted proxy: its socket peer is one
/// of `trusted`. The one trust decision for every header a proxy passes on
/// (the forwarded-for headers, `X-Request-Id`): a request without a known
/// peer is not trusted.
pub(super) fn from_trusted_proxy(parts: &Parts, trusted: &TrustedProxies) -> bool {
    peer(parts).is_some_and(|peer| trusted.contains(peer))
}

/// The socket peer, an IPv4 address on a dual-stack socket as IPv4.
fn peer(parts: &Parts) -> Option<IpAddr> {
    peer_addr(&parts.extensions).map(|peer| peer.to_canonical())
}

fn peer_addr(extensions: &Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    extensions
        .get::<SocketAddr>()
        .map(SocketAddr::ip)
        .or_else(|| extensions.get::<IpAddr>().copied())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use ::http::Request;
    use ::http::header::HeaderName;

    use crate::AuditConfig;
    use crate::http::{AuditLayer, ForwardedHeader};

    fn layer(trusted: &str) -> AuditLayer {
        AuditLayer::new(&AuditConfig {
            trusted_proxies: trusted.parse().unwrap(),
            ..AuditConfig::default()
        })
    }

    fn ip_of(layer: &AuditLayer, peer: &str, headers: &[(&str, &str)]) -> Option<String> {
        let mut request = Request::get("/").body(()).unwrap();
        if !peer.is_empty() {
            let peer: IpAddr = peer.parse().unwrap();
            request
                .extensions_mut()
                .insert(SocketAddr::new(peer, 40000));
        }
        for (name, value) in headers {
            request.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let (parts, ()) = request.into_parts();
        layer.context_of(&parts).ip
    }

    #[test]
    fn untrusted_peers_cannot_forge() {
        let layer = layer("");
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(
            ip_of(&layer, "198.51.100.4", &xff).as_deref(),
            Some("198.51.100.4")
        );
        let fwd = [("forwarded", "for=203.0.113.9")];
        let layer = layer.forwarded_header(ForwardedHeader::Forwarded);
        assert_eq!(
            ip_of(&layer, "198.51.100.4", &fwd).as_deref(),
            Some("198.51.100.4")
        );
        assert_eq!(ip_of(&layer, "", &fwd), None, "no peer, no ip");
    }

    #[test]
    fn trusted_chain_is_read_from_the_right() {
        let layer = layer("10.0.0.0/8, 127.0.0.1");
        let ip = |peer, xff| ip_of(&layer, peer, &[("x-forwarded-for", xff)]);
        // Forged left part is never reached.
        assert_eq!(
            ip("10.0.0.1", "6.6.6.6, 203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
        // Trusted hops are skipped.
        assert_eq!(
            ip("10.0.0.1", "203.0.113.9, 10.0.0.5, 127.0.0.1").as_deref(),
            Some("203.0.113.9")
        );
        // All trusted: the leftmost.
        assert_eq!(
            ip("10.0.0.1", "10.0.0.9, 10.0.0.5").as_deref(),
            Some("10.0.0.9")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            ip("10.0.0.1", "203.0.113.9, unknown, 10.0.0.5").as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(ip("10.0.0.1", "nonsense").as_deref(), Some("10.0.0.1"));
        // Ports, brackets and IPv6.
        assert_eq!(
            ip("10.0.0.1", "203.0.113.9:4711").as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            ip("10.0.0.1", "[2001:db8::7]:80").as_deref(),
            Some("2001:db8::7")
        );
        assert_eq!(
            ip("10.0.0.1", "2001:db8::7").as_deref(),
            Some("2001:db8::7")
        );
        // An IPv4 peer on a dual-stack socket is trusted and recorded as IPv4.
        assert_eq!(
            ip("::ffff:10.0.0.1", "203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            ip_of(&layer, "::ffff:198.51.100.4", &[]).as_deref(),
            Some("198.51.100.4")
        );
        // No header: the peer.
        assert_eq!(ip_of(&layer, "10.0.0.1", &[]).as_deref(), Some("10.0.0.1"));
        // Several header lines form one list.
        let two = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(
            ip_of(&layer, "10.0.0.1", &two).as_deref(),
            Some("203.0.113.9")
        );
        // The other header is not read.
        let fwd = [("forwarded", "for=203.0.113.9")];
        assert_eq!(ip_of(&layer, "10.0.0.1", &fwd).as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn forwarded_header() {
        let layer = layer("10.0.0.0/8").forwarded_header(ForwardedHeader::Forwarded);
        let ip = |value| ip_of(&layer, "10.0.0.1", &[("forwarded", value)]);
        assert_eq!(
            ip("for=192.0.2.60;proto=http;by=203.0.113.43").as_deref(),
            Some("192.0.2.60")
        );
        assert_eq!(
            ip(r#"for="[2001:db8:cafe::17]:4711""#).as_deref(),
            Some("2001:db8:cafe::17")
        );
        assert_eq!(
            ip("for=6.6.6.6, For=198.51.100.17;proto=https, for=10.0.0.3").as_deref(),
            Some("198.51.100.17")
        );
        assert_eq!(
            ip(r#"for=198.51.100.17;host="a,b", for=10.0.0.3"#).as_deref(),
            Some("198.51.100.17")
        );
        assert_eq!(ip("for=_hidden, for=10.0.0.3").as_deref(), Some("10.0.0.3"));
        assert_eq!(ip("proto=https").as_deref(), Some("10.0.0.1"));
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(ip_of(&layer, "10.0.0.1", &xff).as_deref(), Some("10.0.0.1"));
    }

    /// A header a trusted proxy passes on is partly written by the client;
    /// when it does not parse, no part of it is believed: the peer is the
    /// client IP.
    #[test]
    fn malformed_headers_from_trusted_proxies_give_the_peer() {
        let forwarded = layer("10.0.0.0/8").forwarded_header(ForwardedHeader::Forwarded);
        let ip = |value| ip_of(&forwarded, "10.0.0.1", &[("forwarded", value)]);
        for forged in [
            // An unterminated quote swallows the proxy's own element.
            r#"for=6.6.6.6;by="x, for=9.9.9.9"#,
            r#"for="6.6.6.6, for=9.9.9.9"#,
            // Two `for` in one element, a missing `=`, stray text.
            "for=6.6.6.6;for=7.7.7.7, for=10.0.0.3",
            "for=6.6.6.6;by, for=10.0.0.3",
            "for=6.6.6.6 for=7.7.7.7, for=10.0.0.3",
            r#"for="6.6.6.6"x, for=10.0.0.3"#,
            "=6.6.6.6, for=10.0.0.3",
            // A node that is neither an address, `unknown` nor `_obfuscated`.
            "for=6.6.6.6, for=evil.example, for=10.0.0.3",
            "for=6.6.6.6:99999999, for=10.0.0.3",
            r#"for="[6.6.6.6", for=10.0.0.3"#,
        ] {
            assert_eq!(ip(forged).as_deref(), Some("10.0.0.1"), "{forged}");
        }
        // One malformed line spoils the header, whichever line it is on.
        let lines = [
            ("forwarded", r#"for=6.6.6.6;by="x"#),
            ("forwarded", "for=198.51.100.17"),
        ];
        assert_eq!(
            ip_of(&forwarded, "10.0.0.1", &lines).as_deref(),
            Some("10.0.0.1")
        );
        // Well-formed odd cases are still read.
        assert_eq!(
            ip(r#"for=198.51.100.17;by="\"a,b\"", for=10.0.0.3"#).as_deref(),
            Some("198.51.100.17")
        );
        assert_eq!(
            ip("for=198.51.100.17 ,, for=10.0.0.3").as_deref(),
            Some("198.51.100.17")
        );
        assert_eq!(
            ip(r#"for="_gazonk:_p", for=10.0.0.3"#).as_deref(),
            Some("10.0.0.3")
        );
        assert_eq!(ip("for=unknown, for=10.0.0.3").as_deref(), Some("10.0.0.3"));

        let xff = layer("10.0.0.0/8");
        let ip = |value| ip_of(&xff, "10.0.0.1", &[("x-forwarded-for", value)]);
        for forged in [
            "198.51.100.66, not-an-ip, 10.0.0.5",
            "198.51.100.66, 10.0.0.5 10.0.0.6",
            "\"198.51.100.66\"",
            "198.51.100.66, 10.0.0.5:http",
        ] {
            assert_eq!(ip(forged).as_deref(), Some("10.0.0.1"), "{forged}");
        }
        assert_eq!(
            ip("203.0.113.9, unknown, 10.0.0.5").as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(ip(" 203.0.113.9 ,, ").as_deref(), Some("203.0.113.9"));
    }
}
