//! # polycors-tower
//!
//! [polycors] as a [`tower`](https://docs.rs/tower) layer over `http` 1.x types, for
//! axum, hyper and tonic, with any request and response body.
//!
//! Preflights and rejections are answered by the layer without calling the inner service;
//! allowed requests are forwarded and the response gets its CORS headers. All decisions are
//! the core's: this crate only translates `http` types.
//!
//! ```
//! use axum::{Router, routing::get};
//! use polycors::Policy;
//! use polycors_tower::CorsLayer;
//!
//! let policy = Policy::from_yaml("allow_origins: [https://app.example.com]\nallow_credentials: true")?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(CorsLayer::new(policy));
//! # Ok::<(), polycors::InvalidConfig>(())
//! ```
//!
//! ## Same-origin requests and TLS-terminating proxies
//!
//! A request whose `Origin` equals its own origin is not a CORS request. The layer takes the
//! authority from the request URI or the `Host` header, and the scheme from the request URI
//! when it has one (HTTP/2). Plain HTTP/1 requests carry no scheme, so hosts and explicit
//! ports are compared. Behind a proxy that terminates TLS, tell the layer the public scheme:
//! `CorsLayer::new(policy).scheme("https")`; behind a proxy that sets `Forwarded` or
//! `X-Forwarded-Host` / `X-Forwarded-Proto`, `.trust_forwarded_headers(true)` takes them as the
//! client's view (off by default, as with the actix-web middleware: any client can send them).

#![forbid(unsafe_code)]

/// The README's and the tower guide's code, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
#[doc = include_str!("../../../docs/tower.md")]
#[doc = include_str!("../../../docs/migrating-from-tower-http.md")]
pub struct Guides;

mod async_predicate;
mod body;
mod headers;
mod service;

pub use async_predicate::{AsyncCors, AsyncCorsLayer, AsyncResponseFuture};
pub use body::CorsBody;
pub use headers::request_view;
pub use service::{Cors, CorsLayer, ResponseFuture};
