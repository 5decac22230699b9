//! The configuration's fields and their defaults (the seed plugin's). A leaf module.

/// The configuration fields, in documentation order.
pub const FIELDS: [&str; 11] = [
    "allow_origins",
    "allow_origin_patterns",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "forward_disallowed_requests",
    "debug",
    "allow_origin_predicate",
];

/// `allow_methods` when not configured.
pub const METHODS: [&str; 6] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];
/// `allow_headers` when not configured.
pub const HEADERS: [&str; 9] = [
    "DNT",
    "X-CustomHeader",
    "Keep-Alive",
    "User-Agent",
    "X-Requested-With",
    "If-Modified-Since",
    "Cache-Control",
    "Content-Type",
    "Authorization",
];
/// `max_age` when not configured.
pub const MAX_AGE: u64 = 86400;
/// The longest preflight cache every browser honours (WebKit's cap; Chromium caps at 7200,
/// Firefox at 86400): a larger `max_age` is warned about.
pub const MAX_AGE_ALL_BROWSERS: u64 = 600;
