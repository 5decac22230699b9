//! The reference target: the core called directly, with the core's own header list.

use polycors::adapter::HeaderList;
use polycors::decision::Action;
use polycors::{RequestView, RouteInfo, ScopedPolicies};

use crate::{Case, CaseRequest, Outcome, Target, normalise_headers};

/// The core crate, called directly.
#[derive(Debug, Default)]
pub struct Core;

impl Target for Core {
    fn name(&self) -> &'static str {
        "core"
    }

    fn supports_rules(&self) -> bool {
        true
    }

    fn run(&mut self, case: &Case) -> Vec<Outcome> {
        let scoped = match &case.plugin_config {
            Some(value) => ScopedPolicies::from_value(value).expect("valid plugin_config"),
            None => ScopedPolicies::from(case.policy()),
        };
        case.requests
            .iter()
            .map(|request| Core::outcome(&scoped, request))
            .collect()
    }
}

impl Core {
    /// What the core decides for one request (scheme `http`), with the upstream's response
    /// fixed up: the reference every adapter is compared with.
    pub fn outcome(scoped: &ScopedPolicies, request: &CaseRequest) -> Outcome {
        let pairs: Vec<(String, Vec<u8>)> = request.headers.iter().map(|h| h.pair()).collect();
        let route = RouteInfo {
            route_name: request.route_name.as_deref().map(str::as_bytes),
            authority: Some(request.authority.as_bytes()),
            cluster_name: request.cluster_name.as_deref().map(str::as_bytes),
        };
        let upstream = HeaderList(
            request
                .upstream
                .headers
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
        );
        let saw = || Some(normalise_headers(request_lines(&pairs, &request.authority)));
        let Some(policy) = scoped.select(&route) else {
            return Outcome {
                request: request.name.clone(),
                answered_by: "upstream",
                status: request.upstream.status,
                reason: None,
                headers: normalise_headers(upstream.0.iter().map(|(n, v)| (&n[..], &v[..]))),
                body: request.upstream.body.clone(),
                upstream_saw: saw(),
            };
        };
        let mut view = RequestView::new(request.method.as_bytes());
        view.set_scheme(b"http")
            .set_authority(request.authority.as_bytes());
        for (name, value) in &pairs {
            view.add_header(name.as_bytes(), value);
        }
        let decision = policy.evaluate(&view);
        let (answered_by, status, body, mut headers, upstream_saw) = match decision.action() {
            Action::Answer(answer) => (
                "policy",
                answer.status.code(),
                answer.body.into_owned(),
                HeaderList::default(),
                None,
            ),
            Action::Forward(_) => (
                "upstream",
                request.upstream.status,
                request.upstream.body.clone(),
                upstream,
                saw(),
            ),
        };
        decision.write_headers(&mut headers.for_response(policy, decision.origin()));
        Outcome {
            request: request.name.clone(),
            answered_by,
            status,
            reason: decision.verdict().reason().map(|r| r.code().to_owned()),
            headers: normalise_headers(headers.0.iter().map(|(n, v)| (&n[..], &v[..]))),
            body,
            upstream_saw,
        }
    }
}

/// The request header lines an upstream sees: `host` plus the case's headers.
pub(crate) fn request_lines<'a>(
    pairs: &'a [(String, Vec<u8>)],
    authority: &'a str,
) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
    std::iter::once((&b"host"[..], authority.as_bytes()))
        .chain(pairs.iter().map(|(n, v)| (n.as_bytes(), &v[..])))
}
