//! The layer and the service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use polycors::{Decision, Policy};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::CorsBody;
use crate::headers::{HttpHeaders, ValueCache, request_view};

/// A [`Layer`] that enforces a CORS [`Policy`].
#[derive(Clone, Debug)]
pub struct CorsLayer {
    policy: Policy,
    scheme: Option<&'static str>,
    cache: Arc<ValueCache>,
}

impl CorsLayer {
    /// A layer enforcing `policy` (a [`Policy`], or anything that converts into one).
    pub fn new(policy: impl Into<Policy>) -> Self {
        Self {
            policy: policy.into(),
            scheme: None,
            cache: Arc::default(),
        }
    }

    /// The scheme clients use to reach this service (`"https"` behind a TLS-terminating
    /// proxy), for same-origin detection. By default the request URI's scheme, if any.
    pub fn scheme(mut self, scheme: &'static str) -> Self {
        self.scheme = Some(scheme);
        self
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            policy: self.policy.clone(),
            scheme: self.scheme,
            cache: Arc::clone(&self.cache),
        }
    }
}

/// The middleware [`Service`] made by [`CorsLayer`].
#[derive(Clone, Debug)]
pub struct Cors<S> {
    inner: S,
    policy: Policy,
    scheme: Option<&'static str>,
    cache: Arc<ValueCache>,
}

impl<S> Cors<S> {
    /// Wraps `inner` with `policy`.
    pub fn new(inner: S, policy: impl Into<Policy>) -> Self {
        CorsLayer::new(policy).layer(inner)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<CorsBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let decision = self.policy.evaluate(&request_view(&request, self.scheme));
        if let Some(local) = decision.local_response() {
            let mut response = Response::new(CorsBody::local(&local.body));
            // A preflight answer has up to ten headers: size the map once.
            *response.headers_mut() = http::HeaderMap::with_capacity(12);
            *response.status_mut() =
                StatusCode::from_u16(local.status).unwrap_or(StatusCode::FORBIDDEN);
            let origin = request.headers().get(header::ORIGIN);
            decision.apply(&mut HttpHeaders::with_cache(
                response.headers_mut(),
                &self.cache,
                origin,
            ));
            return ResponseFuture {
                state: State::Local {
                    response: Some(response),
                },
            };
        }
        let decision = decision.into_owned();
        let origin = request.headers().get(header::ORIGIN).cloned();
        ResponseFuture {
            state: State::Forward {
                future: self.inner.call(request),
                apply: Some(Apply {
                    decision,
                    origin,
                    cache: Arc::clone(&self.cache),
                }),
            },
        }
    }
}

pin_project! {
    /// The future of [`Cors`]'s responses.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

/// What a forwarded request's response needs: the decision, and what makes writing it cheap.
struct Apply {
    decision: Decision<'static>,
    origin: Option<HeaderValue>,
    cache: Arc<ValueCache>,
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Forward { #[pin] future: F, apply: Option<Apply> },
        Local { response: Option<Response<CorsBody<()>>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<CorsBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Forward { future, apply } => {
                let mut response = std::task::ready!(future.poll(cx))?;
                if let Some(Apply {
                    decision,
                    origin,
                    cache,
                }) = apply.take()
                {
                    decision.apply(&mut HttpHeaders::with_cache(
                        response.headers_mut(),
                        &cache,
                        origin.as_ref(),
                    ));
                }
                Poll::Ready(Ok(response.map(CorsBody::inner)))
            }
            StateProj::Local { response } => {
                let response = response
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready(Ok(response.map(CorsBody::retype)))
            }
        }
    }
}
