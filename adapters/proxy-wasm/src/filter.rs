//! The HTTP context: one request.

use std::rc::Rc;

use polycors::{Decision, HeaderList, RequestView, RouteInfo, ScopedPolicies};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::envoy;

/// Where a request stands.
enum State {
    /// No decision (no policy applies, or the request headers have not been seen).
    Untouched,
    /// Forwarded; the decision is applied to the response headers once.
    Forwarded(Decision<'static>),
    /// Answered with a local reply that already carries every header, or already applied.
    Done,
}

pub(crate) struct CorsFilter {
    policies: Option<Rc<ScopedPolicies>>,
    state: State,
}

impl CorsFilter {
    pub(crate) fn new(policies: Option<Rc<ScopedPolicies>>) -> Self {
        Self {
            policies,
            state: State::Untouched,
        }
    }
}

impl Context for CorsFilter {}

impl HttpContext for CorsFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(policies) = self.policies.as_deref() else {
            return Action::Continue;
        };
        let headers = envoy::request_headers();
        let route_name = envoy::property("route_name");
        let cluster_name = envoy::property("cluster_name");
        let authority = headers
            .iter()
            .find(|(n, _)| n == ":authority")
            .map(|(_, v)| v.as_slice());
        let route = RouteInfo {
            route_name: route_name.as_deref(),
            authority,
            cluster_name: cluster_name.as_deref(),
        };
        let Some(policy) = policies.select(&route) else {
            return Action::Continue;
        };

        // `add_header` also reads the pseudo-headers: `:method`, `:scheme`, `:authority`.
        let mut view = RequestView::new(b"");
        for (name, value) in &headers {
            view.add_header(name.as_bytes(), value);
        }
        let decision = policy.evaluate(&view);

        if let Some(local) = decision.local_response() {
            let mut reply = HeaderList::default();
            decision.apply(&mut reply);
            envoy::send_local_reply(local.status, &reply, local.body.as_bytes());
            self.state = State::Done;
            return Action::Pause;
        }
        self.state = State::Forwarded(decision.into_owned());
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if let State::Forwarded(decision) = std::mem::replace(&mut self.state, State::Done) {
            decision.apply(&mut envoy::ResponseHeaderMap::read());
        }
        Action::Continue
    }
}
