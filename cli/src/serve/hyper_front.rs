//! The hyper front end shared by the tower and proxy-wasm adapters.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use polycors::{Policy, Verdict};
use polycors_tower::CorsLayer;
use polycors_wasm_host::{HttpRequest, HttpResponse, PluginInstance, upstream_lines};
use tower::{Layer, ServiceExt, service_fn};

use super::log;
use super::upstream::{UpstreamRequest, UpstreamResponse, httpbin};

type Body = Full<Bytes>;

/// The request's header lines, for the upstream.
fn header_lines<B>(request: &Request<B>) -> Vec<(String, Vec<u8>)> {
    request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// What a log line needs from the request, taken before the request is consumed.
struct Seen {
    method: String,
    target: String,
    origin: Option<Vec<u8>>,
}

impl Seen {
    fn of<B>(request: &Request<B>) -> Option<Self> {
        (!log::quiet()).then(|| Self {
            method: request.method().to_string(),
            target: request.uri().to_string(),
            origin: request
                .headers()
                .get(http::header::ORIGIN)
                .map(|o| o.as_bytes().to_vec()),
        })
    }

    /// Prints the line for the response: the verdict the layer put in its extensions.
    fn log<B>(self, response: &Response<B>) {
        let decision = log::decision(response.extensions().get::<Verdict>().copied());
        println!(
            "{}",
            log::line(
                &self.method,
                &self.target,
                self.origin.as_deref(),
                &decision,
                response.status().as_u16()
            )
        );
    }
}

fn to_response(upstream: UpstreamResponse) -> Response<Body> {
    let mut builder = Response::builder().status(upstream.status);
    for (name, value) in &upstream.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(upstream.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"bad upstream response"))))
}

async fn upstream(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = request.method().to_string();
    let target = request.uri().to_string();
    let headers = header_lines(&request);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(to_response(httpbin(&UpstreamRequest {
        method: &method,
        target: &target,
        headers,
        body: &body,
    })))
}

async fn accept_loop<F, Fut>(listener: tokio::net::TcpListener, handle: F) -> std::io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<
            Output = Result<
                Response<http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>>,
                Infallible,
            >,
        > + Send
        + 'static,
{
    loop {
        let (stream, _) = listener.accept().await?;
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Serves the upstream alone, without logging (the Envoy front end logs for it): the
/// baseline for load tests (`--no-policy`). It goes through the same per-request plumbing as
/// [`serve_tower`], so that a load test's ratio is the layer's cost alone.
pub async fn serve_plain(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_service(listener, service_fn(upstream), false).await
}

/// Serves polycors-tower in front of the upstream.
pub async fn serve_tower(listener: tokio::net::TcpListener, policy: Policy) -> std::io::Result<()> {
    // `cargo xtask serve` listens on plain HTTP: the scheme is known.
    let cors = CorsLayer::new(policy)
        .scheme("http")
        .record_verdicts(!log::quiet());
    serve_service(listener, cors.layer(service_fn(upstream)), true).await
}

/// Serves a tower service: each request goes to a clone of it, and is logged when `log` is set
/// and `--quiet` is not.
async fn serve_service<S, B>(
    listener: tokio::net::TcpListener,
    service: S,
    log: bool,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    accept_loop(listener, move |request: Request<Incoming>| {
        let seen = if log { Seen::of(&request) } else { None };
        let service = service.clone();
        async move {
            let response = service.oneshot(request).await?;
            if let Some(seen) = seen {
                seen.log(&response);
            }
            let (parts, body) = response.into_parts();
            let body = body
                .map_err(|e| std::io::Error::other(e.to_string()))
                .boxed_unsync();
            Ok(Response::from_parts(parts, body))
        }
    })
    .await
}

/// Locks a free plugin instance (there is one per worker thread), or waits for the first.
fn lock_any(instances: &[Mutex<PluginInstance>]) -> std::sync::MutexGuard<'_, PluginInstance> {
    instances
        .iter()
        .find_map(|m| m.try_lock().ok())
        .unwrap_or_else(|| {
            instances[0]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
}

/// Serves the proxy-wasm plugin (inside polycors-wasm-host) in front of the upstream; the
/// plugin logs each request's line itself (at debug level, unless `--quiet`).
pub async fn serve_proxy_wasm(
    listener: tokio::net::TcpListener,
    instances: Vec<PluginInstance>,
) -> std::io::Result<()> {
    let instances: Arc<Vec<Mutex<PluginInstance>>> =
        Arc::new(instances.into_iter().map(Mutex::new).collect());
    accept_loop(listener, move |request: Request<Incoming>| {
        let instances = Arc::clone(&instances);
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let authority = parts
                .headers
                .get(http::header::HOST)
                .map(|h| h.as_bytes().to_vec())
                .or_else(|| {
                    parts
                        .uri
                        .authority()
                        .map(|a| a.as_str().as_bytes().to_vec())
                })
                .unwrap_or_default();
            let target = parts.uri.to_string();
            let mut http = HttpRequest::new(parts.method.as_str(), "http", "", &target);
            http.authority = authority;
            http.headers = parts
                .headers
                .iter()
                .filter(|(n, _)| *n != http::header::HOST)
                .map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            let method = parts.method.to_string();
            let result = {
                let mut instance = lock_any(&instances);
                let result = instance.http_request(&http, |forwarded| {
                    let headers = upstream_lines(forwarded)
                        .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), v.to_vec()))
                        .collect();
                    let answer = httpbin(&UpstreamRequest {
                        method: &method,
                        target: &target,
                        headers,
                        body: &body,
                    });
                    let mut response = HttpResponse::new(answer.status).body(answer.body);
                    for (name, value) in &answer.headers {
                        response = response.header(name, value);
                    }
                    response
                });
                for line in instance.take_log() {
                    if matches!(line.level, "warn" | "error" | "critical" | "stderr") {
                        eprintln!("plugin {}: {}", line.level, line.message.trim_end());
                    } else if let Some(line) = log::plugin_line(&line.message) {
                        println!("{line}");
                    }
                }
                result
            };
            let response = match result {
                Ok(exchange) => {
                    let mut builder = Response::builder().status(exchange.response.status);
                    for (name, value) in &exchange.response.headers {
                        if name != b"content-length" {
                            builder = builder.header(&name[..], &value[..]);
                        }
                    }
                    builder
                        .body(Full::new(Bytes::from(exchange.response.body)))
                        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
                }
                Err(error) => {
                    eprintln!("plugin failure: {error}");
                    let mut response = Response::new(Full::new(Bytes::from(format!("{error}\n"))));
                    *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                    response
                }
            };
            let (parts, body) = response.into_parts();
            let body = body.map_err(|e| match e {}).boxed_unsync();
            Ok(Response::from_parts(parts, body))
        }
    })
    .await
}
