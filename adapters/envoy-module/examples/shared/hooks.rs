//! What the benchmark's baseline dynamic modules share: the exports Envoy resolves, doing
//! nothing. Included with `#[path]` by `noop_module.rs` and `floor_module.rs`.

#![allow(dead_code)]

use std::ffi::c_void;

/// Any non-null pointer: the configuration and filter objects this module never reads.
pub const SOMETHING: *const c_void = std::ptr::dangling();

macro_rules! hooks {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $value:expr;)*) => {
        $(
            /// An event hook that does nothing.
            #[unsafe(no_mangle)]
            pub extern "C" fn $name($($arg: $ty),*) -> $ret {
                $(let _ = $arg;)*
                $value
            }
        )*
    };
}

/// Two machine words: `envoy_dynamic_module_type_envoy_buffer`, passed by value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer(pub *const u8, pub usize);

pub type P = *mut c_void;
pub type C = *const c_void;

/// Every hook but the two header hooks, which each example writes.
macro_rules! other_hooks {
    () => {
        hooks! {
    envoy_dynamic_module_on_program_init() -> *const std::ffi::c_char = c"v0.2.0".as_ptr();
    envoy_dynamic_module_on_http_filter_config_new(config_envoy: P, name: Buffer, config: Buffer) -> C = SOMETHING;
    envoy_dynamic_module_on_http_filter_config_destroy(config: C) -> () = ();
    envoy_dynamic_module_on_http_filter_new(config: C, filter_envoy: P) -> C = SOMETHING;
    envoy_dynamic_module_on_http_filter_destroy(filter: C) -> () = ();
    envoy_dynamic_module_on_http_filter_per_route_config_new(name: Buffer, config: Buffer) -> C = std::ptr::null();
    envoy_dynamic_module_on_http_filter_per_route_config_destroy(config: C) -> () = ();
    envoy_dynamic_module_on_http_filter_request_body(filter_envoy: P, filter: C, end: bool) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_request_trailers(filter_envoy: P, filter: C) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_response_body(filter_envoy: P, filter: C, end: bool) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_response_trailers(filter_envoy: P, filter: C) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_stream_complete(filter_envoy: P, filter: C) -> () = ();
    envoy_dynamic_module_on_http_filter_http_callout_done(filter_envoy: P, filter: C, id: u64, result: u32, headers: C, headers_size: usize, body: C, body_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_headers(filter_envoy: P, filter: C, id: u64, headers: C, headers_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_data(filter_envoy: P, filter: C, id: u64, data: C, data_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_trailers(filter_envoy: P, filter: C, id: u64, trailers: C, trailers_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_complete(filter_envoy: P, filter: C, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_reset(filter_envoy: P, filter: C, id: u64, reason: u32) -> () = ();
    envoy_dynamic_module_on_http_filter_scheduled(filter_envoy: P, filter: C, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_scheduled(config_envoy: P, config: C, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_callout_done(config_envoy: P, config: C, id: u64, result: u32, headers: C, headers_size: usize, body: C, body_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_headers(config_envoy: P, config: C, id: u64, headers: C, headers_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_data(config_envoy: P, config: C, id: u64, data: C, data_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_trailers(config_envoy: P, config: C, id: u64, trailers: C, trailers_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_complete(config_envoy: P, config: C, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_reset(config_envoy: P, config: C, id: u64, reason: u32) -> () = ();
    envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(filter_envoy: P, filter: C) -> () = ();
    envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(filter_envoy: P, filter: C) -> () = ();
    envoy_dynamic_module_on_http_filter_local_reply(filter_envoy: P, filter: C, status: u32, details: Buffer, reset: bool) -> u32 = 0;
        }
    };
}
