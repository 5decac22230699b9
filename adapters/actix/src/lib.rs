//! # polycors-actix
//!
//! [polycors] as actix-web middleware. Preflights and rejections are answered
//! without calling the wrapped service; allowed requests are forwarded and the response gets
//! its CORS headers. All decisions are the core's: this crate only translates actix types.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use polycors::Policy;
//! use polycors_actix::Cors;
//!
//! # async fn run() -> std::io::Result<()> {
//! let policy = Policy::from_yaml("allow_origins: [https://app.example.com]").expect("valid");
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(Cors::new(policy.clone()))
//!         .route("/", web::get().to(|| async { "hello" }))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```
//!
//! actix-web's `HeaderMap` does not keep the order in which headers were added, so where the
//! specification lists a response's own header names (`expose_headers: *` with credentials)
//! this adapter lists them in name order.
//!
//! ## Same-origin requests and TLS-terminating proxies
//!
//! A request whose `Origin` equals its own origin is not a CORS request. The middleware takes
//! the authority from the request URI or the `Host` header, and the scheme from the request URI
//! when it has one; plain HTTP/1 requests carry no scheme, so hosts and explicit ports are
//! compared. Behind a proxy that terminates TLS, tell it the public scheme:
//! `Cors::new(policy).scheme("https")`; behind a proxy that sets `Forwarded` or
//! `X-Forwarded-Host` / `X-Forwarded-Proto`, `.trust_forwarded_headers(true)` takes them as the
//! client's view (off by default, as with the tower layer: any client can send them).

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The actix-web guide's code, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/actix.md")]
#[doc = include_str!("../../../docs/migrating-from-actix-cors.md")]
pub struct Guide;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::RequestHead;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpResponse};
use pin_project_lite::pin_project;
use polycors::adapter::{
    DecisionHook, FieldValue, FixedValues, HeaderField, OriginPredicate, ResponseHeaders,
};
use polycors::decision::{Action, Forwarded};
use polycors::{
    AcceptsOriginPredicate, BuildTarget, OriginRef, Policy, PolicyBuilder, RequestHeader,
    RequestView, Verdict,
};

/// Middleware factory enforcing a CORS [`Policy`]; use with `App::wrap`.
///
/// With [`record_verdicts`](Self::record_verdicts), every response it returns carries the
/// policy's [`Verdict`] in its extensions, for logs and metrics:
/// `response.response().extensions().get::<polycors::Verdict>()`.
#[derive(Clone, Debug)]
#[must_use]
pub struct Cors {
    policy: Policy,
    scheme: Option<&'static str>,
    trust_forwarded: bool,
    record_verdicts: bool,
    on_decision: Option<DecisionHook>,
    origin_predicate: Option<OriginPredicate<RequestHead>>,
    fixed: Rc<Fixed>,
}

impl Cors {
    /// Middleware enforcing `policy` (a [`Policy`], or anything that converts into one).
    pub fn new(policy: impl Into<Policy>) -> Self {
        let policy = policy.into();
        let fixed = fixed_values(&policy);
        Self {
            policy,
            scheme: None,
            trust_forwarded: false,
            record_verdicts: false,
            on_decision: None,
            origin_predicate: None,
            fixed: Rc::new(fixed),
        }
    }

    /// Starts the middleware in code: the [`PolicyBuilder`] methods, with `build()` returning
    /// the middleware (or every configuration problem, with its field).
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::http::{Method, header};
    /// use polycors_actix::Cors;
    ///
    /// let cors = Cors::builder()
    ///     .allow_origin(["https://app.example.com"])
    ///     .allow_methods([Method::GET, Method::POST])
    ///     .allow_headers([header::CONTENT_TYPE])
    ///     .max_age(Duration::from_secs(600))
    ///     .build()?;
    /// # let _ = cors;
    /// # Ok::<(), polycors::InvalidConfig>(())
    /// ```
    pub fn builder() -> PolicyBuilder<Self> {
        PolicyBuilder::new()
    }

    /// Lets `predicate` decide the origins that the policy's exact origins and patterns do not
    /// allow, like actix-cors's `allowed_origin_fn`: for origins not known when the app is
    /// built (tenants' own domains, for example). It gets the origin in normalised form
    /// ([`OriginRef::is_host_or_subdomain_of`] matches subdomains safely) and the request's
    /// [`RequestHead`]; it is asked only about valid, cross-origin, non-`null` origins, and
    /// the policy's other checks (method, headers) still apply. It runs on the request path,
    /// so keep it fast and non-blocking.
    ///
    /// The middleware's policy gets `allow_origin_predicate: true`: without `allow_origins`,
    /// it allows the origins the predicate allows, not `*`.
    ///
    /// ```
    /// use actix_web::{App, HttpResponse, web};
    /// use polycors_actix::Cors;
    ///
    /// let cors = Cors::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_origin_predicate(|origin, head| {
    ///         origin.scheme() == "https"
    ///             && origin.is_host_or_subdomain_of("tenants.example.net")
    ///             && head.uri.path().starts_with("/api/")
    ///     })
    ///     .build()?;
    /// let app = App::new()
    ///     .wrap(cors)
    ///     .route("/api/items", web::get().to(HttpResponse::Ok));
    /// # let _ = app;
    /// # Ok::<(), polycors::InvalidConfig>(())
    /// ```
    pub fn allow_origin_predicate(
        self,
        predicate: impl Fn(&OriginRef<'_>, &RequestHead) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.with_origin_predicate(OriginPredicate::new(predicate))
    }

    fn with_origin_predicate(mut self, predicate: OriginPredicate<RequestHead>) -> Self {
        self.policy = self.policy.with_origin_predicate();
        self.origin_predicate = Some(predicate);
        self
    }

    /// Puts each response's [`Verdict`] in its extensions (off by default: it costs an
    /// allocation per response).
    pub fn record_verdicts(mut self, record: bool) -> Self {
        self.record_verdicts = record;
        self
    }

    /// Calls `hook` with every request's [`Verdict`], when the decision is made (before the
    /// application runs), for metrics. [`polycors::counters::Counter::for_verdict`] gives the
    /// counters the proxy-wasm plugin keeps under the same names.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let decisions = Arc::new(AtomicU64::new(0));
    /// let seen = Arc::clone(&decisions);
    /// let cors = polycors_actix::Cors::new(polycors::Policy::default())
    ///     .on_decision(move |_verdict| {
    ///         seen.fetch_add(1, Ordering::Relaxed);
    ///     });
    /// # let _ = cors;
    /// ```
    pub fn on_decision(mut self, hook: impl Fn(Verdict) + Send + Sync + 'static) -> Self {
        self.on_decision = Some(DecisionHook::new(hook));
        self
    }

    /// The scheme clients use to reach this service (`"https"` behind a TLS-terminating
    /// proxy), for same-origin detection. By default the request URI's scheme, if any.
    pub fn scheme(mut self, scheme: &'static str) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// Takes `Forwarded` and `X-Forwarded-Host` / `X-Forwarded-Proto` as the client's view of
    /// a request's authority and scheme, for same-origin detection (off by default). Turn it on
    /// only for a service that only a proxy which sets those headers can reach: any client can
    /// send them.
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.trust_forwarded = trust;
        self
    }
}

impl BuildTarget for Cors {
    type RequestParts = RequestHead;

    fn finish(policy: Policy, origin_predicate: Option<OriginPredicate<RequestHead>>) -> Self {
        let cors = Self::new(policy);
        match origin_predicate {
            Some(predicate) => cors.with_origin_predicate(predicate),
            None => cors,
        }
    }
}

impl AcceptsOriginPredicate for Cors {}

impl<S, B> Transform<S, ServiceRequest> for Cors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = CorsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        if self.policy.needs_origin_predicate() && self.origin_predicate.is_none() {
            log::warn!(
                "CORS: the policy has allow_origin_predicate but the middleware has no predicate \
                 (Cors::allow_origin_predicate): origins it does not list are rejected"
            );
        }
        ready(Ok(CorsMiddleware {
            service,
            cors: self.clone(),
        }))
    }
}

/// The middleware service made by [`Cors`].
#[derive(Debug)]
pub struct CorsMiddleware<S> {
    service: S,
    cors: Cors,
}

/// The policy's fixed header values, built once per middleware factory.
type Fixed = FixedValues<HeaderValue>;

polycors::header_conversions!(header);

/// An actix header map as the core's [`ResponseHeaders`].
struct ActixHeaders<'a> {
    map: &'a mut HeaderMap,
    /// Visit headers in name order (see `for_each`).
    ordered: bool,
    fixed: &'a Fixed,
    /// The request's Origin: borrowed, or owned by a fix-up that moves it into the response.
    origin: Option<Cow<'a, HeaderValue>>,
}

impl<'a> ActixHeaders<'a> {
    fn new(
        map: &'a mut HeaderMap,
        ordered: bool,
        fixed: &'a Fixed,
        origin: Option<Cow<'a, HeaderValue>>,
    ) -> Self {
        Self {
            map,
            ordered,
            fixed,
            origin,
        }
    }
}

impl ResponseHeaders for ActixHeaders<'_> {
    /// actix-web's `HeaderMap` is a hash map: its iteration order changes from one map to the
    /// next. When the decision lists the response's header names (`expose_headers: *` with
    /// credentials), headers are visited in name order (values of one name in their order), so
    /// that the output is deterministic.
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        if !self.ordered {
            for (name, value) in self.map.iter() {
                f(name.as_str().as_bytes(), value.as_bytes());
            }
            return;
        }
        let mut lines: Vec<(&HeaderName, &HeaderValue)> = self.map.iter().collect();
        lines.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        for (name, value) in lines {
            f(name.as_str().as_bytes(), value.as_bytes());
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        let names: Vec<HeaderName> = self
            .map
            .keys()
            .filter(|name| matches(name.as_str().as_bytes()))
            .cloned()
            .collect();
        for name in names {
            self.map.remove(name);
        }
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        if let Some(value) = header_value(value, self.fixed, &mut self.origin) {
            self.map.insert(header_name(field), value);
        }
    }

    /// An append: the name is absent, so nothing is removed and returned (about 100
    /// instructions less per header than `insert` with actix-http 3's `HeaderMap`).
    fn add(&mut self, field: HeaderField, value: FieldValue<'_>) {
        if let Some(value) = header_value(value, self.fixed, &mut self.origin) {
            self.map.append(header_name(field), value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }
}

impl<S, B> Service<ServiceRequest> for CorsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let cors = &self.cors;
        let mut origin = None;
        let forwarded = {
            let headers = request.headers();
            let mut view = RequestView::new(request.method().as_str().as_bytes());
            if cors.trust_forwarded {
                view.trust_forwarded_headers();
            }
            let uri = request.uri();
            if let Some(authority) = uri.authority() {
                view.set_authority(authority.as_str().as_bytes());
            }
            if let Some(scheme) = cors.scheme.or(uri.scheme_str()) {
                view.set_scheme(scheme.as_bytes());
            }
            // The core asks for the headers it reads: a lookup each, whatever the request's
            // size (visiting every line of actix-web's map cost 130-140 instructions a line).
            cors.policy.read_headers(&mut view, |wanted| {
                let lines = headers.get_all(request_header_name(wanted));
                if wanted == RequestHeader::Origin {
                    origin = lines.as_slice().first();
                }
                lines.map(HeaderValue::as_bytes)
            });
            let decision = match &cors.origin_predicate {
                None => cors.policy.evaluate(&view),
                Some(predicate) => {
                    let head = request.head();
                    cors.policy
                        .evaluate_with(&view, |origin| predicate.allows(origin, head))
                }
            };
            if let Some(hook) = &cors.on_decision {
                hook.call(decision.verdict());
            }
            let echoed = cors.fixed.echoed_origin(&decision, origin);
            match decision.action() {
                Action::Forward(forwarded) => Ok((forwarded, echoed)),
                // Answered here: the response is built while the request is still borrowed.
                Action::Answer(answer) => {
                    let status =
                        StatusCode::from_u16(answer.status.code()).unwrap_or(StatusCode::FORBIDDEN);
                    let mut response = HttpResponse::with_body(status, answer.body.into_owned());
                    decision.write_headers(&mut ActixHeaders::new(
                        response.headers_mut(),
                        false,
                        &cors.fixed,
                        echoed.map(Cow::Borrowed),
                    ));
                    if cors.record_verdicts {
                        response.extensions_mut().insert(decision.verdict());
                    }
                    Err(response)
                }
            }
        };
        match forwarded {
            Ok((forwarded, echoed)) => ResponseFuture {
                state: State::Forward {
                    fix_up: Some(FixUp {
                        forwarded,
                        origin: echoed.cloned(),
                        fixed: Rc::clone(&cors.fixed),
                        record_verdict: cors.record_verdicts,
                    }),
                    future: self.service.call(request),
                },
            },
            Err(response) => ResponseFuture {
                state: State::Local {
                    response: Some(request.into_response(response.map_into_boxed_body())),
                },
            },
        }
    }
}

/// What a forwarded request's response needs once the wrapped service has answered.
#[derive(Debug)]
struct FixUp {
    forwarded: Forwarded,
    origin: Option<HeaderValue>,
    fixed: Rc<Fixed>,
    record_verdict: bool,
}

impl FixUp {
    /// Writes the CORS headers onto the wrapped service's response, moving the request's
    /// `Origin` into it.
    fn write<B>(mut self, response: &mut HttpResponse<B>) {
        let origin = self.origin.take().map(Cow::Owned);
        self.write_with(origin, response);
    }

    /// Writes the CORS headers onto a response actix-web makes from the wrapped service's
    /// error (it may make more than one: the `Origin` is cloned).
    fn write_on_error_response<B>(&self, response: &mut HttpResponse<B>) {
        self.write_with(self.origin.as_ref().map(Cow::Borrowed), response);
    }

    fn write_with<B>(&self, origin: Option<Cow<'_, HeaderValue>>, response: &mut HttpResponse<B>) {
        let forwarded = &self.forwarded;
        forwarded.write_headers(&mut ActixHeaders::new(
            response.headers_mut(),
            forwarded.exposes_response_headers(),
            &self.fixed,
            origin,
        ));
        if self.record_verdict {
            response
                .extensions_mut()
                .insert::<Verdict>(forwarded.verdict());
        }
    }
}

pin_project! {
    /// The future of [`CorsMiddleware`]'s responses: the policy's own answer (a preflight or a
    /// rejection), or the wrapped service's response with its CORS headers.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Forward { #[pin] future: F, fix_up: Option<FixUp> },
        Local { response: Option<ServiceResponse<BoxBody>> },
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Forward { future, fix_up } => {
                let result = std::task::ready!(future.poll(cx));
                let fix_up = fix_up.take();
                Poll::Ready(match (result, fix_up) {
                    (Ok(mut response), Some(fix_up)) => {
                        fix_up.write(response.response_mut());
                        Ok(response.map_into_left_body())
                    }
                    (Ok(response), None) => Ok(response.map_into_left_body()),
                    // actix-web turns the error into a response later: it gets the headers
                    // then, so that the browser can read it.
                    (Err(mut error), Some(fix_up)) => {
                        error.add_response_mapper(move |mut response| {
                            fix_up.write_on_error_response(&mut response);
                            response
                        });
                        Err(error)
                    }
                    (Err(error), None) => Err(error),
                })
            }
            StateProj::Local { response } => Poll::Ready(match response.take() {
                Some(response) => Ok(response.map_into_right_body()),
                None => panic!("ResponseFuture polled after completion"),
            }),
        }
    }
}
