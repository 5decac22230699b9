//! One request: read what the decision needs in as few host calls as possible, decide, answer
//! or forward; then write the plan onto the response in one call.
//!
//! Host calls are what a proxy-wasm plugin pays for in Envoy (each one crosses the wasm
//! boundary, and one that returns data also calls back into the plugin to allocate: measured
//! in Envoy 1.40, reading one header costs more than reading the whole map), so:
//! - The request map is read in one call and parsed in place (`origin` and the
//!   `access-control-request-*` headers arrive joined, as Envoy keeps them).
//! - Properties are read only when a `_rules_` entry selects by them.
//! - A local answer carries all its headers in one call; the response hook then leaves it
//!   alone. A forwarded response is read once; each header the core sets or removes is then
//!   one call (cheaper in Envoy than rewriting the whole map).

use std::fmt::Write;

use polycors::counters::Counter;
use polycors::decision::Action as CoreAction;
use polycors::{RequestView, RouteInfo, Verdict};

use crate::headers::Edit;
use crate::host::{Host, Map};
use crate::state::{Action, Context, Plugin, State, return_buffer, take_buffer};
use crate::wire;

/// A property of the xDS configuration: `xds.route_name` in Envoy 1.40; older Envoys and
/// Higress's build answer the top-level `route_name`.
fn xds_property<'h>(host: &'h impl Host, name: &str) -> Option<&'h [u8]> {
    let mut path = [0u8; 32];
    let xds = b"xds\0";
    let full = xds.len() + name.len();
    if full > path.len() {
        return None;
    }
    path[..xds.len()].copy_from_slice(xds);
    path[xds.len()..full].copy_from_slice(name.as_bytes());
    host.property(&path[..full])
        .or_else(|| host.property(name.as_bytes()))
}

/// A log line being written (bytes: request values are escaped, not assumed UTF-8).
struct Line<'a>(&'a mut Vec<u8>);

impl Write for Line<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

pub(crate) fn on_request_headers(host: &impl Host, plugin: &mut Plugin, context: u32) -> Action {
    let Some(root) = plugin.contexts.get(&context).map(|c| c.root) else {
        return Action::Continue;
    };
    let Some((_, root)) = plugin.roots.iter().find(|(id, _)| *id == root) else {
        return Action::Continue;
    };
    let Some(policies) = &root.policies else {
        return Action::Continue;
    };
    let debug = log::log_enabled!(log::Level::Debug);

    let map = host.header_map(Map::Request);
    let mut view = RequestView::new(b"");
    let mut origin = None;
    let mut authority = None;
    let mut path: &[u8] = b"";
    // The map includes the pseudo-headers `:method`, `:scheme`, `:authority` and `:path`.
    for (name, value) in wire::lines(map) {
        view.add_header(name, value);
        match name {
            b"origin" => origin = Some(value),
            b":authority" => authority = Some(value),
            b":path" => path = value,
            _ => {}
        }
    }

    let needs = root.needs;
    let route = RouteInfo {
        route_name: needs
            .route_name
            .then(|| xds_property(host, "route_name"))
            .flatten(),
        authority: authority.filter(|_| needs.authority),
        cluster_name: needs
            .cluster_name
            .then(|| xds_property(host, "cluster_name"))
            .flatten(),
    };
    let selected = policies.select_scoped(&route);
    let mut log_line = Vec::new();
    if debug {
        // `METHOD TARGET origin=ORIGIN -> DECISION [POLICY] -> STATUS (REJECTION)`, the line
        // `cargo xtask serve` prints for every adapter.
        log_line = take_buffer(&mut plugin.pool);
        let method = view.method();
        let _ = write!(
            Line(&mut log_line),
            "polycors request: {} {} origin={} -> ",
            method.escape_ascii(),
            path.escape_ascii(),
            origin.map_or("-".into(), |o| o.escape_ascii().to_string()),
        );
    }
    let Some((scope, policy)) = selected else {
        if let Some(counters) = &root.counters {
            counters.count(Counter::NoPolicy);
        }
        if debug {
            log_line.extend_from_slice(b"no policy");
            log::debug!("{}", String::from_utf8_lossy(&log_line));
        }
        return_buffer(&mut plugin.pool, log_line);
        return Action::Continue;
    };
    let decision = policy.evaluate(&view);
    if let Some(counters) = &root.counters {
        counters.count_verdict(decision.verdict());
    }
    if debug {
        let _ = write!(Line(&mut log_line), "{} [{scope}]", decision.verdict());
    }
    let state = match decision.action() {
        CoreAction::Answer(answer) => {
            let mut edit = Edit::new(&mut plugin.buffers, &[], policy, decision.origin());
            decision.write_headers(&mut edit);
            let headers = edit.serialize();
            let status = answer.status.code();
            if let Err(error) = host.send_local_response(status, headers, answer.body.as_bytes()) {
                log::error!("polycors: the host refused the local answer: {error:?}");
            }
            if debug {
                let _ = write!(Line(&mut log_line), " -> {status}");
                if let Some(rejection) = decision.rejection() {
                    let _ = write!(Line(&mut log_line), " ({rejection})");
                }
                log::debug!("{}", String::from_utf8_lossy(&log_line));
            }
            return_buffer(&mut plugin.pool, log_line);
            State::Done
        }
        CoreAction::Forward(forwarded) => {
            let mut copy = take_buffer(&mut plugin.pool);
            copy.extend_from_slice(origin.unwrap_or_default());
            State::Forwarded {
                scope,
                forwarded,
                origin: copy,
                log: log_line,
            }
        }
    };
    let answered = matches!(state, State::Done);
    if let Some(Context { state: slot, .. }) = plugin.contexts.get_mut(&context) {
        *slot = state;
    }
    if answered {
        Action::Pause
    } else {
        Action::Continue
    }
}

pub(crate) fn on_response_headers(host: &impl Host, plugin: &mut Plugin, context: u32) -> Action {
    let Some(entry) = plugin.contexts.get_mut(&context) else {
        return Action::Continue;
    };
    let root = entry.root;
    let State::Forwarded {
        scope,
        forwarded,
        origin,
        mut log,
    } = std::mem::replace(&mut entry.state, State::Done)
    else {
        return Action::Continue;
    };
    let policy = plugin
        .roots
        .iter()
        .find(|(id, _)| *id == root)
        .and_then(|(_, root)| root.policies.as_ref())
        .and_then(|policies| policies.get(scope));
    if let Some(policy) = policy {
        let map = host.header_map(Map::Response);
        let mut edit = Edit::new(&mut plugin.buffers, map, policy, &origin);
        forwarded.write_headers(&mut edit);
        if !log.is_empty() {
            let status = edit.get(b":status").unwrap_or_default();
            let _ = write!(Line(&mut log), " -> {}", status.escape_ascii());
            log::debug!("{}", String::from_utf8_lossy(&log));
        }
        if let Err(error) = edit.write_back(host, Map::Response) {
            log::error!("polycors: the host refused a response header: {error:?}");
        }
    }
    debug_assert!(matches!(
        forwarded.verdict(),
        Verdict::NotCors | Verdict::Actual | Verdict::Disallowed(_)
    ));
    return_buffer(&mut plugin.pool, origin);
    return_buffer(&mut plugin.pool, log);
    Action::Continue
}
