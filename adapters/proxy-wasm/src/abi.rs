//! The proxy-wasm ABI 0.2.1, the only module with `unsafe`: the host functions the plugin calls
//! (module `env`, behind the [`Host`] trait), the functions it exports, the memory the host
//! writes its answers into, and the log.
//!
//! Every callback from the host enters a [`Call`]. Data the host returns during the call
//! (header values, header maps, the configuration) is written into an arena the plugin owns
//! (`proxy_on_memory_allocate`), and the safe wrappers hand it out as slices that borrow the
//! [`Call`]: they cannot outlive the callback, and the arena is reused by the next one, so
//! reading from the host allocates nothing once the arena has grown to the largest request.
//! No wrapper panics: every host status is handled.

use std::alloc::{GlobalAlloc, Layout, System, alloc, dealloc};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::ptr::{NonNull, null, null_mut};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::host::{Host, HostStatus, Map};

/// proxy-wasm `WasmResult::Ok`.
const OK: u32 = 0;
/// The plugin configuration buffer.
const PLUGIN_CONFIGURATION: u32 = 7;
/// proxy-wasm `MetricType::Counter`.
const COUNTER: u32 = 0;

mod host {
    #[link(wasm_import_module = "env")]
    unsafe extern "C" {
        pub(super) fn proxy_log(level: u32, message: *const u8, size: usize) -> u32;
        pub(super) fn proxy_get_log_level(level: *mut u32) -> u32;
        pub(super) fn proxy_get_buffer_bytes(
            buffer: u32,
            start: usize,
            max: usize,
            data: *mut *mut u8,
            size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_get_header_map_pairs(
            map: u32,
            data: *mut *mut u8,
            size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_replace_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
        ) -> u32;
        pub(super) fn proxy_remove_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
        ) -> u32;
        pub(super) fn proxy_get_property(
            path: *const u8,
            path_size: usize,
            data: *mut *mut u8,
            size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_define_metric(
            metric_type: u32,
            name: *const u8,
            name_size: usize,
            id: *mut u32,
        ) -> u32;
        pub(super) fn proxy_increment_metric(id: u32, offset: i64) -> u32;
        pub(super) fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
        #[allow(clippy::too_many_arguments)]
        pub(super) fn proxy_send_local_response(
            status: u32,
            details: *const u8,
            details_size: usize,
            body: *const u8,
            body_size: usize,
            headers: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
    }

    #[cfg(target_os = "wasi")]
    unsafe extern "C" {
        /// Runs static constructors (wasi-libc's among them); the linker provides it.
        pub(super) fn __wasm_call_ctors();
    }
}

// ---------------------------------------------------------------------------------------------
// The arena the host writes into.

/// Chunks of memory handed to the host, reused from one callback to the next. Chunks are raw
/// allocations that are never moved, and no reference to their bytes is ever created here,
/// so slices the wrappers hand out stay valid until [`Arena::reset`].
struct Arena {
    chunks: Vec<(NonNull<u8>, usize)>,
    /// The chunk being filled, and how much of it is used.
    current: usize,
    used: usize,
    /// How many callbacks are running (a host that called back while the plugin is inside a
    /// host call must not reset the arena under the outer callback).
    depth: usize,
}

/// The first chunk's size: enough for the headers of any ordinary request.
const CHUNK: usize = 16 * 1024;
/// Chunks beyond this total are freed when a callback ends, so one huge request does not pin
/// memory for good.
const RETAINED: usize = 256 * 1024;
const ALIGN: usize = 8;

impl Arena {
    const fn new() -> Self {
        Self {
            chunks: Vec::new(),
            current: 0,
            used: 0,
            depth: 0,
        }
    }

    fn allocate(&mut self, size: usize) -> *mut u8 {
        let size = size.max(1).next_multiple_of(ALIGN);
        while let Some(&(base, capacity)) = self.chunks.get(self.current) {
            if capacity - self.used >= size {
                let at = self.used;
                self.used += size;
                // In bounds: `at + size <= capacity`.
                return base.as_ptr().wrapping_add(at);
            }
            self.current += 1;
            self.used = 0;
        }
        let capacity = size.max(CHUNK);
        let Ok(layout) = Layout::from_size_align(capacity, ALIGN) else {
            return null_mut();
        };
        // SAFETY: `layout` has a non-zero size.
        let Some(base) = NonNull::new(unsafe { alloc(layout) }) else {
            return null_mut();
        };
        self.chunks.push((base, capacity));
        self.current = self.chunks.len() - 1;
        self.used = size;
        base.as_ptr()
    }

    fn reset(&mut self) {
        self.current = 0;
        self.used = 0;
        let mut total = 0;
        self.chunks.retain(|&(base, capacity)| {
            total += capacity;
            if total <= RETAINED {
                return true;
            }
            if let Ok(layout) = Layout::from_size_align(capacity, ALIGN) {
                // SAFETY: allocated in `allocate` with this layout; no slice into it outlives
                // the callback that just ended.
                unsafe { dealloc(base.as_ptr(), layout) };
            }
            false
        });
    }
}

thread_local! {
    static ARENA: RefCell<Arena> = const { RefCell::new(Arena::new()) };
}

/// One callback from the host: the [`Host`] the plugin's logic calls. Slices it returns borrow
/// it.
pub(crate) struct Call {
    /// Not `Send`: a callback runs on the VM's one thread.
    _not_send: PhantomData<*const ()>,
}

impl Call {
    fn enter() -> Self {
        ARENA.with_borrow_mut(|arena| {
            if arena.depth == 0 {
                arena.reset();
            }
            arena.depth += 1;
        });
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        ARENA.with_borrow_mut(|arena| arena.depth = arena.depth.saturating_sub(1));
    }
}

/// Turns a pointer and size the host wrote into a slice of the call's lifetime.
fn returned(_call: &Call, data: *mut u8, size: usize) -> &[u8] {
    if data.is_null() || size == 0 {
        return &[];
    }
    // SAFETY: the host wrote `size` bytes at `data`, which it obtained from
    // `proxy_on_memory_allocate` during this call: arena memory that stays allocated, and is
    // never written by the plugin, until the outermost `Call` ends.
    unsafe { std::slice::from_raw_parts(data, size) }
}

// ---------------------------------------------------------------------------------------------
// Host calls.

/// Logs `message` at `level` (0 trace ... 5 critical).
fn log(level: u32, message: &str) {
    // SAFETY: the pointer and length describe `message`, which outlives the call.
    unsafe { host::proxy_log(level, message.as_ptr(), message.len()) };
}

/// The host's log level (0 trace ... 5 critical); `info` if it does not say.
fn log_level() -> u32 {
    let mut level = 2;
    // SAFETY: `level` is a valid place for the host to write a u32.
    match unsafe { host::proxy_get_log_level(&mut level) } {
        OK => level,
        _ => 2,
    }
}

fn status(code: u32) -> Result<(), HostStatus> {
    match code {
        OK => Ok(()),
        status => Err(HostStatus(status)),
    }
}

impl Host for Call {
    fn plugin_configuration(&self) -> &[u8] {
        let (mut data, mut size) = (null_mut(), 0);
        // SAFETY: `data` and `size` are valid places for the host to write to.
        let status = unsafe {
            host::proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, usize::MAX, &mut data, &mut size)
        };
        match status {
            OK => returned(self, data, size),
            _ => &[],
        }
    }

    fn header_map(&self, map: Map) -> &[u8] {
        let (mut data, mut size) = (null_mut(), 0);
        // SAFETY: `data` and `size` are valid places for the host to write to.
        match unsafe { host::proxy_get_header_map_pairs(map as u32, &mut data, &mut size) } {
            OK => returned(self, data, size),
            _ => &[],
        }
    }

    fn property(&self, path: &[u8]) -> Option<&[u8]> {
        let (mut data, mut size) = (null_mut(), 0);
        // SAFETY: the pointer and length describe `path`; `data` and `size` are valid places.
        let status =
            unsafe { host::proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
        (status == OK).then(|| returned(self, data, size))
    }

    fn set_header(&self, map: Map, name: &[u8], value: &[u8]) -> Result<(), HostStatus> {
        // SAFETY: each pointer and length describes a live slice.
        status(unsafe {
            host::proxy_replace_header_map_value(
                map as u32,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        })
    }

    fn remove_header(&self, map: Map, name: &[u8]) -> Result<(), HostStatus> {
        // SAFETY: the pointer and length describe `name`, which outlives the call.
        status(unsafe {
            host::proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len())
        })
    }

    fn define_counter(&self, name: &str) -> Option<u32> {
        let mut id = 0;
        // SAFETY: the pointer and length describe `name`; `id` is a valid place for a u32.
        let status =
            unsafe { host::proxy_define_metric(COUNTER, name.as_ptr(), name.len(), &mut id) };
        (status == OK).then_some(id)
    }

    fn increment_counter(&self, id: u32, by: u32) {
        // SAFETY: plain values; the host checks the id.
        unsafe { host::proxy_increment_metric(id, i64::from(by)) };
    }

    fn set_tick_period(&self, period_ms: u32) {
        // SAFETY: a plain value.
        unsafe { host::proxy_set_tick_period_milliseconds(period_ms) };
    }

    fn send_local_response(
        &self,
        status_code: u16,
        headers: &[u8],
        body: &[u8],
    ) -> Result<(), HostStatus> {
        // SAFETY: each pointer and length describes a live slice (or is null with length 0).
        status(unsafe {
            host::proxy_send_local_response(
                u32::from(status_code),
                null(),
                0,
                if body.is_empty() {
                    null()
                } else {
                    body.as_ptr()
                },
                body.len(),
                headers.as_ptr(),
                headers.len(),
                -1,
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The `log` crate's records go to the host's log, filtered by the host's level.

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Trace => 0,
            log::Level::Debug => 1,
            log::Level::Info => 2,
            log::Level::Warn => 3,
            log::Level::Error => 4,
        };
        log(level, &record.args().to_string());
    }

    fn flush(&self) {}
}

/// Follows the host's current level, so that debug lines are only formatted when it wants them.
fn follow_host_log_level() {
    log::set_max_level(match log_level() {
        0 => log::LevelFilter::Trace,
        1 => log::LevelFilter::Debug,
        2 => log::LevelFilter::Info,
        3 => log::LevelFilter::Warn,
        4 | 5 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    });
}

// ---------------------------------------------------------------------------------------------
// The global allocator, counting: a test host reads the count (`polycors_allocations`) to
// prove that requests in the form browsers send allocate nothing once the plugin is warm.

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator with the caller's arguments; the
// counter has no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many times the plugin has allocated (or grown an allocation) since it started.
#[unsafe(no_mangle)]
pub extern "C" fn polycors_allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Exports: each enters a `Call` and hands over to the safe plugin code.

/// The module's initialisation (`_initialize`, reactor model).
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    #[cfg(target_os = "wasi")]
    // SAFETY: called once, by the host, before any other export, as the reactor model wants.
    unsafe {
        host::__wasm_call_ctors();
    }
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    std::panic::set_hook(Box::new(|info| log(5, &format!("polycors: panic: {info}"))));
}

/// Declares the ABI version.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// Where the host writes data it returns: the arena.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    ARENA.with_borrow_mut(|arena| arena.allocate(size))
}

/// A root context (`parent == 0`) or an HTTP context of root `parent`.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_context_create(context: u32, parent: u32) {
    let _call = Call::enter();
    crate::plugin::on_context_create(context, parent);
}

/// The VM started.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_vm_start(_root: u32, _vm_configuration_size: usize) -> u32 {
    1
}

/// A root context's plugin configuration: 1 if it loads, 0 (the host refuses the plugin) if not.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_configure(root: u32, _plugin_configuration_size: usize) -> u32 {
    let call = Call::enter();
    follow_host_log_level();
    u32::from(crate::plugin::on_configure(&call, root))
}

/// The request headers: 0 continues, 1 stops (the plugin answered).
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_request_headers(
    context: u32,
    _headers: usize,
    _end_of_stream: u32,
) -> u32 {
    let call = Call::enter();
    crate::plugin::on_request_headers(&call, context) as u32
}

/// The response headers (the upstream's, or the plugin's own local answer): 0 continues.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_response_headers(
    context: u32,
    _headers: usize,
    _end_of_stream: u32,
) -> u32 {
    let call = Call::enter();
    crate::plugin::on_response_headers(&call, context) as u32
}

/// A root context's timer: hands the pending decision counts to the host.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_tick(root: u32) {
    let call = Call::enter();
    crate::plugin::on_tick(&call, root);
}

/// A context ends.
#[unsafe(no_mangle)]
pub extern "C" fn proxy_on_delete(context: u32) {
    let call = Call::enter();
    crate::plugin::on_delete(&call, context);
}
