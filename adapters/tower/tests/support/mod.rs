//! What the tower layer's tests share: one request through a layer to a handler that answers
//! 200 with no body.

use std::convert::Infallible;

use http::{Request, Response};
use polycors_tower::{CorsBody, CorsLayer};
use tower::{Layer, ServiceExt, service_fn};

/// Sends `method /` with `headers` (a `host` among them, if any) through `layer`.
pub async fn send(
    layer: &CorsLayer,
    method: &str,
    headers: &[(&str, &str)],
) -> Response<CorsBody<()>> {
    let service = layer.layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(()))
    }));
    let mut request = Request::builder().method(method).uri("/");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    service
        .oneshot(request.body(()).expect("a request"))
        .await
        .expect("infallible")
}
