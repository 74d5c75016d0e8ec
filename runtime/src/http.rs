//! The `http` entry point: a tower [`Layer`] that opens an audit scope for
//! each request, so every change logged while the request is handled says
//! who made it. It serves axum, tonic, hyper and any other tower service.
//!
//! ```
//! use awesome_audit_log::AuditConfig;
//! use awesome_audit_log::http::AuditLayer;
//! # #[cfg(feature = "axum")]
//! use axum::{Router, routing::post};
//!
//! # #[cfg(feature = "axum")]
//! # fn build() -> Router {
//! let config = AuditConfig::default(); // usually `auditor.config()`
//! let app: Router = Router::new()
//!     .route("/widgets", post(|| async { "created" }))
//!     // `Router::layer`, so the layer sees the matched route (`/widgets/{id}`).
//!     .layer(AuditLayer::new(&config));
//! // Serve with the peer address, so the client IP is known:
//! // axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! # app
//! # }
//! ```
//!
//! # What a request records
//! | column | value |
//! |---|---|
//! | `entry_point` | `http` |
//! | `path` | the path with its query string (`/widgets/7?dry_run=1`); with axum, the URI before any `nest` stripped it |
//! | `route` | the route template the router matched (`/widgets/{id}`), with the `axum` feature; NULL otherwise or when no route matched |
//! | `method` | the HTTP method (cut to the column's 10 characters) |
//! | `ip` | the client IP, see below |
//! | `user_id`, `user_name` | the user, see below |
//! | `user_agent` | the `User-Agent` header |
//!
//! # Client IP and trusted proxies
//! The client IP is the socket peer: axum's `ConnectInfo<SocketAddr>`
//! (serve with `into_make_service_with_connect_info::<SocketAddr>()`), or a
//! `SocketAddr` or `IpAddr` that the server put into the request's
//! extensions. Without one, `ip` is NULL.
//!
//! `X-Forwarded-For` (or, with [`ForwardedHeader::Forwarded`], the RFC 7239
//! `Forwarded` header) is believed only when the peer is one of the
//! configured `TRUSTED_PROXIES`; from anyone else it is ignored, since a
//! client can send any header it likes (the original believes it from
//! anyone). From a trusted peer, the list is read from the right, skipping
//! trusted proxies: the first address that is not a trusted proxy is the
//! client. An address a client put at the left of the list to forge its IP
//! is thus never reached. When every hop is a trusted proxy, the leftmost is
//! the client; when the walk meets an entry that is not an IP address
//! (`unknown`, an obfuscated name), the last trusted hop is recorded.
//!
//! Only the header your proxies write is read: a proxy that appends to
//! `X-Forwarded-For` passes a client's own `Forwarded` header through
//! untouched, and the other way round.
//!
//! # The user
//! Three ways, use whichever fits where your authentication runs:
//! - **Request extension**: authentication that runs *before* this layer
//!   (with axum: a layer added *after* this one, so it wraps it) inserts an
//!   [`AuditUser`] into the request's extensions.
//! - **Extractor function**: [`AuditLayer::user_from`] is given a function
//!   that finds the user in the request (a header, a cookie, a token's
//!   claims). It is called once per request, before the inner service.
//! - **From inside**: authentication that runs *inside* this layer (an inner
//!   middleware or the handler) calls [`context::set_user`]; rows logged
//!   after that carry the user.
//!
//! `CAPTURE_HTTP = false` (or `ENABLED = false`) makes the layer pass
//! requests through untouched.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::header::{FORWARDED, HeaderName, USER_AGENT};
use ::http::request::Parts;
use ::http::{Extensions, HeaderMap, Request};
use tower_layer::Layer;
use tower_service::Service;

use crate::AuditConfig;
use crate::config::TrustedProxies;
use crate::context::{self, AuditContext, AuditUser, EntryPoint, Scope};

/// `X-Forwarded-For`.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The `method` column is `VARCHAR(10)` on PostgreSQL and MySQL.
const METHOD_MAX_LEN: usize = 10;

type UserFn = dyn Fn(&Parts) -> Option<AuditUser> + Send + Sync;

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

/// A tower layer that runs each request inside an audit scope with entry
/// point `http`; see the [module docs](self).
#[derive(Clone)]
pub struct AuditLayer {
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    enabled: bool,
    trusted: TrustedProxies,
    header: ForwardedHeader,
    user: Option<Arc<UserFn>>,
}

impl AuditLayer {
    /// A layer following `config`: off unless ENABLED and CAPTURE_HTTP,
    /// trusting the proxies in TRUSTED_PROXIES.
    pub fn new(config: &AuditConfig) -> Self {
        AuditLayer {
            shared: Arc::new(Shared {
                enabled: config.captures(EntryPoint::Http),
                trusted: config.trusted_proxies.clone(),
                header: ForwardedHeader::default(),
                user: None,
            }),
        }
    }

    /// Finds the acting user with `user` instead of the [`AuditUser`]
    /// request extension (which is still used when `user` returns `None`).
    ///
    /// ```
    /// use awesome_audit_log::AuditConfig;
    /// use awesome_audit_log::context::AuditUser;
    /// use awesome_audit_log::http::AuditLayer;
    ///
    /// // Say the gateway in front has authenticated the user and says who it is.
    /// let layer = AuditLayer::new(&AuditConfig::default()).user_from(|request| {
    ///     let name = request.headers.get("x-authenticated-user")?.to_str().ok()?;
    ///     Some(AuditUser::named(name))
    /// });
    /// # let _ = layer;
    /// ```
    pub fn user_from<F>(self, user: F) -> Self
    where
        F: Fn(&Parts) -> Option<AuditUser> + Send + Sync + 'static,
    {
        self.with_shared(|shared| shared.user = Some(Arc::new(user)))
    }

    /// Reads a trusted proxy's client address from `header` (default:
    /// `X-Forwarded-For`).
    pub fn forwarded_header(self, header: ForwardedHeader) -> Self {
        self.with_shared(|shared| shared.header = header)
    }

    /// Replaces the trusted proxies taken from the configuration.
    pub fn trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.with_shared(|shared| shared.trusted = proxies)
    }

    /// Whether the layer records anything (ENABLED and CAPTURE_HTTP).
    pub fn is_enabled(&self) -> bool {
        self.shared.enabled
    }

    /// The audit context the layer records for a request, without running
    /// it. For servers that open their scope themselves, and for tests.
    ///
    /// ```
    /// use awesome_audit_log::AuditConfig;
    /// use awesome_audit_log::http::AuditLayer;
    ///
    /// let mut config = AuditConfig::default();
    /// config.trusted_proxies = "10.0.0.0/8".parse().unwrap();
    /// let layer = AuditLayer::new(&config);
    ///
    /// let request = http::Request::post("/widgets?dry_run=1")
    ///     .header("x-forwarded-for", "203.0.113.9, 10.0.0.7")
    ///     .header("user-agent", "curl/8.5.0")
    ///     .extension(std::net::SocketAddr::from(([10, 0, 0, 2], 51234)))
    ///     .body(())
    ///     .unwrap();
    /// let (parts, _) = request.into_parts();
    /// let ctx = layer.context_of(&parts);
    /// assert_eq!(ctx.entry_point.as_str(), "http");
    /// assert_eq!(ctx.path.as_deref(), Some("/widgets?dry_run=1"));
    /// assert_eq!(ctx.method.as_deref(), Some("POST"));
    /// assert_eq!(ctx.ip.as_deref(), Some("203.0.113.9"));
    /// assert_eq!(ctx.user_agent.as_deref(), Some("curl/8.5.0"));
    /// ```
    pub fn context_of(&self, request: &Parts) -> AuditContext {
        self.shared.context_of(request)
    }

    fn with_shared(mut self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Shared::clone(&self.shared);
        change(&mut shared);
        self.shared = Arc::new(shared);
        self
    }
}

impl fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLayer")
            .field("enabled", &self.shared.enabled)
            .field("trusted_proxies", &self.shared.trusted)
            .field("forwarded_header", &self.shared.header)
            .field("user_from", &self.shared.user.is_some())
            .finish()
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`AuditLayer`] wraps around another.
#[derive(Clone)]
pub struct AuditService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for AuditService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditService")
            .field("inner", &self.inner)
            .field("enabled", &self.shared.enabled)
            .finish()
    }
}

impl<S, B> Service<Request<B>> for AuditService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Scope<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !self.shared.enabled {
            return Scope::plain(self.inner.call(request));
        }
        let (parts, body) = request.into_parts();
        let ctx = self.shared.context_of(&parts);
        let request = Request::from_parts(parts, body);
        let inner = &mut self.inner;
        // The inner `call` runs in the scope too: some services do their
        // work (or set the user) there rather than in the future.
        context::scope_call(ctx, move || inner.call(request))
    }
}

impl Shared {
    fn context_of(&self, parts: &Parts) -> AuditContext {
        let method = parts.method.as_str();
        let user = self
            .user
            .as_ref()
            .and_then(|user| user(parts))
            .or_else(|| parts.extensions.get::<AuditUser>().cloned())
            .unwrap_or_default();
        AuditContext {
            entry_point: EntryPoint::Http,
            route: route(&parts.extensions),
            path: Some(path(parts)),
            method: Some(method.get(..METHOD_MAX_LEN).unwrap_or(method).to_owned()),
            ip: self.client_ip(parts).map(|ip| ip.to_string()),
            user_id: user.id,
            user_name: user.name,
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .map(|agent| String::from_utf8_lossy(agent.as_bytes()).into_owned()),
        }
    }

    /// The socket peer, or the client a trusted proxy names.
    fn client_ip(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = peer_addr(&parts.extensions)?.to_canonical();
        if !self.trusted.contains(peer) {
            return Some(peer);
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(&parts.headers),
            ForwardedHeader::Forwarded => forwarded_for(&parts.headers),
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(hop) = hop else { break };
            client = hop.to_canonical();
            if !self.trusted.contains(client) {
                break;
            }
        }
        Some(client)
    }
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

fn path(parts: &Parts) -> String {
    #[cfg(feature = "axum")]
    let uri = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    #[cfg(not(feature = "axum"))]
    let uri = &parts.uri;
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

#[cfg_attr(not(feature = "axum"), allow(unused_variables))]
fn route(extensions: &Extensions) -> Option<String> {
    #[cfg(feature = "axum")]
    if let Some(matched) = extensions.get::<axum::extract::MatchedPath>() {
        return Some(matched.as_str().to_owned());
    }
    None
}

/// The hops of every `X-Forwarded-For` header, left to right; `None` for an
/// entry that is not an IP address.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(X_FORWARDED_FOR) {
        hops.extend(
            String::from_utf8_lossy(value.as_bytes())
                .split(',')
                .map(parse_node),
        );
    }
    hops
}

/// The `for=` of each element of every `Forwarded` header, left to right;
/// `None` for an element without a usable address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(FORWARDED) {
        let value = String::from_utf8_lossy(value.as_bytes());
        for element in split_unquoted(&value, ',') {
            let node = split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then_some(value)
            });
            hops.push(node.and_then(parse_node));
        }
    }
    hops
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`, possibly quoted.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"').trim();
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            node.strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })
}

/// Splits at `separator` outside double quotes.
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn user_from_function_or_extension() {
        let base = layer("");
        let mut request = Request::get("/").body(()).unwrap();
        request.extensions_mut().insert(AuditUser::new(1, "ext"));
        request
            .headers_mut()
            .insert("x-user", "fn".parse().unwrap());
        let (parts, ()) = request.into_parts();
        assert_eq!(base.context_of(&parts).user_name.as_deref(), Some("ext"));

        let by_fn = base.clone().user_from(|parts| {
            let name = parts.headers.get("x-user")?.to_str().ok()?;
            Some(AuditUser::named(name))
        });
        let ctx = by_fn.context_of(&parts);
        assert_eq!((ctx.user_id, ctx.user_name.as_deref()), (None, Some("fn")));

        let none = base.user_from(|_| None);
        assert_eq!(none.context_of(&parts).user_id, Some(1));
    }

    #[test]
    fn long_methods_fit_the_column() {
        let request = Request::builder()
            .method("VERYLONGMETHODNAME")
            .uri("/a?b=c")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let ctx = layer("").context_of(&parts);
        assert_eq!(ctx.method.as_deref(), Some("VERYLONGME"));
        assert_eq!(ctx.path.as_deref(), Some("/a?b=c"));
        assert_eq!(ctx.route, None);
        assert_eq!(ctx.ip, None);
    }

    #[test]
    fn disabled_by_configuration() {
        let mut config = AuditConfig::default();
        assert!(AuditLayer::new(&config).is_enabled());
        config.capture_http = false;
        assert!(!AuditLayer::new(&config).is_enabled());
        config.capture_http = true;
        config.enabled = false;
        assert!(!AuditLayer::new(&config).is_enabled());
    }
}
