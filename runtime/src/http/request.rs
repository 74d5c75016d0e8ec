//! The audit context of a request: what the layer records for the
//! `path`, `route`, `method`, `user_*`, `user_agent` and `correlation_id`
//! columns.

use ::http::Extensions;
use ::http::header::USER_AGENT;
use ::http::request::Parts;

use super::client_ip::client_ip;
use super::layer::Shared;
use super::request_id::request_id;
use crate::context::{AuditContext, AuditUser, EntryPoint};

impl Shared {
    /// The context recorded for `parts`.
    pub(super) fn context_of(&self, parts: &Parts) -> AuditContext {
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
            // Cut to its column when the row is written, like every value.
            method: Some(method.to_owned()),
            ip: client_ip(parts, &self.trusted, self.header).map(|ip| ip.to_string()),
            user_id: user.id,
            user_name: user.name,
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .map(|agent| String::from_utf8_lossy(agent.as_bytes()).into_owned()),
            // None: the scope takes the enclosing scope's id, or a new one.
            correlation_id: request_id(parts, &self.trusted),
        }
    }
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

#[cfg(test)]
mod tests {
    use ::http::Request;

    use crate::AuditConfig;
    use crate::context::AuditUser;
    use crate::http::AuditLayer;

    fn layer(trusted: &str) -> AuditLayer {
        AuditLayer::new(&AuditConfig {
            trusted_proxies: trusted.parse().unwrap(),
            ..AuditConfig::default()
        })
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

    /// The context holds the method whole; the row is cut to its column
    /// when written (see the suite's `context_values_fit_their_columns`).
    #[test]
    fn long_methods_are_recorded_whole() {
        let request = Request::builder()
            .method("VERYLONGMETHODNAME")
            .uri("/a?b=c")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let ctx = layer("").context_of(&parts);
        assert_eq!(ctx.method.as_deref(), Some("VERYLONGMETHODNAME"));
        assert_eq!(ctx.path.as_deref(), Some("/a?b=c"));
        assert_eq!(ctx.route, None);
        assert_eq!(ctx.ip, None);
    }
}
