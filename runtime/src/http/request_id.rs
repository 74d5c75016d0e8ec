//! The request id a trusted proxy sends in `X-Request-Id`: the correlation
//! id of the rows a request logs, so that they can be found by the id the
//! proxy (and its access log, and the services behind it) knows the
//! request by.

use ::http::HeaderName;
use ::http::request::Parts;

use super::client_ip::from_trusted_proxy;
use crate::config::TrustedProxies;

/// `X-Request-Id`.
pub(super) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's `X-Request-Id`, when a trusted proxy sent the request
/// (from anyone else it is ignored: a client could otherwise put its rows
/// under another request's id) and the header is one plausible id: a
/// single header line of printable ASCII (spaces allowed inside), not
/// blank. Otherwise `None`, and the scope takes a new id. A long id is
/// kept whole here and cut to fit its column when rows are written, like
/// every context value.
pub(super) fn request_id(parts: &Parts, trusted: &TrustedProxies) -> Option<String> {
    let mut values = parts.headers.get_all(X_REQUEST_ID).iter();
    let value = values.next()?;
    if !from_trusted_proxy(parts, trusted) {
        return None;
    }
    let plausible = values.next().is_none()
        && value
            .as_bytes()
            .iter()
            .all(|byte| byte.is_ascii_graphic() || *byte == b' ')
        && value.as_bytes().iter().any(u8::is_ascii_graphic);
    if !plausible {
        tracing::debug!(
            header = %X_REQUEST_ID,
            "request id from a trusted proxy is not one printable ASCII value; a new correlation id is used"
        );
        return None;
    }
    value.to_str().ok().map(|id| id.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use ::http::{HeaderValue, Request};

    use super::*;

    fn id_of(trusted: &str, peer: Option<&str>, values: &[&[u8]]) -> Option<String> {
        let mut request = Request::get("/").body(()).unwrap();
        if let Some(peer) = peer {
            let peer: IpAddr = peer.parse().unwrap();
            request
                .extensions_mut()
                .insert(SocketAddr::new(peer, 40000));
        }
        for value in values {
            request
                .headers_mut()
                .append(X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        let (parts, ()) = request.into_parts();
        request_id(&parts, &trusted.parse().unwrap())
    }

    #[test]
    fn taken_only_from_trusted_proxies() {
        let id: &[&[u8]] = &[b"7f3a9c2e-req"];
        assert_eq!(
            id_of("10.0.0.0/8", Some("10.0.0.2"), id).as_deref(),
            Some("7f3a9c2e-req")
        );
        assert_eq!(
            id_of("10.0.0.0/8", Some("::ffff:10.0.0.2"), id).as_deref(),
            Some("7f3a9c2e-req"),
            "an IPv4 proxy on a dual-stack socket"
        );
        assert_eq!(id_of("10.0.0.0/8", Some("198.51.100.4"), id), None);
        assert_eq!(id_of("", Some("10.0.0.2"), id), None);
        assert_eq!(id_of("10.0.0.0/8", None, id), None, "no peer, no trust");
        assert_eq!(id_of("10.0.0.0/8", Some("10.0.0.2"), &[]), None);
    }

    #[test]
    fn only_plausible_ids_are_taken() {
        let from_proxy = |values: &[&[u8]]| id_of("10.0.0.0/8", Some("10.0.0.2"), values);
        for bad in [&b""[..], b"   ", b"a\tb", b"caf\xc3\xa9", b"id\xff"] {
            assert_eq!(from_proxy(&[bad]), None, "{bad:?}");
        }
        assert_eq!(from_proxy(&[b"a", b"b"]), None, "two ids, none believed");
        assert_eq!(
            from_proxy(&[b" trace 42/x=y "]).as_deref(),
            Some("trace 42/x=y")
        );
        // Long ids are kept whole: rows cut them to fit their column.
        let long = "r".repeat(200);
        assert_eq!(from_proxy(&[long.as_bytes()]), Some(long));
    }
}
