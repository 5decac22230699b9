//! The proxy-wasm ABI 0.2.1 imports (module `env`) and the WASI functions the Rust SDK needs
//! (module `wasi_snapshot_preview1`), implemented over [`HostState`].

use std::collections::{HashMap, VecDeque};

use wasmtime::{Caller, Instance, Linker, Memory, Store, TypedFunc};

use crate::http::{HttpRequest, HttpResponse};
use crate::plugin::LogLine;

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

/// The proxy-wasm header map wire format.
fn serialize_map(map: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (name, value) in map {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in map {
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    out
}

fn deserialize_map(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let word = |at: usize| -> Option<usize> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(raw) as usize)
    };
    let count = word(0)?;
    let mut data = 4usize.checked_add(count.checked_mul(8)?)?;
    let mut map = Vec::with_capacity(count.min(1024));
    for index in 0..count {
        let name_len = word(4 + index * 8)?;
        let value_len = word(8 + index * 8)?;
        let name = bytes.get(data..data.checked_add(name_len)?)?.to_vec();
        data += name_len + 1;
        let value = bytes.get(data..data.checked_add(value_len)?)?.to_vec();
        data += value_len + 1;
        map.push((name, value));
    }
    Some(map)
}

/// Defines every import the Rust proxy-wasm SDK may reference.
pub(crate) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    define_logging_and_time(linker)?;
    define_buffers_and_properties(linker)?;
    define_header_maps(linker)?;
    define_streams(linker)?;
    define_shared_state(linker)?;
    define_outbound_calls(linker)?;
    define_wasi(linker)?;
    Ok(())
}

fn define_logging_and_time(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: Ctx<'_>, level: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let message = read(&mut caller, ptr, len)?;
            let level = LOG_LEVELS
                .get(level as usize)
                .copied()
                .unwrap_or("critical");
            caller.data_mut().log.push(LogLine {
                level,
                message: String::from_utf8_lossy(&message).into_owned(),
            });
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: Ctx<'_>, ptr: i32| -> wasmtime::Result<i32> {
            let level = caller.data().log_level as u32;
            write_u32(&mut caller, ptr, level)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: Ctx<'_>, ptr: i32| -> wasmtime::Result<i32> {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, ptr as u32 as usize, &now.to_le_bytes())?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |_: Ctx<'_>, _period: i32| -> i32 { OK },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |_: Ctx<'_>, _id: i32| -> i32 { OK },
    )?;
    linker.func_wrap("env", "proxy_done", |_: Ctx<'_>| -> i32 { OK })?;
    Ok(())
}

fn define_buffers_and_properties(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: Ctx<'_>,
         kind: i32,
         start: i32,
         max: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            if kind != PLUGIN_CONFIGURATION || caller.data().phase != Phase::Configure {
                return Ok(NOT_FOUND);
            }
            let configuration = std::mem::take(&mut caller.data_mut().configuration);
            let start = (start as u32 as usize).min(configuration.len());
            let end = start
                .saturating_add(max as u32 as usize)
                .min(configuration.len());
            let result = give(&mut caller, &configuration[start..end], ptr_ptr, size_ptr);
            caller.data_mut().configuration = configuration;
            result.map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |_: Ctx<'_>, _kind: i32, _start: i32, _size: i32, _ptr: i32, _len: i32| -> i32 {
            NOT_FOUND
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut caller: Ctx<'_>,
         path_ptr: i32,
         path_len: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            // A path is its segments joined by NUL bytes.
            let path = read(&mut caller, path_ptr, path_len)?;
            let state = caller.data();
            let value = match (path.as_slice(), state.legacy_property_names) {
                (b"xds\0route_name", false) | (b"route_name", true) => state.route_name.clone(),
                (b"xds\0cluster_name", false) | (b"cluster_name", true) => {
                    state.cluster_name.clone()
                }
                _ => None,
            };
            match value {
                Some(value) => give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |_: Ctx<'_>, _path: i32, _path_len: i32, _value: i32, _value_len: i32| -> i32 { OK },
    )?;
    Ok(())
}

fn define_header_maps(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: Ctx<'_>, kind: i32, ptr_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            let bytes = serialize_map(map);
            give(&mut caller, &bytes, ptr_ptr, size_ptr).map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: Ctx<'_>, kind: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let bytes = read(&mut caller, ptr, len)?;
            let Some(pairs) = deserialize_map(&bytes) else {
                return Ok(SERIALIZATION_FAILURE);
            };
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            *map = pairs
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            let Some(value) = map.iter().find(|(n, _)| *n == key).map(|(_, v)| v.clone()) else {
                return Ok(NOT_FOUND);
            };
            give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut caller, value_ptr, value_len)?;
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            // Envoy's replace: the first line gets the value, further lines go.
            match map.iter().position(|(n, _)| *n == key) {
                Some(first) => {
                    map[first].1 = value;
                    let mut index = 0;
                    map.retain(|(n, _)| {
                        index += 1;
                        index - 1 == first || *n != key
                    });
                }
                None => map.push((key, value)),
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut caller, value_ptr, value_len)?;
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            map.push((key, value));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: Ctx<'_>, kind: i32, key_ptr: i32, key_len: i32| -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            map.retain(|(n, _)| *n != key);
            Ok(OK)
        },
    )?;
    Ok(())
}

fn define_streams(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: Ctx<'_>,
         status: i32,
         _details_ptr: i32,
         _details_len: i32,
         body_ptr: i32,
         body_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         _grpc_status: i32|
         -> wasmtime::Result<i32> {
            let body = read(&mut caller, body_ptr, body_len)?;
            let headers = read(&mut caller, headers_ptr, headers_len)?;
            let Some(mut headers) = deserialize_map(&headers) else {
                return Ok(SERIALIZATION_FAILURE);
            };
            let Ok(status) = u16::try_from(status) else {
                return Ok(BAD_ARGUMENT);
            };
            for (name, _) in &mut headers {
                name.make_ascii_lowercase();
            }
            if !body.is_empty() && !headers.iter().any(|(n, _)| n == b"content-type") {
                headers.push((b"content-type".to_vec(), b"text/plain".to_vec()));
            }
            headers.push((
                b"content-length".to_vec(),
                body.len().to_string().into_bytes(),
            ));
            caller.data_mut().local_reply = Some(HttpResponse {
                status,
                headers,
                body,
            });
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |_: Ctx<'_>, _kind: i32| -> i32 { OK },
    )?;
    linker.func_wrap(
        "env",
        "proxy_close_stream",
        |_: Ctx<'_>, _kind: i32| -> i32 { OK },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |_: Ctx<'_>, _code: i32, _ptr_ptr: i32, _size_ptr: i32| -> i32 { NOT_FOUND },
    )?;
    Ok(())
}

fn define_shared_state(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: Ctx<'_>,
         key_ptr: i32,
         key_len: i32,
         ptr_ptr: i32,
         size_ptr: i32,
         cas_ptr: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?;
            let Some((value, cas)) = caller.data().shared_data.get(&key).cloned() else {
                return Ok(NOT_FOUND);
            };
            give(&mut caller, &value, ptr_ptr, size_ptr)?;
            write_u32(&mut caller, cas_ptr, cas)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: Ctx<'_>,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32,
         cas: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?;
            let value = read(&mut caller, value_ptr, value_len)?;
            let data = &mut caller.data_mut().shared_data;
            let current = data.get(&key).map_or(0, |(_, c)| *c);
            if cas != 0 && cas as u32 != current {
                return Ok(CAS_MISMATCH);
            }
            data.insert(key, (value, current.wrapping_add(1).max(1)));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: Ctx<'_>, name_ptr: i32, name_len: i32, id_ptr: i32| -> wasmtime::Result<i32> {
            let name = read(&mut caller, name_ptr, name_len)?;
            let queues = &mut caller.data_mut().queues;
            let id = match queues.iter().position(|(n, _)| *n == name) {
                Some(id) => id,
                None => {
                    queues.push((name, VecDeque::new()));
                    queues.len() - 1
                }
            };
            write_u32(&mut caller, id_ptr, id as u32)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: Ctx<'_>,
         _vm_ptr: i32,
         _vm_len: i32,
         name_ptr: i32,
         name_len: i32,
         id_ptr: i32|
         -> wasmtime::Result<i32> {
            let name = read(&mut caller, name_ptr, name_len)?;
            match caller.data().queues.iter().position(|(n, _)| *n == name) {
                Some(id) => write_u32(&mut caller, id_ptr, id as u32).map(|()| OK),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: Ctx<'_>, id: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let value = read(&mut caller, ptr, len)?;
            match caller.data_mut().queues.get_mut(id as u32 as usize) {
                Some((_, queue)) => {
                    queue.push_back(value);
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: Ctx<'_>, id: i32, ptr_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            let value = match caller.data_mut().queues.get_mut(id as u32 as usize) {
                Some((_, queue)) => queue.pop_front(),
                None => return Ok(NOT_FOUND),
            };
            match value {
                Some(value) => give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK),
                None => Ok(7), // Empty
            }
        },
    )?;
    Ok(())
}

fn define_outbound_calls(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |_: Ctx<'_>, _: i32, _: i32, _: i32, _: i32| -> i32 { NOT_FOUND },
    )?;
    linker.func_wrap("env", "proxy_grpc_cancel", |_: Ctx<'_>, _: i32| -> i32 {
        NOT_FOUND
    })?;
    linker.func_wrap("env", "proxy_grpc_close", |_: Ctx<'_>, _: i32| -> i32 {
        NOT_FOUND
    })?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |_: Ctx<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 { NOT_FOUND },
    )?;
    Ok(())
}

fn define_wasi(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const WASI: &str = "wasi_snapshot_preview1";
    const ERRNO_SUCCESS: i32 = 0;
    const ERRNO_BADF: i32 = 8;
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut caller: Ctx<'_>,
         fd: i32,
         iovs: i32,
         count: i32,
         written_ptr: i32|
         -> wasmtime::Result<i32> {
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            let vectors = read(&mut caller, iovs, count.saturating_mul(8))?;
            let mut text = Vec::new();
            for vector in vectors.chunks_exact(8) {
                let ptr = i32::from_le_bytes([vector[0], vector[1], vector[2], vector[3]]);
                let len = i32::from_le_bytes([vector[4], vector[5], vector[6], vector[7]]);
                text.extend(read(&mut caller, ptr, len)?);
            }
            write_u32(&mut caller, written_ptr, text.len() as u32)?;
            caller.data_mut().log.push(LogLine {
                level: if fd == 1 { "stdout" } else { "stderr" },
                message: String::from_utf8_lossy(&text).into_owned(),
            });
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "environ_sizes_get",
        |mut caller: Ctx<'_>, count_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            write_u32(&mut caller, count_ptr, 0)?;
            write_u32(&mut caller, size_ptr, 0)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(WASI, "environ_get", |_: Ctx<'_>, _: i32, _: i32| -> i32 {
        ERRNO_SUCCESS
    })?;
    linker.func_wrap(
        WASI,
        "random_get",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let mut bytes = vec![0u8; len as u32 as usize];
            let state = &mut caller.data_mut().random;
            for byte in &mut bytes {
                // xorshift64: reproducible, which is all a test host needs.
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                *byte = *state as u8;
            }
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, ptr as u32 as usize, &bytes)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut caller: Ctx<'_>,
         _clock: i32,
         _precision: i64,
         time_ptr: i32|
         -> wasmtime::Result<i32> {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, time_ptr as u32 as usize, &now.to_le_bytes())?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |_: Ctx<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg(format!(
                "the plugin called proc_exit({code})"
            )))
        },
    )?;
    Ok(())
}
