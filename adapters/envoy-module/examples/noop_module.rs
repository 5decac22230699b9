//! A dynamic module whose HTTP filter does nothing: what any dynamic-module filter costs in
//! Envoy before it does any work (`cargo xtask bench --envoy` measures polycors against it).
//! Every hook Envoy resolves is exported; none calls back into Envoy.

// `no_mangle` exports are what a dynamic module is; no `unsafe` block is needed here.
#![allow(unsafe_code)]

#[path = "shared/hooks.rs"]
#[macro_use]
mod shared;

use shared::{Buffer, C, P, SOMETHING};

other_hooks!();

hooks! {
    envoy_dynamic_module_on_http_filter_request_headers(filter_envoy: P, filter: C, end: bool) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_response_headers(filter_envoy: P, filter: C, end: bool) -> u32 = 0;
}
