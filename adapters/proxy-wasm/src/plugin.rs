//! The plugin's state: root contexts (one per plugin configuration) and the HTTP contexts in
//! flight, and the callbacks that drive them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polycors::{Forwarded, RouteNeeds, Scope, ScopedPolicies};

use crate::filter;
use crate::headers::Buffers;
use crate::host::Host;

/// What `proxy_on_request_headers` and `proxy_on_response_headers` return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Let the stream go on.
    Continue = 0,
    /// Stop: the plugin answered the request.
    Pause = 1,
}

/// A root context: one plugin configuration.
#[derive(Debug, Default)]
pub(crate) struct Root {
    /// The policies of the last configuration that loaded.
    pub(crate) policies: Option<ScopedPolicies>,
    /// What selecting a policy reads.
    pub(crate) needs: RouteNeeds,
}

/// Where an HTTP context stands.
#[derive(Debug, Default)]
pub(crate) enum State {
    /// The request headers have not been seen, or no policy applies.
    #[default]
    Waiting,
    /// Forwarded: the response gets the plan's headers once.
    Forwarded {
        scope: Scope,
        forwarded: Forwarded,
        /// The request's `Origin`.
        origin: Vec<u8>,
        /// The start of the debug log line (empty unless logging at debug).
        log: Vec<u8>,
    },
    /// Answered locally (the answer already has every header), or done.
    Done,
}

/// An HTTP context.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) root: u32,
    pub(crate) state: State,
}

/// A hasher for context ids, which the host hands out sequentially.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, id: u32) {
        self.0 = u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Everything the plugin keeps between callbacks.
#[derive(Default)]
pub(crate) struct Plugin {
    pub(crate) roots: Vec<(u32, Root)>,
    pub(crate) contexts: HashMap<u32, Context, BuildHasherDefault<IdHasher>>,
    /// Byte buffers for contexts' origins and log lines, reused.
    pub(crate) pool: Vec<Vec<u8>>,
    /// Buffers for writing response headers, reused.
    pub(crate) buffers: Buffers,
}

/// Takes a cleared buffer from `pool`.
pub(crate) fn take_buffer(pool: &mut Vec<Vec<u8>>) -> Vec<u8> {
    let mut buffer = pool.pop().unwrap_or_default();
    buffer.clear();
    buffer
}

/// Returns `buffer` to `pool`, unless it never held anything or grew for an unusually large
/// value (the pool should not pin the memory of a hostile request).
pub(crate) fn return_buffer(pool: &mut Vec<Vec<u8>>, buffer: Vec<u8>) {
    if (1..=POOLED_CAPACITY).contains(&buffer.capacity()) {
        pool.push(buffer);
    }
}

/// The largest buffer kept for reuse: an origin or a log line is far smaller.
const POOLED_CAPACITY: usize = 4096;

thread_local! {
    static PLUGIN: RefCell<Plugin> = RefCell::new(Plugin::default());
}

/// Runs `f` on the plugin state. The host never calls back into the plugin's callbacks while one
/// runs (only `proxy_on_memory_allocate`, which does not touch this state).
fn with<R>(f: impl FnOnce(&mut Plugin) -> R) -> R {
    PLUGIN.with_borrow_mut(f)
}

pub(crate) fn on_context_create(context: u32, parent: u32) {
    with(|plugin| {
        if parent == 0 {
            if !plugin.roots.iter().any(|(id, _)| *id == context) {
                plugin.roots.push((context, Root::default()));
            }
        } else {
            plugin.contexts.insert(
                context,
                Context {
                    root: parent,
                    state: State::Waiting,
                },
            );
        }
    });
}

pub(crate) fn on_configure(host: &impl Host, root: u32) -> bool {
    let configuration = host.plugin_configuration();
    match ScopedPolicies::from_json(configuration) {
        Ok(policies) => {
            // The core has logged the warnings while compiling the policies.
            with(|plugin| {
                let needs = policies.route_needs();
                let entry = Root {
                    policies: Some(policies),
                    needs,
                };
                match plugin.roots.iter_mut().find(|(id, _)| *id == root) {
                    Some((_, existing)) => *existing = entry,
                    None => plugin.roots.push((root, entry)),
                }
            });
            true
        }
        Err(invalid) => {
            for error in invalid.errors() {
                log::error!("polycors: invalid configuration: {error}");
            }
            false
        }
    }
}

pub(crate) fn on_request_headers(host: &impl Host, context: u32) -> Action {
    with(|plugin| filter::on_request_headers(host, plugin, context))
}

pub(crate) fn on_response_headers(host: &impl Host, context: u32) -> Action {
    with(|plugin| filter::on_response_headers(host, plugin, context))
}

pub(crate) fn on_delete(context: u32) {
    with(|plugin| {
        plugin.roots.retain(|(id, _)| *id != context);
        if let Some(Context {
            state: State::Forwarded { origin, log, .. },
            ..
        }) = plugin.contexts.remove(&context)
        {
            return_buffer(&mut plugin.pool, origin);
            return_buffer(&mut plugin.pool, log);
        }
    });
}
