//! What the plugin keeps between callbacks: root contexts (one per plugin configuration), the
//! HTTP contexts in flight, and the buffers it reuses.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polycors::adapter::RouteNeeds;
use polycors::counters::Counter;
use polycors::decision::Forwarded;
use polycors::{Scope, ScopedPolicies, Verdict};

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
    /// The host's ids of the decision counters, if it keeps metrics.
    pub(crate) counters: Option<Counters>,
}

/// The decision counters: the host's id of each [`Counter`] (by [`Counter::index`]) and the
/// counts not yet handed to the host. A request only adds to a local count; the counts go to
/// the host on the root context's tick ([`FLUSH_PERIOD_MS`]), one host call per counter that
/// moved, because each host call crosses the wasm boundary (about 0.3-1.4 us per request in
/// Envoy 1.40 when counted per request, docs/benchmarks.md).
#[derive(Debug)]
pub(crate) struct Counters {
    ids: [u32; Counter::ALL.len()],
    pending: [Cell<u32>; Counter::ALL.len()],
}

/// How often counts are handed to the host: Envoy's stats lag by at most this.
pub(crate) const FLUSH_PERIOD_MS: u32 = 1000;

impl Counters {
    /// Defines every counter; `None` if the host refuses any (it keeps no metrics).
    pub(crate) fn define(host: &impl Host) -> Option<Self> {
        let mut ids = [0; Counter::ALL.len()];
        for counter in Counter::ALL {
            ids[counter.index()] = host.define_counter(&counter.name())?;
        }
        Some(Self {
            ids,
            pending: std::array::from_fn(|_| Cell::new(0)),
        })
    }

    /// Counts `counter` (locally, until the next [`flush`](Self::flush)).
    pub(crate) fn count(&self, counter: Counter) {
        let pending = &self.pending[counter.index()];
        pending.set(pending.get().saturating_add(1));
    }

    /// Counts a verdict: its outcome, and its reason if it failed a check.
    pub(crate) fn count_verdict(&self, verdict: Verdict) {
        let (outcome, reason) = Counter::for_verdict(verdict);
        self.count(outcome);
        if let Some(reason) = reason {
            self.count(reason);
        }
    }

    /// Hands the pending counts to the host.
    pub(crate) fn flush(&self, host: &impl Host) {
        for (id, pending) in self.ids.iter().zip(&self.pending) {
            let count = pending.replace(0);
            if count > 0 {
                host.increment_counter(*id, count);
            }
        }
    }
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
