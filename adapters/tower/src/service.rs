//! The layer and the service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use polycors::adapter::{DecisionHook, FixedValues};
use polycors::decision::{Action, Forwarded};
use polycors::{Policy, PolicyBuilder, Verdict};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::CorsBody;
use crate::headers::{Fixed, HttpHeaders, view_and_origin};

/// A [`Layer`] that enforces a CORS [`Policy`].
///
/// With [`record_verdicts`](Self::record_verdicts), every response it returns carries the
/// policy's [`Verdict`] in its extensions, for logs and metrics:
/// `response.extensions().get::<polycors::Verdict>()`.
///
/// Cloning the layer or its service costs one reference count: the policy and the header
/// values built for it are shared.
#[derive(Clone, Debug)]
#[must_use]
pub struct CorsLayer {
    shared: Arc<Shared>,
}

/// What every clone of a layer and its services shares.
#[derive(Clone, Debug)]
struct Shared {
    policy: Policy,
    scheme: Option<&'static str>,
    trust_forwarded: bool,
    record_verdicts: bool,
    on_decision: Option<DecisionHook>,
    fixed: Fixed,
}

impl CorsLayer {
    /// A layer enforcing `policy` (a [`Policy`], or anything that converts into one).
    pub fn new(policy: impl Into<Policy>) -> Self {
        let policy = policy.into();
        let fixed = FixedValues::new(&policy, |value| HeaderValue::from_str(value).ok());
        Self {
            shared: Arc::new(Shared {
                policy,
                scheme: None,
                trust_forwarded: false,
                record_verdicts: false,
                on_decision: None,
                fixed,
            }),
        }
    }

    /// Starts a layer in code: the [`PolicyBuilder`] methods, with `build()` returning the
    /// layer (or every configuration problem, with its field).
    ///
    /// ```
    /// use std::time::Duration;
    /// use http::{Method, header};
    /// use polycors_tower::CorsLayer;
    ///
    /// let layer = CorsLayer::builder()
    ///     .allow_origin(["https://app.example.com"])
    ///     .allow_methods([Method::GET, Method::POST])
    ///     .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
    ///     .allow_credentials(true)
    ///     .max_age(Duration::from_secs(600))
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok::<(), polycors::InvalidConfig>(())
    /// ```
    pub fn builder() -> PolicyBuilder<Self> {
        PolicyBuilder::new(Self::new)
    }

    /// Puts each response's [`Verdict`] in its extensions (off by default: `http`'s extension
    /// map costs an allocation per response).
    pub fn record_verdicts(mut self, record: bool) -> Self {
        Arc::make_mut(&mut self.shared).record_verdicts = record;
        self
    }

    /// Calls `hook` with every request's [`Verdict`], when the decision is made (before the
    /// inner service runs), for metrics. [`polycors::counters::Counter::for_verdict`] gives
    /// the counters the proxy-wasm plugin keeps under the same names.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use polycors::Verdict;
    ///
    /// let rejected = Arc::new(AtomicU64::new(0));
    /// let seen = Arc::clone(&rejected);
    /// let layer = polycors_tower::CorsLayer::new(polycors::Policy::default()).on_decision(
    ///     move |verdict| {
    ///         if let Verdict::Reject(_) = verdict {
    ///             seen.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     },
    /// );
    /// # let _ = layer;
    /// ```
    pub fn on_decision(mut self, hook: impl Fn(Verdict) + Send + Sync + 'static) -> Self {
        Arc::make_mut(&mut self.shared).on_decision = Some(DecisionHook::new(hook));
        self
    }

    /// The scheme clients use to reach this service (`"https"` behind a TLS-terminating
    /// proxy), for same-origin detection. By default the request URI's scheme, if any.
    pub fn scheme(mut self, scheme: &'static str) -> Self {
        Arc::make_mut(&mut self.shared).scheme = Some(scheme);
        self
    }

    /// Takes `Forwarded` and `X-Forwarded-Host` / `X-Forwarded-Proto` as the client's view of
    /// a request's authority and scheme, for same-origin detection (off by default). Turn it on
    /// only for a service that only a proxy which sets those headers can reach: any client can
    /// send them.
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        Arc::make_mut(&mut self.shared).trust_forwarded = trust;
        self
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            layer: self.clone(),
        }
    }
}

/// The middleware [`Service`] made by [`CorsLayer`].
#[derive(Clone, Debug)]
pub struct Cors<S> {
    inner: S,
    layer: CorsLayer,
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
        let layer = &*self.layer.shared;
        let (view, origin) = view_and_origin(&request, layer.scheme, layer.trust_forwarded);
        let decision = layer.policy.evaluate(&view);
        if let Some(hook) = &layer.on_decision {
            hook.call(decision.verdict());
        }
        let forwarded = match decision.action() {
            Action::Forward(forwarded) => forwarded,
            Action::Answer(answer) => {
                let mut response = Response::new(CorsBody::local(&answer.body));
                *response.status_mut() =
                    StatusCode::from_u16(answer.status.code()).unwrap_or(StatusCode::FORBIDDEN);
                decision.write_headers(&mut HttpHeaders {
                    map: response.headers_mut(),
                    fixed: &layer.fixed,
                    origin,
                });
                if layer.record_verdicts {
                    response.extensions_mut().insert(decision.verdict());
                }
                return ResponseFuture {
                    state: State::Local {
                        response: Some(response),
                    },
                };
            }
        };
        let origin = origin.cloned();
        ResponseFuture {
            state: State::Forward {
                future: self.inner.call(request),
                fix_up: Some(FixUp {
                    forwarded,
                    origin,
                    shared: Arc::clone(&self.layer.shared),
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

/// What a forwarded request's response needs.
struct FixUp {
    forwarded: Forwarded,
    origin: Option<HeaderValue>,
    shared: Arc<Shared>,
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Forward { #[pin] future: F, fix_up: Option<FixUp> },
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
            StateProj::Forward { future, fix_up } => {
                let mut response = std::task::ready!(future.poll(cx))?;
                if let Some(FixUp {
                    forwarded,
                    origin,
                    shared,
                }) = fix_up.take()
                {
                    forwarded.write_headers(&mut HttpHeaders {
                        map: response.headers_mut(),
                        fixed: &shared.fixed,
                        origin: origin.as_ref(),
                    });
                    if shared.record_verdicts {
                        response
                            .extensions_mut()
                            .insert::<Verdict>(forwarded.verdict());
                    }
                }
                Poll::Ready(Ok(response.map(CorsBody::inner)))
            }
            StateProj::Local { response } => Poll::Ready(match response.take() {
                Some(response) => Ok(response.map(CorsBody::retype)),
                None => panic!("ResponseFuture polled after completion"),
            }),
        }
    }
}
