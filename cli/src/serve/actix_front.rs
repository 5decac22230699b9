//! polycors-actix on actix-web's own server.

use std::net::TcpListener;

use actix_web::dev::Service;
use actix_web::middleware::Condition;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use polycors::{Policy, Verdict};
use polycors_actix::Cors;

use super::log;
use super::upstream::{UpstreamRequest, httpbin};

async fn upstream(request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let target = request.uri().to_string();
    let answer = httpbin(&UpstreamRequest {
        method: request.method().as_str(),
        target: &target,
        headers,
        body: &body,
    });
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in &answer.headers {
        response.append_header((name.as_str(), value.as_str()));
    }
    response.body(answer.body)
}

/// Serves polycors-actix in front of the upstream (two workers); without a policy
/// (`--no-policy`), the upstream alone.
pub fn serve(listener: TcpListener, policy: Option<Policy>) -> std::io::Result<()> {
    let enabled = policy.is_some();
    let policy = policy.unwrap_or_default();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            // The last `wrap` is the outermost: the log sees the middleware's own answers.
            App::new()
                .wrap(Condition::new(
                    enabled,
                    Cors::new(policy.clone()).record_verdicts(!log::quiet()),
                ))
                .wrap_fn(move |request, service| {
                    if log::quiet() {
                        let call = service.call(request);
                        return Box::pin(call) as futures_util::future::LocalBoxFuture<'static, _>;
                    }
                    let method = request.method().to_string();
                    let target = request.uri().to_string();
                    let origin = request
                        .headers()
                        .get(actix_web::http::header::ORIGIN)
                        .map(|o| o.as_bytes().to_vec());
                    let call = service.call(request);
                    Box::pin(async move {
                        let response = call.await?;
                        let verdict = response.response().extensions().get::<Verdict>().copied();
                        println!(
                            "{}",
                            log::line(
                                &method,
                                &target,
                                origin.as_deref(),
                                &log::decision(verdict),
                                response.status().as_u16()
                            )
                        );
                        Ok(response)
                    })
                })
                .default_service(web::to(upstream))
        })
        .workers(2)
        .listen(listener)?
        .run()
        .await
    })
}
