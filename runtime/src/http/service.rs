//! [`AuditService`]: the service an [`AuditLayer`](super::AuditLayer)
//! wraps around another, which runs each request in an audit scope. Its
//! future is the context's [`Scope`].

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::Request;
use tower_service::Service;

use super::layer::Shared;
use crate::context::{self, Scope};

/// The service [`AuditLayer`](super::AuditLayer) wraps around another.
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

impl<S> AuditService<S> {
    pub(super) fn new(inner: S, shared: Arc<Shared>) -> Self {
        AuditService { inner, shared }
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
