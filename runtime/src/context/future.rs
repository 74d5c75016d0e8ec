//! [`Scope`]: the future that [`scope`](fn@super::scope),
//! [`capture`](super::capture) and [`bind`](super::bind) return.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;

use super::scope::{CURRENT, Cell};

pin_project! {
    /// A future running inside an audit scope; see [`scope`](fn@super::scope),
    /// [`capture`](super::capture) and [`bind`](super::bind). The context is
    /// set while the future is polled (and while it is dropped), and not
    /// otherwise.
    #[must_use = "futures do nothing unless polled"]
    pub struct Scope<F> {
        #[pin]
        inner: ScopeInner<F>,
    }
}

pin_project! {
    #[project = ScopeProj]
    enum ScopeInner<F> {
        Scoped { #[pin] future: TaskLocalFuture<Cell, F> },
        Plain { #[pin] future: F },
    }
}

impl<F: Future> Scope<F> {
    /// `future` with `cell` as the task-local while it is polled.
    pub(super) fn scoped(cell: Cell, future: F) -> Self {
        Scope {
            inner: ScopeInner::Scoped {
                future: CURRENT.scope(cell, future),
            },
        }
    }

    /// `future` as it is, with no scope of its own.
    pub(crate) fn plain(future: F) -> Self {
        Scope {
            inner: ScopeInner::Plain { future },
        }
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            ScopeProj::Scoped { future } => future.poll(cx),
            ScopeProj::Plain { future } => future.poll(cx),
        }
    }
}

impl<F> fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scoped = matches!(self.inner, ScopeInner::Scoped { .. });
        f.debug_struct("Scope").field("scoped", &scoped).finish()
    }
}
