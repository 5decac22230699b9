//! An axum server behind polycors-tower.
//!
//! ```text
//! cargo run -p polycors-tower --example axum
//! curl -i -H 'Origin: https://app.example.com' http://127.0.0.1:3000/
//! curl -i -X OPTIONS -H 'Origin: https://app.example.com' \
//!      -H 'Access-Control-Request-Method: PUT' http://127.0.0.1:3000/items/1
//! curl -i -H 'Origin: https://evil.example' http://127.0.0.1:3000/     # 403
//! ```

use axum::Router;
use axum::routing::{get, put};
use polycors::Policy;
use polycors_tower::CorsLayer;

const POLICY: &str = "
allow_origins: [https://app.example.com]
allow_origin_patterns: ['http://localhost:[*]']
allow_methods: [GET, PUT]
allow_headers: [Content-Type, Authorization]
expose_headers: [X-Request-Id]
allow_credentials: true
max_age: 600
";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = Policy::from_yaml(POLICY)?;
    let app = Router::new()
        .route("/", get(|| async { "hello from axum\n" }))
        .route("/items/{id}", put(|| async { "stored\n" }))
        .layer(CorsLayer::new(policy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
