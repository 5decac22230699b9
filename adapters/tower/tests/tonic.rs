//! The layer in a tonic server: tonic puts its own bounds on layers (a `Clone + Send` service
//! over `Request<tonic::body::Body>` whose response body has `Bytes` data and boxable errors,
//! a `Send` future). Building the server's `serve` future checks all of them; serving a real
//! request is covered by the hyper and axum tests.

use polycors::Policy;
use polycors_tower::CorsLayer;

#[test]
fn the_layer_fits_a_tonic_server() {
    let policy = Policy::from_yaml(
        "allow_origins: [https://app.example.com]\nexpose_headers: [grpc-status, grpc-message]",
    )
    .expect("valid");
    let router = tonic::transport::Server::builder()
        .layer(CorsLayer::new(policy))
        .add_routes(tonic::service::Routes::default());
    let serving = router.serve("127.0.0.1:0".parse().expect("an address"));
    // Not polled: the type checks are the point.
    drop(serving);
}
