//! Envoy 1.40's dynamic-modules ABI (`source/extensions/dynamic_modules/abi/abi.h`, ABI
//! version `v0.2.0`), the only module with `unsafe`: the few callbacks the filter calls, the
//! event hooks Envoy resolves, and safe wrappers around both. Declarations are written here
//! from the header's documentation, only for what the filter needs.
//!
//! Every hook runs its body inside [`std::panic::catch_unwind`]: a panic never unwinds into
//! Envoy. A panic while deciding a request answers it 500 and logs; elsewhere it is logged.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{null, null_mut};

use crate::filter::{self, Filter, ModuleConfig};

/// `envoy_dynamic_module_type_envoy_buffer`: bytes owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct EnvoyBuffer {
    ptr: *const u8,
    length: usize,
}

/// `envoy_dynamic_module_type_module_buffer`: bytes owned by the module.
#[repr(C)]
#[derive(Clone, Copy)]
struct ModuleBuffer {
    ptr: *const u8,
    length: usize,
}

impl ModuleBuffer {
    fn of(bytes: &[u8]) -> Self {
        Self {
            ptr: bytes.as_ptr(),
            length: bytes.len(),
        }
    }

    fn null() -> Self {
        Self {
            ptr: null(),
            length: 0,
        }
    }
}

/// `envoy_dynamic_module_type_envoy_http_header`: a header line owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy)]
struct EnvoyHeader {
    key_ptr: *const u8,
    key_length: usize,
    value_ptr: *const u8,
    value_length: usize,
}

/// `envoy_dynamic_module_type_module_http_header`: a header line owned by the module.
#[repr(C)]
struct ModuleHeader {
    key_ptr: *const u8,
    key_length: usize,
    value_ptr: *const u8,
    value_length: usize,
}

/// The signature of `envoy_dynamic_module_callback_http_{set,add}_header`.
type HeaderCallback = unsafe extern "C" fn(*mut c_void, u32, ModuleBuffer, ModuleBuffer) -> bool;

/// `envoy_dynamic_module_type_http_header_type`.
const REQUEST_HEADERS: u32 = 0;
const RESPONSE_HEADERS: u32 = 2;

/// `envoy_dynamic_module_type_attribute_id`: `xds.cluster_name`, `xds.route_name`.
const ATTRIBUTE_CLUSTER_NAME: u32 = 57;
const ATTRIBUTE_ROUTE_NAME: u32 = 61;

/// `envoy_dynamic_module_type_log_level`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogLevel {
    Debug = 1,
    Warn = 3,
    Error = 4,
}

/// `envoy_dynamic_module_type_metrics_result_Success`.
const METRICS_SUCCESS: u32 = 0;

/// The ABI version this module is written against (Envoy 1.40.0).
const ABI_VERSION: &std::ffi::CStr = c"v0.2.0";

unsafe extern "C" {
    fn envoy_dynamic_module_callback_log(level: u32, message: ModuleBuffer);
    fn envoy_dynamic_module_callback_log_enabled(level: u32) -> bool;
    fn envoy_dynamic_module_callback_http_get_headers_size(filter: *mut c_void, kind: u32)
    -> usize;
    fn envoy_dynamic_module_callback_http_get_headers(
        filter: *mut c_void,
        kind: u32,
        result: *mut EnvoyHeader,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_add_header(
        filter: *mut c_void,
        kind: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_header(
        filter: *mut c_void,
        kind: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_send_response(
        filter: *mut c_void,
        status: u32,
        headers: *mut ModuleHeader,
        headers_size: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_send_response_headers(
        filter: *mut c_void,
        headers: *mut ModuleHeader,
        headers_size: usize,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_send_response_data(
        filter: *mut c_void,
        data: ModuleBuffer,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_filter_get_attribute_string(
        filter: *mut c_void,
        attribute: u32,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_config_define_counter(
        config: *mut c_void,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_size: usize,
        id: *mut usize,
    ) -> u32;
    fn envoy_dynamic_module_callback_http_filter_increment_counter(
        filter: *mut c_void,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_size: usize,
        value: u64,
    ) -> u32;
}

// ---------------------------------------------------------------------------------------------
// Safe wrappers.

/// Logs `message` under Envoy's `dynamic_modules` logger.
pub(crate) fn log(level: LogLevel, message: &str) {
    // SAFETY: the buffer describes `message`, which outlives the call.
    unsafe { envoy_dynamic_module_callback_log(level as u32, ModuleBuffer::of(message.as_bytes())) }
}

/// Whether Envoy logs `level` for dynamic modules.
pub(crate) fn log_enabled(level: LogLevel) -> bool {
    // SAFETY: a plain value.
    unsafe { envoy_dynamic_module_callback_log_enabled(level as u32) }
}

/// The filter configuration being created, during `on_http_filter_config_new`.
pub(crate) struct ConfigHandle(*mut c_void);

impl ConfigHandle {
    /// Defines the counter `name`; its id, or `None` if Envoy refuses.
    pub(crate) fn define_counter(&self, name: &str) -> Option<usize> {
        let mut id = 0;
        // SAFETY: `self.0` is the config pointer Envoy passed to this hook; the name buffer
        // outlives the call; no labels.
        let result = unsafe {
            envoy_dynamic_module_callback_http_filter_config_define_counter(
                self.0,
                ModuleBuffer::of(name.as_bytes()),
                null_mut(),
                0,
                &mut id,
            )
        };
        (result == METRICS_SUCCESS).then_some(id)
    }
}

/// One HTTP stream, during one of its hooks. Header slices it returns borrow it and are valid
/// until it sets a header.
pub(crate) struct Stream(*mut c_void);

thread_local! {
    /// Reused space for the header lines Envoy copies out, so reading a map allocates nothing
    /// once warm.
    static LINES: std::cell::Cell<Vec<EnvoyHeader>> = const { std::cell::Cell::new(Vec::new()) };
    /// Reused space for the header lines of a local answer.
    static ANSWER: std::cell::Cell<Vec<ModuleHeader>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A header map's lines, borrowed from Envoy for the current hook (the space that holds their
/// addresses goes back to the thread's pool when dropped).
pub(crate) struct HeaderLines<'hook> {
    lines: Vec<EnvoyHeader>,
    _hook: std::marker::PhantomData<&'hook Stream>,
}

impl<'hook> HeaderLines<'hook> {
    /// Every line, in Envoy's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'hook [u8], &'hook [u8])> + '_ {
        self.lines.iter().map(|line| {
            (
                bytes(line.key_ptr, line.key_length),
                bytes(line.value_ptr, line.value_length),
            )
        })
    }
}

impl Drop for HeaderLines<'_> {
    fn drop(&mut self) {
        let lines = std::mem::take(&mut self.lines);
        LINES.set(lines);
    }
}

impl Stream {
    fn headers(&self, kind: u32) -> HeaderLines<'_> {
        let mut lines = LINES.take();
        // SAFETY: `self.0` is the filter pointer of the running hook.
        let count = unsafe { envoy_dynamic_module_callback_http_get_headers_size(self.0, kind) };
        lines.clear();
        lines.resize(
            count,
            EnvoyHeader {
                key_ptr: null(),
                key_length: 0,
                value_ptr: null(),
                value_length: 0,
            },
        );
        // SAFETY: `lines` has room for `count` headers, as the ABI requires.
        if count > 0
            && !unsafe {
                envoy_dynamic_module_callback_http_get_headers(self.0, kind, lines.as_mut_ptr())
            }
        {
            lines.clear();
        }
        HeaderLines {
            lines,
            _hook: std::marker::PhantomData,
        }
    }

    /// The request header lines (pseudo-headers included), valid for the hook.
    pub(crate) fn request_headers(&self) -> HeaderLines<'_> {
        self.headers(REQUEST_HEADERS)
    }

    /// The response header lines (`:status` included), valid until a header is set.
    pub(crate) fn response_headers(&self) -> HeaderLines<'_> {
        self.headers(RESPONSE_HEADERS)
    }

    /// One of Envoy's header-editing callbacks on the response map.
    fn edit_response(&self, callback: HeaderCallback, name: &[u8], value: ModuleBuffer) -> bool {
        // SAFETY: `self.0` is the filter pointer of the running hook; the key describes a live
        // slice; the value describes a live slice or is the null that removes the header.
        unsafe { callback(self.0, RESPONSE_HEADERS, ModuleBuffer::of(name), value) }
    }

    /// Sets response header `name` to `value`, replacing every line of it.
    pub(crate) fn set_response_header(&self, name: &[u8], value: &[u8]) -> bool {
        let set = envoy_dynamic_module_callback_http_set_header;
        self.edit_response(set, name, ModuleBuffer::of(value))
    }

    /// Adds a response header line `name: value` (for a name the response does not have:
    /// cheaper in Envoy than replacing).
    pub(crate) fn add_response_header(&self, name: &[u8], value: &[u8]) -> bool {
        let add = envoy_dynamic_module_callback_http_add_header;
        self.edit_response(add, name, ModuleBuffer::of(value))
    }

    /// Removes every line of response header `name` (setting a null value removes, per the
    /// ABI).
    pub(crate) fn remove_response_header(&self, name: &[u8]) -> bool {
        let set = envoy_dynamic_module_callback_http_set_header;
        self.edit_response(set, name, ModuleBuffer::null())
    }

    /// Answers the request with `status` and `body` (a generic 500 page; for the panic path).
    pub(crate) fn send_response(&self, status: u16, body: &[u8]) {
        // SAFETY: the buffers describe live slices; no headers.
        unsafe {
            envoy_dynamic_module_callback_http_send_response(
                self.0,
                u32::from(status),
                null_mut(),
                0,
                ModuleBuffer::of(body),
                ModuleBuffer::of(b"polycors"),
            )
        }
    }

    /// Answers the request with the header lines `headers` (`:status` first) and `body`,
    /// written straight to the client (not through Envoy's local-reply path, which would
    /// rewrite the answer).
    pub(crate) fn answer<'h>(
        &self,
        headers: impl IntoIterator<Item = (&'h [u8], &'h [u8])>,
        body: &[u8],
    ) {
        let mut lines = ANSWER.take();
        lines.clear();
        lines.extend(headers.into_iter().map(|(name, value)| ModuleHeader {
            key_ptr: name.as_ptr(),
            key_length: name.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        }));
        // SAFETY: `lines` points into `headers` and `body`, which outlive both calls.
        unsafe {
            envoy_dynamic_module_callback_http_send_response_headers(
                self.0,
                lines.as_mut_ptr(),
                lines.len(),
                body.is_empty(),
            );
            if !body.is_empty() {
                envoy_dynamic_module_callback_http_send_response_data(
                    self.0,
                    ModuleBuffer::of(body),
                    true,
                );
            }
        }
        lines.clear();
        ANSWER.set(lines);
    }

    fn attribute(&self, id: u32) -> Option<&[u8]> {
        let mut result = EnvoyBuffer {
            ptr: null(),
            length: 0,
        };
        // SAFETY: `result` is a valid place for Envoy to write a buffer.
        let found = unsafe {
            envoy_dynamic_module_callback_http_filter_get_attribute_string(self.0, id, &mut result)
        };
        found.then(|| bytes(result.ptr, result.length))
    }

    /// The route's name (`xds.route_name`).
    pub(crate) fn route_name(&self) -> Option<&[u8]> {
        self.attribute(ATTRIBUTE_ROUTE_NAME)
    }

    /// The upstream cluster's name (`xds.cluster_name`).
    pub(crate) fn cluster_name(&self) -> Option<&[u8]> {
        self.attribute(ATTRIBUTE_CLUSTER_NAME)
    }

    /// Adds one to counter `id` (defined by this stream's configuration).
    pub(crate) fn increment_counter(&self, id: usize) {
        // SAFETY: plain values; no labels.
        unsafe {
            envoy_dynamic_module_callback_http_filter_increment_counter(
                self.0,
                id,
                null_mut(),
                0,
                1,
            )
        };
    }
}

/// Bytes Envoy handed over, valid for the current hook.
fn bytes<'a>(ptr: *const u8, length: usize) -> &'a [u8] {
    if ptr.is_null() || length == 0 {
        return &[];
    }
    // SAFETY: Envoy guarantees `length` readable bytes at `ptr` until the end of the hook (or
    // until the module sets a header), and no caller keeps them longer.
    unsafe { std::slice::from_raw_parts(ptr, length) }
}

/// Runs `f`, turning a panic into `fallback` and an error log line.
fn guarded<R>(hook: &str, fallback: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            log(
                LogLevel::Error,
                &format!("polycors: panic in {hook}: {what}"),
            );
            fallback
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Event hooks.

/// The module is loaded: the ABI version it was written against.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const std::ffi::c_char {
    // Panics are caught and logged by the hooks; the default hook would also print them.
    std::panic::set_hook(Box::new(|_| {}));
    ABI_VERSION.as_ptr()
}

/// A filter configuration: the plugin configuration (JSON); null (Envoy rejects it) if invalid.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    config_envoy: *mut c_void,
    _name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> *const c_void {
    guarded("on_http_filter_config_new", null(), || {
        let handle = ConfigHandle(config_envoy);
        match filter::new_config(&handle, bytes(config.ptr, config.length)) {
            Some(config) => Box::into_raw(Box::new(config)) as *const c_void,
            None => null(),
        }
    })
}

/// Frees an object this module handed to Envoy: `object` is null, or the pointer a `new` hook
/// returned from `Box::<T>::into_raw` (a configuration, a filter), which Envoy passes to its
/// `destroy` hook exactly once, after its last use.
fn destroy<T>(hook: &str, object: *const c_void) {
    if object.is_null() {
        return;
    }
    // SAFETY: per the function's contract, `object` is a live `Box<T>` given up by this module
    // and not used again.
    guarded(hook, (), || {
        drop(unsafe { Box::from_raw(object as *mut T) })
    });
}

/// A filter configuration is gone.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: *const c_void) {
    destroy::<ModuleConfig>("on_http_filter_config_destroy", config);
}

/// A stream starts: its filter.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: *const c_void,
    _filter_envoy: *mut c_void,
) -> *const c_void {
    // SAFETY: `config` is null or came from `Box::into_raw` in `on_http_filter_config_new`;
    // Envoy destroys a configuration only after every filter created from it, so the
    // reference outlives each filter that holds it.
    let Some(config) = (unsafe { (config as *const ModuleConfig).as_ref() }) else {
        return null();
    };
    guarded("on_http_filter_new", null(), || {
        Box::into_raw(Box::new(Filter::new(config))) as *const c_void
    })
}

/// The filter of a stream, from the pointer `on_http_filter_new` returned.
///
/// SAFETY (for callers): `filter` must be that pointer, not yet destroyed; Envoy calls a
/// stream's hooks one at a time on its worker thread.
unsafe fn filter_mut<'a>(filter: *const c_void) -> Option<&'a mut Filter> {
    // SAFETY: per the function's contract.
    unsafe { (filter as *mut Filter).as_mut() }
}

/// Runs `f` on a hook's stream and filter; `fallback` when Envoy passed no filter.
fn with_filter<R>(
    filter_envoy: *mut c_void,
    filter: *const c_void,
    fallback: R,
    f: impl FnOnce(&Stream, &mut Filter) -> R,
) -> R {
    // SAFETY: Envoy passes each hook the pointer `on_http_filter_new` returned for its stream.
    match unsafe { filter_mut(filter) } {
        Some(filter) => f(&Stream(filter_envoy), filter),
        None => fallback,
    }
}

/// The request headers: 0 continues, 1 stops (the filter answered).
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy: *mut c_void,
    filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    with_filter(
        filter_envoy,
        filter,
        0,
        |stream, filter| match catch_unwind(AssertUnwindSafe(|| filter.on_request_headers(stream)))
        {
            Ok(action) => action as u32,
            Err(_) => {
                log(
                    LogLevel::Error,
                    "polycors: panic while deciding a request; answered 500",
                );
                filter.fail();
                stream.send_response(500, b"polycors: internal error");
                1
            }
        },
    )
}

/// The response headers (the upstream's, or a local reply): 0 continues.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy: *mut c_void,
    filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    with_filter(filter_envoy, filter, 0, |stream, filter| {
        guarded("on_http_filter_response_headers", 0, || {
            filter.on_response_headers(stream);
            0
        })
    })
}

/// The stream is over: its filter is freed.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_destroy(filter: *const c_void) {
    destroy::<Filter>("on_http_filter_destroy", filter);
}

/// Hooks the filter has no use for: Envoy resolves every one of them.
macro_rules! unused_hooks {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $value:expr;)*) => {
        $(
            /// Not used by this filter.
            #[unsafe(no_mangle)]
            pub extern "C" fn $name($($arg: $ty),*) -> $ret {
                $(let _ = $arg;)*
                $value
            }
        )*
    };
}

unused_hooks! {
    envoy_dynamic_module_on_http_filter_per_route_config_new(name: EnvoyBuffer, config: EnvoyBuffer) -> *const c_void = null();
    envoy_dynamic_module_on_http_filter_per_route_config_destroy(config: *const c_void) -> () = ();
    envoy_dynamic_module_on_http_filter_request_body(filter_envoy: *mut c_void, filter: *const c_void, end: bool) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_request_trailers(filter_envoy: *mut c_void, filter: *const c_void) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_response_body(filter_envoy: *mut c_void, filter: *const c_void, end: bool) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_response_trailers(filter_envoy: *mut c_void, filter: *const c_void) -> u32 = 0;
    envoy_dynamic_module_on_http_filter_stream_complete(filter_envoy: *mut c_void, filter: *const c_void) -> () = ();
    envoy_dynamic_module_on_http_filter_http_callout_done(filter_envoy: *mut c_void, filter: *const c_void, id: u64, result: u32, headers: *const c_void, headers_size: usize, body: *const c_void, body_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_headers(filter_envoy: *mut c_void, filter: *const c_void, id: u64, headers: *const c_void, headers_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_data(filter_envoy: *mut c_void, filter: *const c_void, id: u64, data: *const c_void, data_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_trailers(filter_envoy: *mut c_void, filter: *const c_void, id: u64, trailers: *const c_void, trailers_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_complete(filter_envoy: *mut c_void, filter: *const c_void, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_http_stream_reset(filter_envoy: *mut c_void, filter: *const c_void, id: u64, reason: u32) -> () = ();
    envoy_dynamic_module_on_http_filter_scheduled(filter_envoy: *mut c_void, filter: *const c_void, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_scheduled(config_envoy: *mut c_void, config: *const c_void, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_callout_done(config_envoy: *mut c_void, config: *const c_void, id: u64, result: u32, headers: *const c_void, headers_size: usize, body: *const c_void, body_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_headers(config_envoy: *mut c_void, config: *const c_void, id: u64, headers: *const c_void, headers_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_data(config_envoy: *mut c_void, config: *const c_void, id: u64, data: *const c_void, data_size: usize, end: bool) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_trailers(config_envoy: *mut c_void, config: *const c_void, id: u64, trailers: *const c_void, trailers_size: usize) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_complete(config_envoy: *mut c_void, config: *const c_void, id: u64) -> () = ();
    envoy_dynamic_module_on_http_filter_config_http_stream_reset(config_envoy: *mut c_void, config: *const c_void, id: u64, reason: u32) -> () = ();
    envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(filter_envoy: *mut c_void, filter: *const c_void) -> () = ();
    envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(filter_envoy: *mut c_void, filter: *const c_void) -> () = ();
    envoy_dynamic_module_on_http_filter_local_reply(filter_envoy: *mut c_void, filter: *const c_void, status: u32, details: EnvoyBuffer, reset: bool) -> u32 = 0;
}
