//! polycors-actix, driven through `actix_web::test` with a recording upstream.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::body::to_bytes;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use polycors::Verdict;
use polycors_actix::Cors;

use crate::{Case, Outcome, Target, Upstream, normalise_headers};

/// polycors-actix in front of a recording upstream.
#[derive(Debug, Default)]
pub struct Actix;

#[derive(Default)]
struct Recorder {
    upstream: Upstream,
    saw: Option<Vec<(String, String)>>,
}

impl Target for Actix {
    fn name(&self) -> &'static str {
        "actix"
    }

    fn run(&mut self, case: &Case) -> Vec<Outcome> {
        let policy = case.policy();
        actix_web::rt::System::new().block_on(async move {
            let recorder: Rc<RefCell<Recorder>> = Rc::default();
            let handler_recorder = Rc::clone(&recorder);
            let app = test::init_service(
                App::new()
                    .wrap(Cors::new(policy).record_verdicts(true))
                    .default_service(web::to(move |req: HttpRequest| {
                        let recorder = Rc::clone(&handler_recorder);
                        async move {
                            let mut recorder = recorder.borrow_mut();
                            recorder.saw = Some(normalise_headers(
                                req.headers()
                                    .iter()
                                    .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
                            ));
                            let upstream = &recorder.upstream;
                            let mut response = HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(upstream.status).unwrap(),
                            );
                            for (name, value) in &upstream.headers {
                                response.append_header((name.as_str(), value.as_str()));
                            }
                            response.body(upstream.body.clone())
                        }
                    })),
            )
            .await;
            let mut outcomes = Vec::new();
            for request in &case.requests {
                *recorder.borrow_mut() = Recorder {
                    upstream: request.upstream.clone(),
                    saw: None,
                };
                let mut test_request = test::TestRequest::default()
                    .method(request.method.parse().expect("valid method"))
                    .uri(&format!("http://{}{}", request.authority, request.path))
                    .insert_header(("host", request.authority.as_str()));
                for line in &request.headers {
                    let (name, value) = line.pair();
                    test_request = test_request.append_header((name, value));
                }
                let response = test::call_service(&app, test_request.to_request()).await;
                let status = response.status().as_u16();
                let reason = response
                    .response()
                    .extensions()
                    .get::<Verdict>()
                    .and_then(|v| v.reason())
                    .map(|r| r.code().to_owned());
                let headers = normalise_headers(
                    response
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
                );
                let body = to_bytes(response.into_body()).await.unwrap_or_default();
                let upstream_saw = recorder.borrow_mut().saw.take();
                outcomes.push(Outcome {
                    request: request.name.clone(),
                    answered_by: if upstream_saw.is_some() {
                        "upstream"
                    } else {
                        "policy"
                    },
                    status,
                    reason,
                    headers,
                    body: crate::show(&body),
                    upstream_saw,
                });
            }
            outcomes
        })
    }
}
