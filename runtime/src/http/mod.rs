//! The `http` entry point: a tower [`Layer`](tower_layer::Layer) that opens
//! an audit scope for each request, so every change logged while the request
//! is handled says who made it. It serves axum, tonic, hyper and any other
//! tower service.
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
//! | `method` | the HTTP method (an extension method longer than the column's 10 characters is cut to fit, ending in `…`, like every context value) |
//! | `ip` | the client IP, see below |
//! | `user_id`, `user_name` | the user, see below |
//! | `user_agent` | the `User-Agent` header |
//! | `correlation_id` | the `X-Request-Id` header from a trusted proxy, see below; else a new UUID v7 (or, inside another audit scope, that scope's id) |
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
//! the client; when the walk meets a node the proxy did not name (`unknown`,
//! an obfuscated `_name`, a `Forwarded` element without `for=`), the last
//! trusted hop is recorded.
//!
//! The header a trusted proxy passes on was partly written by the client,
//! so it is parsed strictly, and a header that does not parse is not
//! believed at all: the client IP is then the peer, the proxy itself, and a
//! `tracing` debug event says why. Malformed are an unterminated quoted
//! string (which would swallow the element the proxy appended), a parameter
//! given twice in one `Forwarded` element, text off RFC 7239's grammar, and
//! an entry of either header that is neither an IP address (with an
//! optional port; IPv6 in brackets or, in `X-Forwarded-For`, bare) nor
//! `unknown` nor an obfuscated `_name`.
//!
//! Only the header your proxies write is read: a proxy that appends to
//! `X-Forwarded-For` passes a client's own `Forwarded` header through
//! untouched, and the other way round.
//!
//! # Correlation id
//! Every row a request logs has the same `correlation_id`. When the peer
//! is a trusted proxy (the same decision as for the forwarded-for
//! headers) and the request has exactly one `X-Request-Id` header of
//! printable ASCII, that is the id, so the rows can be found by the id the
//! proxy's access log shows; a longer id than the column holds (64
//! characters on PostgreSQL and MySQL) is cut to fit, ending in `…`, like
//! every context value. From anyone else the header is ignored (a client
//! could file its changes under another request's id), and the request
//! gets a new UUID v7.
//!
//! # The user
//! Three ways, use whichever fits where your authentication runs:
//! - **Request extension**: authentication that runs *before* this layer
//!   (with axum: a layer added *after* this one, so it wraps it) inserts an
//!   [`AuditUser`](crate::context::AuditUser) into the request's extensions.
//! - **Extractor function**: [`AuditLayer::user_from`] is given a function
//!   that finds the user in the request (a header, a cookie, a token's
//!   claims). It is called once per request, before the inner service.
//! - **From inside**: authentication that runs *inside* this layer (an inner
//!   middleware or the handler) calls
//!   [`context::set_user`](crate::context::set_user); rows logged after that
//!   carry the user.
//!
//! `CAPTURE_HTTP = false` (or `ENABLED = false`) makes the layer pass
//! requests through untouched.

mod client_ip;
mod forwarded;
mod layer;
mod request;
mod request_id;
mod service;

pub use self::forwarded::ForwardedHeader;
pub use self::layer::AuditLayer;
pub use self::service::AuditService;
