//! One [`Target`](crate::Target) per adapter.

mod actix;
mod core;
mod envoy;
mod proxy_wasm;
mod tower;

pub use self::actix::Actix;
pub use self::core::Core;
pub use self::envoy::Envoy;
pub use self::proxy_wasm::{DEBUG, ProxyWasm};
pub use self::tower::Tower;
