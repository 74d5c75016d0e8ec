//! [`AuditLayer`]: the tower layer, its settings and how they are chosen.

use std::fmt;
use std::sync::Arc;

use ::http::request::Parts;
use tower_layer::Layer;

use super::{AuditService, ForwardedHeader};
use crate::AuditConfig;
use crate::config::TrustedProxies;
use crate::context::{AuditContext, AuditUser, EntryPoint};

type UserFn = dyn Fn(&Parts) -> Option<AuditUser> + Send + Sync;

/// A tower layer that runs each request inside an audit scope with entry
/// point `http`; see the [module docs](super).
#[derive(Clone)]
pub struct AuditLayer {
    shared: Arc<Shared>,
}

/// What a layer and every service it wraps share.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) enabled: bool,
    pub(super) trusted: TrustedProxies,
    pub(super) header: ForwardedHeader,
    pub(super) user: Option<Arc<UserFn>>,
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
    /// it. For servers that open their scope themselves, and for tests. Its
    /// correlation id is a trusted proxy's `X-Request-Id`, else `None`: the
    /// scope the context opens gives it one.
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
    ///     .header("x-request-id", "4bf92f35-77b3")
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
    /// assert_eq!(ctx.correlation_id.as_deref(), Some("4bf92f35-77b3"));
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
        AuditService::new(inner, Arc::clone(&self.shared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
