//! The layer and the service with an asynchronous origin predicate
//! ([`CorsLayer::allow_origin_async_predicate`](crate::CorsLayer::allow_origin_async_predicate)).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use pin_project_lite::pin_project;
use polycors::OriginRef;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::CorsBody;
use crate::service::{ResponseFuture, Shared, Step};

/// A [`Layer`] enforcing a CORS policy whose unlisted origins an asynchronous predicate `P`
/// decides. Made by
/// [`CorsLayer::allow_origin_async_predicate`](crate::CorsLayer::allow_origin_async_predicate).
#[derive(Clone)]
#[must_use]
pub struct AsyncCorsLayer<P> {
    shared: Arc<Shared>,
    predicate: P,
}

impl<P> AsyncCorsLayer<P> {
    pub(crate) fn new(shared: Arc<Shared>, predicate: P) -> Self {
        Self { shared, predicate }
    }
}

impl<P> std::fmt::Debug for AsyncCorsLayer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCorsLayer")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, P: Clone> Layer<S> for AsyncCorsLayer<P> {
    type Service = AsyncCors<S, P>;

    fn layer(&self, inner: S) -> AsyncCors<S, P> {
        AsyncCors {
            inner,
            shared: Arc::clone(&self.shared),
            predicate: self.predicate.clone(),
        }
    }
}

/// The middleware [`Service`] made by [`AsyncCorsLayer`].
#[derive(Clone)]
pub struct AsyncCors<S, P> {
    inner: S,
    shared: Arc<Shared>,
    predicate: P,
}

impl<S: std::fmt::Debug, P> std::fmt::Debug for AsyncCors<S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCors")
            .field("inner", &self.inner)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, P, F, ReqBody, ResBody> Service<Request<ReqBody>> for AsyncCors<S, P>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    P: Fn(OriginRef<'static>, &Parts) -> F,
    F: Future<Output = bool>,
{
    type Response = Response<CorsBody<ResBody>>;
    type Error = S::Error;
    type Future = AsyncResponseFuture<S, ReqBody, F>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let shared = &self.shared;
        let (parts, body) = request.into_parts();
        // A first decision with a predicate that only notes the origin it is asked about.
        let first = {
            let mut asked = None;
            let (decision, origin) = shared.decide_parts(&parts, |origin| {
                asked = Some(origin.clone().into_owned());
                false
            });
            match asked {
                None => Ok(shared.step(decision, origin)),
                Some(asked) => Err(asked),
            }
        };
        let state = match first {
            Ok(Step::Answer(response)) => State::Ready {
                future: ResponseFuture::local(response),
            },
            Ok(Step::Forward(fix_up)) => State::Ready {
                future: ResponseFuture::forward(
                    self.inner.call(Request::from_parts(parts, body)),
                    fix_up,
                ),
            },
            Err(origin) => {
                let predicate = (self.predicate)(origin, &parts);
                // The ready service goes with the request; this one gets a fresh clone.
                let clone = self.inner.clone();
                State::Asking {
                    predicate,
                    waiting: Some(Waiting {
                        inner: std::mem::replace(&mut self.inner, clone),
                        parts,
                        body,
                        shared: Arc::clone(shared),
                    }),
                }
            }
        };
        AsyncResponseFuture { state }
    }
}

/// A request waiting for the predicate.
struct Waiting<S, B> {
    inner: S,
    parts: Parts,
    body: B,
    shared: Arc<Shared>,
}

pin_project! {
    /// The future of [`AsyncCors`]'s responses.
    pub struct AsyncResponseFuture<S, B, F>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B, F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B, F>
    where
        S: Service<Request<B>>,
    {
        Asking { #[pin] predicate: F, waiting: Option<Waiting<S, B>> },
        Ready { #[pin] future: ResponseFuture<S::Future> },
    }
}

impl<S, B, F, ResBody> Future for AsyncResponseFuture<S, B, F>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    F: Future<Output = bool>,
{
    type Output = Result<Response<CorsBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Ready { future } => return future.poll(cx),
                StateProj::Asking { predicate, waiting } => {
                    let allowed = std::task::ready!(predicate.poll(cx));
                    let Some(Waiting {
                        mut inner,
                        parts,
                        body,
                        shared,
                    }) = waiting.take()
                    else {
                        panic!("AsyncResponseFuture polled after completion");
                    };
                    let step = {
                        let (decision, origin) = shared.decide_parts(&parts, |_| allowed);
                        shared.step(decision, origin)
                    };
                    match step {
                        Step::Answer(response) => ResponseFuture::local(response),
                        Step::Forward(fix_up) => ResponseFuture::forward(
                            inner.call(Request::from_parts(parts, body)),
                            fix_up,
                        ),
                    }
                }
            };
            self.as_mut()
                .project()
                .state
                .set(State::Ready { future: next });
        }
    }
}
