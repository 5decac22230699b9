//! The proxy-wasm ABI 0.2.1 imports (module `env`) and the WASI functions the Rust SDK needs
//! (module `wasi_snapshot_preview1`), implemented over [`HostState`]: one submodule per
//! concern, this module for the state they share and the guest-memory helpers.

mod buffers;
mod headers;
mod logging;
mod metrics;
mod outbound;
mod shared;
mod streams;
mod wasi;

use std::collections::{HashMap, VecDeque};

use wasmtime::{Caller, Instance, Linker, Memory, Store, TypedFunc};

use crate::http::{HttpRequest, HttpResponse};
use crate::log::LogLine;

/// proxy-wasm statuses (only those the Rust SDK can represent).
const OK: i32 = 0;
const NOT_FOUND: i32 = 1;
const BAD_ARGUMENT: i32 = 2;
const SERIALIZATION_FAILURE: i32 = 3;
const CAS_MISMATCH: i32 = 8;

/// proxy-wasm log level `info`.
pub(crate) const LOG_INFO: i32 = 2;
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "critical"];

/// Map types.
const REQUEST_HEADERS: i32 = 0;
const RESPONSE_HEADERS: i32 = 2;
/// Buffer type of the plugin configuration.
const PLUGIN_CONFIGURATION: i32 = 7;

/// Where the exchange stands, which decides what the plugin may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Configure,
    RequestHeaders,
    Forwarding,
    ResponseHeaders,
}

/// Everything the host functions read and write.
pub(crate) struct HostState {
    pub(crate) phase: Phase,
    pub(crate) configuration: Vec<u8>,
    pub(crate) request_headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) response_headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) local_reply: Option<HttpResponse>,
    pub(crate) log: Vec<LogLine>,
    route_name: Option<Vec<u8>>,
    cluster_name: Option<Vec<u8>>,
    legacy_property_names: bool,
    log_level: i32,
    shared_data: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    queues: Vec<(Vec<u8>, VecDeque<Vec<u8>>)>,
    pub(crate) metrics: Vec<metrics::Metric>,
    pub(crate) tick_period_ms: Option<u32>,
    random: u64,
    memory: Option<Memory>,
    allocate: Option<TypedFunc<i32, i32>>,
}

impl HostState {
    pub(crate) fn new(log_level: i32) -> Self {
        Self {
            phase: Phase::Idle,
            configuration: Vec::new(),
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            local_reply: None,
            log: Vec::new(),
            route_name: None,
            cluster_name: None,
            legacy_property_names: false,
            log_level,
            shared_data: HashMap::new(),
            queues: Vec::new(),
            metrics: Vec::new(),
            tick_period_ms: None,
            random: 0x9e37_79b9_7f4a_7c15,
            memory: None,
            allocate: None,
        }
    }

    pub(crate) fn begin_request(
        &mut self,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        request: &HttpRequest,
    ) {
        self.phase = Phase::RequestHeaders;
        self.request_headers = headers;
        self.response_headers.clear();
        self.local_reply = None;
        self.route_name.clone_from(&request.route_name);
        self.cluster_name.clone_from(&request.cluster_name);
        self.legacy_property_names = request.legacy_property_names;
    }

    /// The header map `map_type` names, if the plugin may touch it now.
    fn map(&mut self, map_type: i32) -> Option<&mut Vec<(Vec<u8>, Vec<u8>)>> {
        match (map_type, self.phase) {
            (REQUEST_HEADERS, Phase::RequestHeaders) => Some(&mut self.request_headers),
            (RESPONSE_HEADERS, Phase::ResponseHeaders) => Some(&mut self.response_headers),
            _ => None,
        }
    }
}

/// Caches the guest's memory and allocator after instantiation.
pub(crate) fn attach(instance: &Instance, store: &mut Store<HostState>) -> wasmtime::Result<()> {
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| wasmtime::Error::msg("the module exports no memory"))?;
    let allocate = instance
        .get_typed_func::<i32, i32>(&mut *store, "proxy_on_memory_allocate")
        .or_else(|_| instance.get_typed_func::<i32, i32>(&mut *store, "malloc"))?;
    store.data_mut().memory = Some(memory);
    store.data_mut().allocate = Some(allocate);
    Ok(())
}

pub(crate) fn memory_size(store: &mut Store<HostState>) -> usize {
    match store.data().memory {
        Some(memory) => memory.data_size(&*store),
        None => 0,
    }
}

type Ctx<'a> = Caller<'a, HostState>;

/// The guest's memory, cached by [`attach`] before the first callback.
fn memory(caller: &mut Ctx<'_>) -> wasmtime::Result<Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| wasmtime::Error::msg("the module exports no memory"))
}

fn read(caller: &mut Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller)?;
    let mut bytes = vec![0; len as u32 as usize];
    memory.read(&*caller, ptr as u32 as usize, &mut bytes)?;
    Ok(bytes)
}

fn write_u32(caller: &mut Ctx<'_>, ptr: i32, value: u32) -> wasmtime::Result<()> {
    let memory = memory(caller)?;
    memory.write(&mut *caller, ptr as u32 as usize, &value.to_le_bytes())?;
    Ok(())
}

/// Copies `bytes` into guest memory allocated by the guest, and writes the pointer and size
/// to `ptr_ptr` and `size_ptr` (a null pointer and 0 for empty data, as Envoy does).
fn give(caller: &mut Ctx<'_>, bytes: &[u8], ptr_ptr: i32, size_ptr: i32) -> wasmtime::Result<()> {
    let mut address = 0;
    if !bytes.is_empty() {
        let allocate = caller
            .data()
            .allocate
            .clone()
            .ok_or_else(|| wasmtime::Error::msg("no allocator"))?;
        let size = i32::try_from(bytes.len())?;
        address = allocate.call(&mut *caller, size)? as u32;
        let memory = memory(caller)?;
        memory.write(&mut *caller, address as usize, bytes)?;
    }
    write_u32(caller, ptr_ptr, address)?;
    write_u32(caller, size_ptr, bytes.len() as u32)
}

/// Defines every import the Rust proxy-wasm SDK may reference.
pub(crate) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    logging::define(linker)?;
    metrics::define(linker)?;
    buffers::define(linker)?;
    headers::define(linker)?;
    streams::define(linker)?;
    shared::define(linker)?;
    outbound::define(linker)?;
    wasi::define(linker)?;
    Ok(())
}
