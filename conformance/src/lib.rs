//! # polycors-conformance
//!
//! Request/response cases as data (`conformance/cases/*.yaml`), and one [`Target`] per adapter
//! that turns a case into normalised [`Outcome`]s. Every target is checked against the same
//! insta snapshot per case (`tests/conformance.rs`), so adapters cannot drift apart.
//!
//! ## Case files
//!
//! ```yaml
//! description: what the case shows
//! config: { allow_origins: [http://a.test] }   # the policy (or `plugin_config` with `_rules_`)
//! requests:
//!   - name: preflight
//!     method: OPTIONS                 # default GET
//!     authority: api.test             # default api.test; the scheme is http
//!     path: /anything                 # default /
//!     headers:                        # ordered pairs; repeat a name to send it twice
//!       - [origin, http://a.test]
//!       - {name: origin, hex: 68747470}   # raw bytes, for non-UTF-8 values
//!     route_name: r1                  # proxy-wasm properties (plugin_config cases)
//!     cluster_name: outbound|80||svc.local
//!     upstream:                       # the response if the request is forwarded
//!       status: 200
//!       headers: [[vary, Accept-Encoding]]
//!       body: hello
//! ```

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod targets;
pub mod wire;

/// One case file: a configuration and the requests sent through it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The file stem, used as the snapshot name.
    #[serde(skip)]
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// The policy configuration, as a user writes it (YAML).
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// A proxy-wasm plugin configuration with Higress `_rules_` (only targets that select
    /// policies by route run it).
    #[serde(default)]
    pub plugin_config: Option<serde_json::Value>,
    /// The requests, in order.
    pub requests: Vec<CaseRequest>,
}

/// One request of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRequest {
    /// A short name, shown in the snapshot.
    pub name: String,
    /// The method, as sent.
    #[serde(default = "default_method")]
    pub method: String,
    /// The request's authority (`Host`).
    #[serde(default = "default_authority")]
    pub authority: String,
    /// Path and query.
    #[serde(default = "default_path")]
    pub path: String,
    /// Header lines, in order.
    #[serde(default)]
    pub headers: Vec<HeaderLine>,
    /// Envoy `route_name` property.
    #[serde(default)]
    pub route_name: Option<String>,
    /// Envoy `cluster_name` property.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The upstream's response, if the request is forwarded.
    #[serde(default)]
    pub upstream: Upstream,
    /// Targets whose host answers this request itself before any filter runs, by target name
    /// (Envoy's HTTP/1 codec answers 400 to a lower-case method): there the target must get
    /// exactly this answer, and the request is left out of that target's snapshot comparison.
    #[serde(default)]
    pub host_answers: std::collections::BTreeMap<String, HostAnswer>,
}

/// What a host answers before any filter runs, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAnswer {
    /// The host's status.
    pub status: u16,
    /// Why the host answers first (listed in docs/conformance.md).
    pub why: String,
}

fn default_method() -> String {
    "GET".into()
}
fn default_authority() -> String {
    "api.test".into()
}
fn default_path() -> String {
    "/".into()
}

/// A header line: `[name, value]`, or `{name, hex}` for raw bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderLine {
    /// A text value.
    Text(String, String),
    /// Raw bytes, written in hex in case files.
    Bytes {
        /// The header name.
        name: String,
        /// The value's bytes (hex digits in the file, whitespace ignored).
        #[serde(deserialize_with = "from_hex")]
        hex: Vec<u8>,
    },
}

impl HeaderLine {
    /// The name and the value's bytes.
    pub fn pair(&self) -> (String, Vec<u8>) {
        match self {
            Self::Text(name, value) => (name.clone(), value.clone().into_bytes()),
            Self::Bytes { name, hex } => (name.clone(), hex.clone()),
        }
    }
}

fn from_hex<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| serde::de::Error::custom(format!("bad hex digits {pair:?}")))
        })
        .collect()
}

/// The upstream response for a forwarded request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// Status code.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Header lines, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Body text.
    #[serde(default = "default_body")]
    pub body: String,
}

fn default_status() -> u16 {
    200
}
fn default_body() -> String {
    "upstream body".into()
}

impl Default for Upstream {
    fn default() -> Self {
        Self {
            status: default_status(),
            headers: Vec::new(),
            body: default_body(),
        }
    }
}

/// What a client saw for one request, normalised so that every target can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The request's name.
    pub request: String,
    /// `policy` (answered locally) or `upstream` (forwarded).
    pub answered_by: &'static str,
    /// Response status.
    pub status: u16,
    /// Why the adapter rejected the request ([`polycors::Reason::code`]), as the adapter
    /// reported it (the verdict in the response's extensions, the plugin's log line), so that a
    /// 403 for the wrong reason fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Response headers: lowercase names sorted, values in order; `date`, `server` and
    /// `content-length` (framework-specific) are left out. Shown as `name: value` lines.
    #[serde(serialize_with = "header_lines")]
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: String,
    /// The request headers the upstream saw (forwarded requests only), lowercase, sorted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_header_lines"
    )]
    pub upstream_saw: Option<Vec<(String, String)>>,
}

fn header_lines<S: serde::Serializer>(
    headers: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(
        headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}")),
    )
}

fn optional_header_lines<S: serde::Serializer>(
    headers: &Option<Vec<(String, String)>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match headers {
        Some(headers) => header_lines(headers, serializer),
        None => serializer.serialize_none(),
    }
}

/// The reason of a failed check in one of the plugin's per-request log lines
/// (`polycors request: ... -> reject: origin-not-allowed [global] -> 403 ...`, or
/// `-> disallowed: ...` for a forwarded one), if the line is one and says so.
pub fn reason_in_plugin_line(line: &str) -> Option<Option<String>> {
    let rest = &line[line.find("polycors request: ")?..];
    let after = [" -> reject: ", " -> disallowed: "]
        .iter()
        .find_map(|marker| rest.split(marker).nth(1));
    Some(
        after
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_owned),
    )
}

/// Renders header bytes as text: UTF-8 as is, anything else escaped.
pub fn show(bytes: &[u8]) -> String {
    polycors::adapter::header_text(bytes).into_owned()
}

/// Normalises header lines: lowercase names, stable sort by name, framework headers dropped.
pub fn normalise_headers<'a>(
    lines: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lines
        .into_iter()
        .map(|(n, v)| (show(n).to_ascii_lowercase(), show(v)))
        .filter(|(n, _)| !matches!(n.as_str(), "date" | "server" | "content-length"))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// An adapter under test.
pub trait Target {
    /// The target's name (`core`, `tower`, `actix`, `proxy-wasm`).
    fn name(&self) -> &'static str;
    /// The host whose own answers (`host_answers` in the cases) apply to this target: its
    /// name, except for the targets that share a host (both Envoy targets are `envoy`).
    fn host(&self) -> &'static str {
        self.name()
    }
    /// Whether the target selects policies by route (runs `plugin_config` cases).
    fn supports_rules(&self) -> bool {
        false
    }
    /// Sends every request of `case` through the adapter.
    fn run(&mut self, case: &Case) -> Vec<Outcome>;
}

/// The directory holding the case files.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// Loads every case file, sorted by name.
pub fn load_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("conformance/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("readable case");
            let mut case: Case =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            case.name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                case.config.is_some() != case.plugin_config.is_some(),
                "{}: give exactly one of config and plugin_config",
                case.name
            );
            case
        })
        .collect()
}

/// An invalid configuration and the errors every target must report for it
/// (`conformance/config-errors.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigErrorCase {
    /// What it shows.
    pub name: String,
    /// The configuration, as a value.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// The configuration as raw text (for documents that are not valid JSON).
    #[serde(default)]
    pub json: Option<String>,
    /// Spaces appended to the document.
    #[serde(default)]
    pub padding: usize,
    /// Every error, as the core words it, in order.
    pub errors: Vec<String>,
}

impl ConfigErrorCase {
    /// The configuration as the plugin receives it.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = match (&self.config, &self.json) {
            (Some(value), None) => serde_json::to_vec(value).expect("serialisable"),
            (None, Some(text)) => text.clone().into_bytes(),
            _ => panic!("{}: give exactly one of config and json", self.name),
        };
        bytes.resize(bytes.len() + self.padding, b' ');
        bytes
    }
}

/// Loads `conformance/config-errors.yaml`.
pub fn load_config_errors() -> Vec<ConfigErrorCase> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-errors.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The outcomes stored in a case's snapshot (`snapshots/<case>.snap`), for targets whose
/// comparison leaves some requests out (see [`CaseRequest::host_answers`]).
pub fn snapshot_outcomes(case: &Case) -> Vec<serde_yaml::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{}.snap", case.name));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run the core target first)", path.display()));
    // An insta snapshot: `---`, a metadata block, `---`, then the YAML value.
    let body = text
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or_else(|| panic!("{}: not an insta snapshot", path.display()));
    serde_yaml::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Case {
    /// The policy of a `config` case.
    pub fn policy(&self) -> polycors::Policy {
        let config = self.config.as_ref().expect("a config case");
        polycors::Config::from_value(config)
            .and_then(polycors::Policy::new)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    /// The plugin configuration as JSON bytes (the `config` of a plain case, or
    /// `plugin_config`).
    pub fn plugin_json(&self) -> Vec<u8> {
        let value = self
            .plugin_config
            .as_ref()
            .or(self.config.as_ref())
            .expect("a config");
        serde_json::to_vec(value).expect("serialisable")
    }
}
