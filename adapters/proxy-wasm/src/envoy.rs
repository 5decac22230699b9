//! The host calls the plugin makes, wrapped so that a host error is handled instead of turned
//! into a panic (the SDK's context methods unwrap every status).

use polycors::{FieldValue, HeaderList, ResponseHeaders};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};

/// Logs at the host's level, so that debug lines (rejection reasons) are only formatted when
/// the host wants them.
pub(crate) fn follow_host_log_level() {
    let level = hostcalls::get_log_level().unwrap_or(LogLevel::Info);
    proxy_wasm::set_log_level(level);
}

/// The plugin configuration bytes (empty when there is none).
pub(crate) fn plugin_configuration() -> Vec<u8> {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Every request header line, pseudo-headers included, values as bytes.
pub(crate) fn request_headers() -> Vec<(String, Vec<u8>)> {
    hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default()
}

/// A string property such as `route_name` or `cluster_name`.
pub(crate) fn property(name: &str) -> Option<Vec<u8>> {
    hostcalls::get_property(vec![name]).ok().flatten()
}

/// Sends a local reply. The core only produces ASCII header values; anything else is dropped
/// rather than risk a trap.
pub(crate) fn send_local_reply(status: u16, headers: &HeaderList, body: &[u8]) {
    let lines: Vec<(&str, &str)> = headers
        .0
        .iter()
        .filter_map(|(n, v)| Some((std::str::from_utf8(n).ok()?, std::str::from_utf8(v).ok()?)))
        .collect();
    if let Err(status) = hostcalls::send_http_response(u32::from(status), lines, Some(body)) {
        log::error!("polycors: the host refused the local reply: {status:?}");
    }
}

/// The response headers as the core's [`ResponseHeaders`]: read once, written through.
pub(crate) struct ResponseHeaderMap {
    lines: Vec<(String, Vec<u8>)>,
}

impl ResponseHeaderMap {
    pub(crate) fn read() -> Self {
        Self {
            lines: hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default(),
        }
    }
}

impl ResponseHeaders for ResponseHeaderMap {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in &self.lines {
            f(name.as_bytes(), value);
        }
    }

    fn remove(&mut self, name: &[u8]) {
        if let Ok(name) = std::str::from_utf8(name) {
            let _ = hostcalls::remove_map_value(MapType::HttpResponseHeaders, name);
        }
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        let _ = hostcalls::set_map_value_bytes(
            MapType::HttpResponseHeaders,
            name,
            Some(value.as_bytes()),
        );
    }
}
