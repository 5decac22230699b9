//! The HTTP exchange the host drives through a plugin.

/// Request headers Envoy keeps as one entry: its HTTP/1 and HTTP/2 codecs join repeated lines
/// of these with `,` before any filter runs (Envoy 1.40 registers them as "inline" headers;
/// checked in the real Envoy by the conformance suite's `envoy` target).
pub const ENVOY_JOINED_REQUEST_HEADERS: [&[u8]; 4] = [
    b"origin",
    b"access-control-request-method",
    b"access-control-request-headers",
    b"access-control-request-private-network",
];

/// Request header lines as Envoy's codecs hand them on: names lowercased, repeated lines of
/// [`ENVOY_JOINED_REQUEST_HEADERS`] joined into the first with `,`, other lines as they are.
pub fn join_like_envoy(lines: &[(Vec<u8>, Vec<u8>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(lines.len());
    for (name, value) in lines {
        let name = name.to_ascii_lowercase();
        let joined = ENVOY_JOINED_REQUEST_HEADERS.contains(&name.as_slice());
        match out.iter_mut().find(|(n, _)| joined && *n == name) {
            Some((_, existing)) => {
                existing.push(b',');
                existing.extend_from_slice(value);
            }
            None => out.push((name, value.clone())),
        }
    }
    out
}

/// A request as Envoy hands it to filters.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// `:method`.
    pub method: Vec<u8>,
    /// `:scheme`.
    pub scheme: Vec<u8>,
    /// `:authority` (the `Host` header).
    pub authority: Vec<u8>,
    /// `:path`.
    pub path: Vec<u8>,
    /// Regular header lines in order (names are lowercased by the host).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The `route_name` property (Envoy's route name; the Ingress name in Higress).
    pub route_name: Option<Vec<u8>>,
    /// The `cluster_name` property (`outbound|port||fqdn` in Istio and Higress).
    pub cluster_name: Option<Vec<u8>>,
    /// Answer `route_name` and `cluster_name` under their top-level names (older Envoys,
    /// Higress) instead of `xds.route_name` and `xds.cluster_name` (Envoy 1.40).
    pub legacy_property_names: bool,
}

impl HttpRequest {
    /// A request without headers or properties.
    pub fn new(method: &str, scheme: &str, authority: &str, path: &str) -> Self {
        Self {
            method: method.as_bytes().to_vec(),
            scheme: scheme.as_bytes().to_vec(),
            authority: authority.as_bytes().to_vec(),
            path: path.as_bytes().to_vec(),
            ..Self::default()
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.as_bytes().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// The map the plugin sees: pseudo-headers first, then the lowercased header lines, with
    /// repeated lines of the headers Envoy keeps in one entry joined by `,` (see
    /// [`ENVOY_JOINED_REQUEST_HEADERS`]).
    pub(crate) fn header_map(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut map = vec![
            (b":method".to_vec(), self.method.clone()),
            (b":scheme".to_vec(), self.scheme.clone()),
            (b":authority".to_vec(), self.authority.clone()),
            (b":path".to_vec(), self.path.clone()),
        ];
        map.extend(join_like_envoy(&self.headers));
        map
    }
}

/// A response: from the upstream, or the plugin's local reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header lines in order, without `:status`.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with no headers and no body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.as_bytes().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    pub(crate) fn header_map(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut map = vec![(b":status".to_vec(), self.status.to_string().into_bytes())];
        map.extend(
            self.headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
        );
        map
    }

    pub(crate) fn from_header_map(map: Vec<(Vec<u8>, Vec<u8>)>, body: Vec<u8>) -> Self {
        let mut status = 0;
        let mut headers = Vec::with_capacity(map.len());
        for (name, value) in map {
            if name == b":status" {
                status = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else {
                headers.push((name, value));
            }
        }
        Self {
            status,
            headers,
            body,
        }
    }
}

/// What happened to one request.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// What the client received.
    pub response: HttpResponse,
    /// Whether the plugin answered with a local reply (the upstream was not called).
    pub local_reply: bool,
    /// The request headers the upstream received (pseudo-headers included), if forwarded.
    pub forwarded: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

/// The header lines an HTTP/1 upstream receives for a forwarded request (see
/// [`Exchange::forwarded`]): `:authority` becomes `host` again, the other pseudo-headers go.
pub fn upstream_lines(forwarded: &[(Vec<u8>, Vec<u8>)]) -> impl Iterator<Item = (&[u8], &[u8])> {
    forwarded.iter().filter_map(|(n, v)| match n.as_slice() {
        b":authority" => Some((&b"host"[..], v.as_slice())),
        name if name.starts_with(b":") => None,
        name => Some((name, v.as_slice())),
    })
}
