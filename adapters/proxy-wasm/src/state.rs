//! What the plugin keeps between callbacks: root contexts (one per plugin configuration), the
//! HTTP contexts in flight, and the buffers it reuses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polycors::adapter::RouteNeeds;
use polycors::decision::Forwarded;
use polycors::{Scope, ScopedPolicies};

use crate::headers::Buffers;

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
