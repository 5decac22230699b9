//! A dynamic module whose HTTP filter makes only the calls a CORS filter must make on an
//! allowed request, with constant values. An actual request: read the request headers, read the
//! response headers, add the five headers docs/behaviour.md requires for the benchmark's policy
//! (`x-cors-version`, allow-origin, expose-headers, allow-credentials, `Vary`). An `OPTIONS`
//! request: read the request headers, answer with the preflight's status, eight headers and
//! `content-length`, as the real module does. No policy, no decision: the floor any
//! dynamic-module CORS filter pays in Envoy for those requests (`cargo xtask bench --envoy`).

// `no_mangle` exports are what a dynamic module is; the calls into Envoy below are FFI.
#![allow(unsafe_code)]

#[path = "shared/hooks.rs"]
#[macro_use]
mod shared;

use shared::{Buffer, C, P, SOMETHING};

/// `envoy_dynamic_module_type_envoy_http_header`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Header(*const u8, usize, *const u8, usize);

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_get_headers_size(filter: P, kind: u32) -> usize;
    fn envoy_dynamic_module_callback_http_get_headers(
        filter: P,
        kind: u32,
        out: *mut Header,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_send_response_headers(
        filter: P,
        headers: *mut Header,
        headers_size: usize,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_add_header(
        filter: P,
        kind: u32,
        key: Buffer,
        value: Buffer,
    ) -> bool;
}

const REQUEST: u32 = 0;
const RESPONSE: u32 = 2;

/// The benchmark's allowed preflight answer, as the real module sends it.
const PREFLIGHT_ANSWER: [(&str, &str); 10] = [
    (":status", "200"),
    ("x-cors-version", "1.0.0"),
    (
        "access-control-allow-origin",
        "http://httpbin2.example.org:9090",
    ),
    ("access-control-allow-methods", "GET,POST,PATCH"),
    (
        "access-control-allow-headers",
        "Content-Type,Token,Authorization",
    ),
    ("access-control-expose-headers", "X-Custom-Header,X-Env-UTM"),
    ("access-control-allow-credentials", "true"),
    ("access-control-max-age", "3600"),
    (
        "vary",
        "Origin,Access-Control-Request-Method,Access-Control-Request-Headers",
    ),
    ("content-length", "0"),
];

/// Reads every line of header map `kind` as the real module does; whether it is an `OPTIONS`
/// request.
fn read(filter: P, kind: u32) -> bool {
    let mut lines = [Header(std::ptr::null(), 0, std::ptr::null(), 0); 32];
    // SAFETY: `filter` is the hook's filter pointer; `lines` has room for the 32 lines the
    // benchmark's requests and responses stay under (checked before writing).
    let count = unsafe {
        let count = envoy_dynamic_module_callback_http_get_headers_size(filter, kind);
        if count > lines.len()
            || !envoy_dynamic_module_callback_http_get_headers(filter, kind, lines.as_mut_ptr())
        {
            return false;
        }
        count
    };
    lines[..count]
        .iter()
        .any(|&Header(name, name_length, value, value_length)| {
            // SAFETY: Envoy filled these lines with pointers into its header map, live during the hook.
            let (name, value) = unsafe {
                (
                    std::slice::from_raw_parts(name, name_length),
                    std::slice::from_raw_parts(value, value_length),
                )
            };
            name == b":method" && value == b"OPTIONS"
        })
}

/// Answers with [`PREFLIGHT_ANSWER`].
fn answer_preflight(filter: P) {
    let mut lines = PREFLIGHT_ANSWER
        .map(|(name, value)| Header(name.as_ptr(), name.len(), value.as_ptr(), value.len()));
    // SAFETY: `lines` describes constant strings; Envoy copies them during the call.
    unsafe {
        envoy_dynamic_module_callback_http_send_response_headers(
            filter,
            lines.as_mut_ptr(),
            lines.len(),
            true,
        );
    }
}

/// Adds `name: value` to the response.
fn add(filter: P, name: &str, value: &str) {
    let buffer = |s: &str| Buffer(s.as_ptr(), s.len());
    // SAFETY: both buffers describe live string slices.
    unsafe {
        envoy_dynamic_module_callback_http_add_header(filter, RESPONSE, buffer(name), buffer(value))
    };
}

other_hooks!();

/// The request headers: read, then continue.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy: P,
    _filter: C,
    _end: bool,
) -> u32 {
    if read(filter_envoy, REQUEST) {
        answer_preflight(filter_envoy);
        return 1;
    }
    0
}

/// The response headers: read, then the five headers added.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy: P,
    _filter: C,
    _end: bool,
) -> u32 {
    read(filter_envoy, RESPONSE);
    add(filter_envoy, "x-cors-version", "1.0.0");
    add(
        filter_envoy,
        "access-control-allow-origin",
        "http://httpbin2.example.org:9090",
    );
    add(
        filter_envoy,
        "access-control-expose-headers",
        "X-Custom-Header,X-Env-UTM",
    );
    add(filter_envoy, "access-control-allow-credentials", "true");
    add(filter_envoy, "vary", "Origin");
    0
}
