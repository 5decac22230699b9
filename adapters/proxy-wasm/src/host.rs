//! What the plugin asks of its host during one callback: the seam between the plugin's logic and
//! the proxy-wasm ABI (`abi.rs`), so that the logic names no FFI and could run on any host.

/// A header map of the current HTTP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Map {
    /// The request headers (pseudo-headers `:method`, `:path`, ... included).
    Request = 0,
    /// The response headers (`:status` included).
    Response = 2,
}

/// A status the host returned instead of doing what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostStatus(pub(crate) u32);

/// The host calls of one callback. Data the host returns lives as long as the borrow of the
/// host: the callback.
pub(crate) trait Host {
    /// The plugin configuration (empty when there is none).
    fn plugin_configuration(&self) -> &[u8];
    /// Every line of `map`, serialized (see `wire.rs`); empty when the map is unavailable.
    fn header_map(&self, map: Map) -> &[u8];
    /// A property (`path` is its segments joined by NUL bytes); `None` when there is none.
    fn property(&self, path: &[u8]) -> Option<&[u8]>;
    /// Sets header `name` of `map` to `value`, replacing every line of that name.
    fn set_header(&self, map: Map, name: &[u8], value: &[u8]) -> Result<(), HostStatus>;
    /// Removes every line of header `name` from `map`.
    fn remove_header(&self, map: Map, name: &[u8]) -> Result<(), HostStatus>;
    /// Defines the counter `name`; its id, or `None` when the host keeps no metrics.
    fn define_counter(&self, name: &str) -> Option<u32>;
    /// Adds `by` to the counter `id`.
    fn increment_counter(&self, id: u32, by: u32);
    /// Asks for `proxy_on_tick` on the current root context every `period_ms`.
    fn set_tick_period(&self, period_ms: u32);
    /// Answers the request locally with `status`, the serialized `headers` and `body`.
    fn send_local_response(
        &self,
        status: u16,
        headers: &[u8],
        body: &[u8],
    ) -> Result<(), HostStatus>;
}
