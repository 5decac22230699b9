//! Loading a plugin and driving HTTP exchanges through it.

use std::path::Path;

use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc};

use crate::abi::{self, HostState, Phase};
use crate::error::HostError;
use crate::http::{Exchange, HttpRequest, HttpResponse};
use crate::log::LogLine;

/// proxy-wasm `Action::Continue`.
const CONTINUE: i32 = 0;

/// A compiled plugin module; instantiate it once per configuration.
pub struct Plugin {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").finish_non_exhaustive()
    }
}

impl Plugin {
    /// Reads and compiles a module.
    pub fn load(path: &Path) -> Result<Self, HostError> {
        if !path.is_file() {
            return Err(HostError::MissingModule {
                path: path.to_path_buf(),
            });
        }
        let engine = Engine::default();
        let module = Module::from_file(&engine, path)
            .map_err(|e| HostError::Load(format!("{}: {e:#}", path.display())))?;
        let mut linker = Linker::new(&engine);
        abi::define(&mut linker).map_err(|e| HostError::Load(format!("{e:#}")))?;
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| HostError::Load(format!("{e:#}")))?;
        Ok(Self {
            engine,
            module,
            linker,
        })
    }

    /// A new instance configured with `configuration` (the plugin configuration bytes, JSON
    /// for polycors), logging at `info` and above.
    pub fn instantiate(&self, configuration: &[u8]) -> Result<PluginInstance, HostError> {
        self.instantiate_with_log_level(configuration, abi::LOG_INFO)
    }

    /// Like [`instantiate`](Self::instantiate), with the log level the host reports to the
    /// plugin (0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical).
    pub fn instantiate_with_log_level(
        &self,
        configuration: &[u8],
        log_level: i32,
    ) -> Result<PluginInstance, HostError> {
        let mut store = Store::new(&self.engine, HostState::new(log_level));
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| HostError::Load(format!("{e:#}")))?;
        let exports = Exports::find(&instance, &mut store)?;
        abi::attach(&instance, &mut store).map_err(|e| HostError::Load(format!("{e:#}")))?;
        let mut plugin = PluginInstance {
            store,
            instance,
            exports,
            root_id: 1,
            next_id: 2,
        };
        plugin.start(configuration)?;
        Ok(plugin)
    }
}

/// The plugin's exports. Like Envoy, the host skips a callback the module does not export
/// (only the three a CORS filter cannot do without are required).
struct Exports {
    initialize: Option<TypedFunc<(), ()>>,
    on_context_create: TypedFunc<(i32, i32), ()>,
    on_vm_start: Option<TypedFunc<(i32, i32), i32>>,
    on_configure: TypedFunc<(i32, i32), i32>,
    on_request_headers: TypedFunc<(i32, i32, i32), i32>,
    on_response_headers: Option<TypedFunc<(i32, i32, i32), i32>>,
    on_done: Option<TypedFunc<i32, i32>>,
    on_log: Option<TypedFunc<i32, ()>>,
    on_delete: Option<TypedFunc<i32, ()>>,
    on_tick: Option<TypedFunc<i32, ()>>,
}

impl Exports {
    fn find(instance: &Instance, store: &mut Store<HostState>) -> Result<Self, HostError> {
        macro_rules! export {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut *store, $name)
                    .map_err(|e| HostError::Load(format!("export {}: {e:#}", $name)))?
            };
        }
        macro_rules! optional {
            ($name:literal) => {
                match instance.get_export(&mut *store, $name) {
                    None => None,
                    Some(_) => Some(export!($name)),
                }
            };
        }
        Ok(Self {
            initialize: optional!("_initialize"),
            on_context_create: export!("proxy_on_context_create"),
            on_vm_start: optional!("proxy_on_vm_start"),
            on_configure: export!("proxy_on_configure"),
            on_request_headers: export!("proxy_on_request_headers"),
            on_response_headers: optional!("proxy_on_response_headers"),
            on_done: optional!("proxy_on_done"),
            on_log: optional!("proxy_on_log"),
            on_delete: optional!("proxy_on_delete"),
            on_tick: optional!("proxy_on_tick"),
        })
    }
}

/// A configured plugin: a root context that serves any number of HTTP contexts.
pub struct PluginInstance {
    store: Store<HostState>,
    instance: Instance,
    exports: Exports,
    root_id: i32,
    next_id: i32,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

fn trap(error: wasmtime::Error) -> HostError {
    HostError::Trap(format!("{error:#}"))
}

impl PluginInstance {
    fn start(&mut self, configuration: &[u8]) -> Result<(), HostError> {
        if let Some(initialize) = &self.exports.initialize {
            initialize.call(&mut self.store, ()).map_err(trap)?;
        }
        let root = self.root_id;
        self.exports
            .on_context_create
            .call(&mut self.store, (root, 0))
            .map_err(trap)?;
        if let Some(on_vm_start) = &self.exports.on_vm_start {
            on_vm_start.call(&mut self.store, (root, 0)).map_err(trap)?;
        }
        self.store.data_mut().phase = Phase::Configure;
        self.store.data_mut().configuration = configuration.to_vec();
        let size = i32::try_from(configuration.len()).unwrap_or(i32::MAX);
        let ok = self
            .exports
            .on_configure
            .call(&mut self.store, (root, size));
        let state = self.store.data_mut();
        state.phase = Phase::Idle;
        state.configuration.clear();
        if ok.map_err(trap)? == 0 {
            let log = self
                .store
                .data()
                .log
                .iter()
                .filter(|l| matches!(l.level, "warn" | "error" | "critical"))
                .map(|l| l.message.clone())
                .collect();
            return Err(HostError::ConfigureFailed { log });
        }
        Ok(())
    }

    /// Sends `request` through the plugin. If the plugin lets it through, `upstream` is called
    /// with the request headers as forwarded (pseudo-headers included) and its response goes
    /// back through the plugin.
    pub fn http_request(
        &mut self,
        request: &HttpRequest,
        upstream: impl FnOnce(&[(Vec<u8>, Vec<u8>)]) -> HttpResponse,
    ) -> Result<Exchange, HostError> {
        let context = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(2);
        self.exports
            .on_context_create
            .call(&mut self.store, (context, self.root_id))
            .map_err(trap)?;

        let headers = request.header_map();
        let count = i32::try_from(headers.len()).unwrap_or(i32::MAX);
        {
            let state = self.store.data_mut();
            state.begin_request(headers, request);
        }
        let action = self
            .exports
            .on_request_headers
            .call(&mut self.store, (context, count, 1))
            .map_err(trap)?;
        let state = self.store.data_mut();
        state.phase = Phase::Forwarding;
        let request_headers = std::mem::take(&mut state.request_headers);

        let (mut response, local_reply, forwarded) = match state.local_reply.take() {
            Some(reply) => (reply, true, None),
            None if action == CONTINUE => {
                let response = upstream(&request_headers);
                (response, false, Some(request_headers))
            }
            None => return Err(HostError::Stalled),
        };

        let map = response.header_map();
        let count = i32::try_from(map.len()).unwrap_or(i32::MAX);
        let state = self.store.data_mut();
        state.phase = Phase::ResponseHeaders;
        state.response_headers = map;
        if let Some(on_response_headers) = &self.exports.on_response_headers {
            on_response_headers
                .call(&mut self.store, (context, count, 1))
                .map_err(trap)?;
        }
        let state = self.store.data_mut();
        state.phase = Phase::Idle;
        let map = std::mem::take(&mut state.response_headers);
        if let Some(reply) = state.local_reply.take() {
            // A local reply sent while encoding replaces the response, as in Envoy.
            response = reply;
        } else {
            response = HttpResponse::from_header_map(map, std::mem::take(&mut response.body));
        }

        if let Some(on_done) = &self.exports.on_done {
            on_done.call(&mut self.store, context).map_err(trap)?;
        }
        if let Some(on_log) = &self.exports.on_log {
            on_log.call(&mut self.store, context).map_err(trap)?;
        }
        if let Some(on_delete) = &self.exports.on_delete {
            on_delete.call(&mut self.store, context).map_err(trap)?;
        }
        Ok(Exchange {
            response,
            local_reply,
            forwarded,
        })
    }

    /// Fires the root context's timer once (`proxy_on_tick`), as Envoy does every tick period
    /// the plugin asked for ([`tick_period_ms`](Self::tick_period_ms)); this host has no clock
    /// of its own.
    pub fn tick(&mut self) -> Result<(), HostError> {
        if let Some(on_tick) = &self.exports.on_tick {
            on_tick.call(&mut self.store, self.root_id).map_err(trap)?;
        }
        Ok(())
    }

    /// The tick period the plugin asked for (`proxy_set_tick_period_milliseconds`), if any.
    pub fn tick_period_ms(&self) -> Option<u32> {
        self.store.data().tick_period_ms
    }

    /// Every metric the plugin defined, with its value (by name, in definition order).
    pub fn metrics(&self) -> Vec<(String, i64)> {
        self.store
            .data()
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.value))
            .collect()
    }

    /// The value of the metric `name`, if the plugin defined it.
    pub fn metric(&self, name: &str) -> Option<i64> {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// Everything the plugin has logged so far.
    pub fn log(&self) -> &[LogLine] {
        &self.store.data().log
    }

    /// Takes the log lines collected so far.
    pub fn take_log(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.store.data_mut().log)
    }

    /// Calls a function the module exports that takes nothing and returns a 64-bit integer
    /// (polycors exports `polycors_allocations`); `None` when the module has no such export.
    pub fn call_u64_export(&mut self, name: &str) -> Result<Option<u64>, HostError> {
        let Ok(function) = self
            .instance
            .get_typed_func::<(), i64>(&mut self.store, name)
        else {
            return Ok(None);
        };
        let value = function.call(&mut self.store, ()).map_err(trap)?;
        Ok(Some(value as u64))
    }

    /// The size of the guest's linear memory, in bytes.
    pub fn memory_size(&mut self) -> usize {
        abi::memory_size(&mut self.store)
    }
}
