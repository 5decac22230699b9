//! polycors-tower, driven through `tower::ServiceExt::oneshot` with a recording upstream.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use polycors::Verdict;
use polycors_tower::CorsLayer;
use tower::{Layer, ServiceExt, service_fn};

use crate::{Case, Outcome, Target, normalise_headers};

/// Normalised header lines, as an [`Outcome`] holds them.
type HeaderLines = Vec<(String, String)>;

/// polycors-tower in front of a recording upstream.
#[derive(Debug)]
pub struct Tower {
    runtime: tokio::runtime::Runtime,
}

impl Default for Tower {
    fn default() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
        }
    }
}

impl Target for Tower {
    fn name(&self) -> &'static str {
        "tower"
    }

    fn run(&mut self, case: &Case) -> Vec<Outcome> {
        let layer = CorsLayer::new(case.policy()).record_verdicts(true);
        case.requests
            .iter()
            .map(|request| {
                let seen: Arc<Mutex<Option<HeaderLines>>> = Arc::default();
                let upstream = request.upstream.clone();
                let recorder = Arc::clone(&seen);
                let inner = service_fn(move |req: Request<Full<Bytes>>| {
                    let upstream = upstream.clone();
                    let recorder = Arc::clone(&recorder);
                    async move {
                        *recorder.lock().unwrap() = Some(normalise_headers(
                            req.headers()
                                .iter()
                                .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
                        ));
                        let mut response = Response::builder().status(upstream.status);
                        for (name, value) in &upstream.headers {
                            response = response.header(name, value);
                        }
                        Ok::<_, Infallible>(
                            response
                                .body(Full::new(Bytes::from(upstream.body)))
                                .unwrap(),
                        )
                    }
                });
                let mut builder = Request::builder()
                    .method(request.method.as_str())
                    .uri(format!("http://{}{}", request.authority, request.path))
                    .header("host", &request.authority);
                for line in &request.headers {
                    let (name, value) = line.pair();
                    builder = builder.header(name, value);
                }
                let http_request = builder
                    .body(Full::new(Bytes::new()))
                    .expect("valid request");
                let response = self
                    .runtime
                    .block_on(layer.layer(inner).oneshot(http_request))
                    .expect("infallible");
                let (parts, body) = response.into_parts();
                let body = self
                    .runtime
                    .block_on(body.collect())
                    .expect("body")
                    .to_bytes();
                let upstream_saw = seen.lock().unwrap().take();
                Outcome {
                    request: request.name.clone(),
                    answered_by: if upstream_saw.is_some() {
                        "upstream"
                    } else {
                        "policy"
                    },
                    status: parts.status.as_u16(),
                    reason: parts
                        .extensions
                        .get::<Verdict>()
                        .and_then(|v| v.reason())
                        .map(|r| r.code().to_owned()),
                    headers: normalise_headers(
                        parts
                            .headers
                            .iter()
                            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
                    ),
                    body: crate::show(&body),
                    upstream_saw,
                }
            })
            .collect()
    }
}
