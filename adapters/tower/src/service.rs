//! The layer and the service.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use polycors::adapter::{AnswerTemplates, DecisionHook, OriginPredicate};
use polycors::decision::{Action, Forwarded, LocalAnswer};
use polycors::{
    AcceptsOriginPredicate, BuildTarget, Decision, OriginRef, Policy, PolicyBuilder, RequestView,
    Verdict,
};
use tower_layer::Layer;
use tower_service::Service;

use crate::async_predicate::AsyncCorsLayer;
use crate::body::CorsBody;
use crate::headers::{AnswerHeaders, CopiedAnswer, Fixed, HttpHeaders, fill_view, fixed_values};

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
    pub(crate) shared: Arc<Shared>,
}

/// What every clone of a layer and its services shares.
#[derive(Clone, Debug)]
pub(crate) struct Shared {
    policy: Policy,
    scheme: Option<&'static str>,
    trust_forwarded: bool,
    record_verdicts: bool,
    on_decision: Option<DecisionHook>,
    origin_predicate: Option<OriginPredicate<Parts>>,
    fixed: Fixed,
    /// Local answers made once per key and copied (a clone copies two buffers where writing
    /// them inserts each header).
    answers: AnswerTemplates<AnswerHeaders>,
}

impl CorsLayer {
    /// A layer enforcing `policy` (a [`Policy`], or anything that converts into one).
    pub fn new(policy: impl Into<Policy>) -> Self {
        let policy = policy.into();
        let fixed = fixed_values(&policy);
        Self {
            shared: Arc::new(Shared {
                policy,
                scheme: None,
                trust_forwarded: false,
                record_verdicts: false,
                on_decision: None,
                origin_predicate: None,
                fixed,
                answers: AnswerTemplates::default(),
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
        PolicyBuilder::new()
    }

    /// Lets `predicate` decide the origins that the policy's exact origins and patterns do not
    /// allow, like tower-http's `AllowOrigin::predicate`: for origins not known when the layer
    /// is built (tenants' own domains, for example). It gets the origin in normalised form
    /// ([`OriginRef::is_host_or_subdomain_of`] matches subdomains safely) and the request's
    /// [`Parts`]; it is asked only about valid, cross-origin, non-`null` origins, and the
    /// policy's other checks (method, headers) still apply. It runs on the request path, so
    /// keep it fast and non-blocking: read a map that a background task refreshes rather than
    /// querying a database.
    ///
    /// The layer's policy gets `allow_origin_predicate: true`: without `allow_origins`, it
    /// allows the origins the predicate allows, not `*`.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use std::sync::{Arc, RwLock};
    /// use polycors_tower::CorsLayer;
    ///
    /// // Filled and refreshed elsewhere, from the tenants' settings.
    /// let tenant_origins: Arc<RwLock<HashSet<String>>> = Arc::default();
    /// let origins = Arc::clone(&tenant_origins);
    /// let layer = CorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_origin_predicate(move |origin, parts| {
    ///         parts.uri.path().starts_with("/api/")
    ///             && origins.read().is_ok_and(|set| set.contains(origin.as_str()))
    ///     })
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok::<(), polycors::InvalidConfig>(())
    /// ```
    pub fn allow_origin_predicate(
        self,
        predicate: impl Fn(&OriginRef<'_>, &Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.with_origin_predicate(OriginPredicate::new(predicate))
    }

    fn with_origin_predicate(mut self, predicate: OriginPredicate<Parts>) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        shared.policy = shared.policy.clone().with_origin_predicate();
        shared.origin_predicate = Some(predicate);
        self
    }

    /// Like [`allow_origin_predicate`](Self::allow_origin_predicate), for a predicate that
    /// must wait (tower-http's `AllowOrigin::async_predicate`): it gets the origin (owned) and
    /// the request's [`Parts`], and returns a future. Only requests from an origin no list
    /// allows wait for it; the others take the same path as without it, with no allocation
    /// added. The inner service must be `Clone` (the ready one is moved into the response
    /// future while the predicate runs). Call it last: it returns an [`AsyncCorsLayer`].
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use polycors_tower::CorsLayer;
    ///
    /// # async fn is_tenant_origin(_: &str) -> bool { true }
    /// let layer = CorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .build()?
    ///     .allow_origin_async_predicate(|origin, _parts| async move {
    ///         // A cache or a database of the tenants' origins.
    ///         is_tenant_origin(origin.as_str()).await
    ///     });
    /// let app: Router = Router::new().route("/", get(|| async { "hello" })).layer(layer);
    /// # let _ = app;
    /// # Ok::<(), polycors::InvalidConfig>(())
    /// ```
    pub fn allow_origin_async_predicate<P, F>(mut self, predicate: P) -> AsyncCorsLayer<P>
    where
        P: Fn(OriginRef<'static>, &Parts) -> F + Clone,
        F: Future<Output = bool>,
    {
        let shared = Arc::make_mut(&mut self.shared);
        shared.policy = shared.policy.clone().with_origin_predicate();
        shared.origin_predicate = None;
        AsyncCorsLayer::new(self.shared, predicate)
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

impl BuildTarget for CorsLayer {
    type RequestParts = Parts;

    fn finish(policy: Policy, origin_predicate: Option<OriginPredicate<Parts>>) -> Self {
        let layer = Self::new(policy);
        match origin_predicate {
            Some(predicate) => layer.with_origin_predicate(predicate),
            None => layer,
        }
    }
}

impl AcceptsOriginPredicate for CorsLayer {}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        let shared = &self.shared;
        if shared.policy.needs_origin_predicate() && shared.origin_predicate.is_none() {
            log::warn!(
                "CORS: the policy has allow_origin_predicate but the layer has no predicate \
                 (CorsLayer::allow_origin_predicate): origins it does not list are rejected"
            );
        }
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
        let shared = &self.layer.shared;
        let Some(predicate) = &shared.origin_predicate else {
            let mut view = RequestView::new(request.method().as_str().as_bytes());
            let origin = fill_view(
                &shared.policy,
                &mut view,
                request.uri(),
                request.headers(),
                shared.scheme,
                shared.trust_forwarded,
            );
            // The hot path: no `Step` in between (returning one costs a copy of the answer).
            let decision = shared.policy.evaluate(&view);
            shared.count(&decision);
            let origin = shared.fixed.echoed_origin(&decision, origin);
            return match decision.action() {
                Action::Answer(answer) => {
                    ResponseFuture::local(shared.answer(&decision, &answer, origin))
                }
                Action::Forward(forwarded) => {
                    let fix_up = FixUp {
                        forwarded,
                        origin: origin.cloned(),
                        shared: Arc::clone(shared),
                    };
                    ResponseFuture::forward(self.inner.call(request), fix_up)
                }
            };
        };
        // The predicate sees the request's parts: split the request (only with a predicate).
        let (parts, body) = request.into_parts();
        let step = {
            let (decision, origin) =
                shared.decide_parts(&parts, |origin| predicate.allows(origin, &parts));
            shared.step(decision, origin)
        };
        match step {
            Step::Answer(response) => ResponseFuture::local(response),
            Step::Forward(fix_up) => {
                ResponseFuture::forward(self.inner.call(Request::from_parts(parts, body)), fix_up)
            }
        }
    }
}

/// What a decision leads to: a local answer, or the inner service and a response fix-up.
pub(crate) enum Step {
    Answer(Response<CorsBody<()>>),
    Forward(FixUp),
}

impl Shared {
    /// Acts on a decision: counts it, and answers or prepares the forwarded response's headers.
    pub(crate) fn step(
        self: &Arc<Self>,
        decision: Decision<'_>,
        origin: Option<&HeaderValue>,
    ) -> Step {
        self.count(&decision);
        let origin = self.fixed.echoed_origin(&decision, origin);
        match decision.action() {
            Action::Forward(forwarded) => Step::Forward(FixUp {
                forwarded,
                origin: origin.cloned(),
                shared: Arc::clone(self),
            }),
            Action::Answer(answer) => Step::Answer(self.answer(&decision, &answer, origin)),
        }
    }

    /// The decision for a request split into its parts, `origin_predicate` deciding unlisted
    /// origins; and the request's `Origin`.
    pub(crate) fn decide_parts<'a>(
        &self,
        parts: &'a Parts,
        origin_predicate: impl FnOnce(&OriginRef<'_>) -> bool,
    ) -> (Decision<'a>, Option<&'a HeaderValue>) {
        let mut view = RequestView::new(parts.method.as_str().as_bytes());
        let origin = fill_view(
            &self.policy,
            &mut view,
            &parts.uri,
            &parts.headers,
            self.scheme,
            self.trust_forwarded,
        );
        (self.policy.evaluate_with(&view, origin_predicate), origin)
    }

    /// Hands the decision to the `on_decision` hook, if any.
    fn count(&self, decision: &Decision<'_>) {
        if let Some(hook) = &self.on_decision {
            hook.call(decision.verdict());
        }
    }

    /// The policy's own response.
    fn answer(
        &self,
        decision: &Decision<'_>,
        answer: &LocalAnswer,
        origin: Option<&HeaderValue>,
    ) -> Response<CorsBody<()>> {
        let mut response = Response::new(CorsBody::local(&answer.body));
        *response.status_mut() =
            StatusCode::from_u16(answer.status.code()).unwrap_or(StatusCode::FORBIDDEN);
        let mut headers = HttpHeaders {
            map: response.headers_mut(),
            fixed: &self.fixed,
            origin: origin.map(Cow::Borrowed),
        };
        let template = decision.answer_key().and_then(|key| {
            self.answers.get_or_make(key, || {
                let mut map = HeaderMap::new();
                // A copy of the origin: the template must not keep the request's buffer.
                let origin = origin.and_then(|o| HeaderValue::from_bytes(o.as_bytes()).ok());
                decision.write_headers(&mut HttpHeaders {
                    map: &mut map,
                    fixed: &self.fixed,
                    origin: origin.map(Cow::Owned),
                });
                AnswerHeaders::new(map)
            })
        });
        match template {
            Some(template) => {
                headers.map.clone_from(&template.map);
                decision.write_answer_origin(&mut CopiedAnswer::new(headers, template));
            }
            None => decision.write_headers(&mut headers),
        }
        if self.record_verdicts {
            response.extensions_mut().insert(decision.verdict());
        }
        response
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn local(response: Response<CorsBody<()>>) -> Self {
        Self {
            state: State::Local {
                response: Some(response),
            },
        }
    }

    pub(crate) fn forward(future: F, fix_up: FixUp) -> Self {
        Self {
            state: State::Forward {
                future,
                fix_up: Some(fix_up),
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
pub(crate) struct FixUp {
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
                        origin: origin.map(Cow::Owned),
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
