//! Bounds on configurations and requests. A leaf module: everything else may use it.

/// Largest configuration document accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Largest accepted `max_age` (the largest delta-seconds caches must honour, RFC 9111).
pub const MAX_MAX_AGE: u64 = 2_147_483_647;
/// Most names accepted in `Access-Control-Request-Headers` (empty items do not count).
pub const MAX_REQUEST_HEADER_NAMES: usize = 64;
/// Most bytes accepted in `Access-Control-Request-Headers` (all lines together).
pub const MAX_REQUEST_HEADERS_BYTES: usize = 4096;
