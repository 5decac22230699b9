//! An actix-web server behind polycors-actix.
//!
//! ```text
//! cargo run -p polycors-actix --example actix
//! curl -i -H 'Origin: https://app.example.com' http://127.0.0.1:3001/
//! curl -i -X OPTIONS -H 'Origin: https://app.example.com' \
//!      -H 'Access-Control-Request-Method: PUT' http://127.0.0.1:3001/items/1
//! curl -i -H 'Origin: https://evil.example' http://127.0.0.1:3001/     # 403
//! ```

use actix_web::{App, HttpServer, web};
use polycors::Policy;
use polycors_actix::Cors;

const POLICY: &str = "
allow_origins: [https://app.example.com]
allow_origin_patterns: ['http://localhost:[*]']
allow_methods: [GET, PUT]
allow_headers: [Content-Type, Authorization]
expose_headers: [X-Request-Id]
allow_credentials: true
max_age: 600
";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let policy = Policy::from_yaml(POLICY).map_err(std::io::Error::other)?;
    println!("listening on http://127.0.0.1:3001");
    HttpServer::new(move || {
        App::new()
            .wrap(Cors::new(policy.clone()))
            .route("/", web::get().to(|| async { "hello from actix-web\n" }))
            .route("/items/{id}", web::put().to(|| async { "stored\n" }))
    })
    .workers(1)
    .bind(("127.0.0.1", 3001))?
    .run()
    .await
}
