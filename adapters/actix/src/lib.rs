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
//! Same-origin detection uses actix's [connection info](actix_web::dev::ConnectionInfo): the
//! scheme and host, which honour `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` when a
//! proxy sets them.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpResponse};
use futures_util::future::LocalBoxFuture;
use polycors::{Decision, FieldValue, Policy, PolicyValues, RequestView, ResponseHeaders};

/// Middleware factory enforcing a CORS [`Policy`]; use with `App::wrap`.
#[derive(Clone, Debug)]
pub struct Cors {
    policy: Policy,
}

impl Cors {
    /// Middleware enforcing `policy` (a [`Policy`], or anything that converts into one).
    pub fn new(policy: impl Into<Policy>) -> Self {
        Self {
            policy: policy.into(),
        }
    }
}

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
        ready(Ok(CorsMiddleware {
            service: Rc::new(service),
            policy: self.policy.clone(),
            cache: Rc::default(),
        }))
    }
}

/// The middleware service made by [`Cors`].
#[derive(Debug)]
pub struct CorsMiddleware<S> {
    service: Rc<S>,
    policy: Policy,
    cache: Rc<ValueCache>,
}

/// The policy's fixed header values, built once per worker.
type ValueCache = PolicyValues<HeaderValue>;

/// An actix header map as the core's [`ResponseHeaders`].
struct ActixHeaders<'a> {
    map: &'a mut HeaderMap,
    /// Visit headers in name order (see `for_each`).
    ordered: bool,
    cache: &'a ValueCache,
    /// The request's Origin, reused where the decision echoes it.
    origin: Option<&'a HeaderValue>,
}

impl<'a> ActixHeaders<'a> {
    fn new(
        map: &'a mut HeaderMap,
        decision: &Decision<'_>,
        cache: &'a ValueCache,
        origin: Option<&'a HeaderValue>,
    ) -> Self {
        // Room for what a decision writes, so the map grows once rather than rehashing.
        map.reserve(8);
        Self {
            map,
            ordered: decision.exposes_response_headers(),
            cache,
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

    fn remove(&mut self, name: &[u8]) {
        if let Ok(name) = HeaderName::from_bytes(name) {
            self.map.remove(name);
        }
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        // The core only writes validated bytes; a value that does not convert is skipped rather
        // than risk a panic.
        let value = match value {
            FieldValue::Static(s) => Some(HeaderValue::from_static(s)),
            FieldValue::Policy(field, s) => {
                self.cache.get(field, s, |s| HeaderValue::from_str(s).ok())
            }
            FieldValue::Request(bytes) => match self.origin {
                Some(origin) if origin.as_bytes() == bytes => Some(origin.clone()),
                _ => HeaderValue::from_bytes(bytes).ok(),
            },
        };
        if let Some(value) = value {
            self.map.insert(HeaderName::from_static(name), value);
        }
    }
}

impl<S, B> Service<ServiceRequest> for CorsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let forwarded = {
            let headers = request.headers();
            // Same-origin detection only matters for requests with an Origin.
            let info = headers
                .contains_key(header::ORIGIN)
                .then(|| request.connection_info());
            let mut view = RequestView::new(request.method().as_str().as_bytes());
            for (name, value) in headers.iter() {
                view.add_header(name.as_str().as_bytes(), value.as_bytes());
            }
            if let Some(info) = &info {
                view.set_scheme(info.scheme().as_bytes())
                    .set_authority(info.host().as_bytes());
            }
            let decision = self.policy.evaluate(&view);
            match decision.local_response() {
                // Answered here: the response is built while the request is still borrowed.
                Some(local) => {
                    let status =
                        StatusCode::from_u16(local.status).unwrap_or(StatusCode::FORBIDDEN);
                    let mut response = HttpResponse::with_body(status, local.body.into_owned());
                    decision.apply(&mut ActixHeaders::new(
                        response.headers_mut(),
                        &decision,
                        &self.cache,
                        headers.get(header::ORIGIN),
                    ));
                    Err(response)
                }
                None => Ok(decision.into_owned()),
            }
        };
        let decision = match forwarded {
            Ok(decision) => decision,
            Err(response) => {
                let response = request.into_response(response.map_into_boxed_body());
                return Box::pin(ready(Ok(response.map_into_right_body())));
            }
        };

        let origin = request.headers().get(header::ORIGIN).cloned();
        let service = Rc::clone(&self.service);
        let cache = Rc::clone(&self.cache);
        Box::pin(async move {
            let mut response = service.call(request).await?;
            decision.apply(&mut ActixHeaders::new(
                response.headers_mut(),
                &decision,
                &cache,
                origin.as_ref(),
            ));
            Ok(response.map_into_left_body())
        })
    }
}
