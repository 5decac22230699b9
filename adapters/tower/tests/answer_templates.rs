//! Local answers are made once per key and copied: through one layer, every answer in a
//! sequence of preflights and rejections from different origins is the core's answer to that
//! request, written in full.

mod support;

use polycors::adapter::HeaderList;
use polycors::{Policy, RequestView};
use polycors_tower::CorsLayer;

const POLICY: &str = "allow_origins: [https://a.example, https://b.example]\n\
    allow_methods: [GET, PUT]\nallow_headers: [x-one]\nallow_credentials: true\n\
    allow_private_network: true\nmax_age: 60";

type Lines = Vec<(Vec<u8>, Vec<u8>)>;

/// The core's answer to `headers`, written in full, sorted.
fn expected(policy: &Policy, method: &str, headers: &[(&str, &str)]) -> Lines {
    let mut view = RequestView::new(method.as_bytes());
    view.set_authority(b"api.example");
    for (name, value) in headers {
        view.add_header(name.as_bytes(), value.as_bytes());
    }
    let decision = policy.evaluate(&view);
    let mut list = HeaderList::default();
    decision.write_headers(&mut list.for_response(policy, decision.origin()));
    list.0.sort();
    list.0
}

#[tokio::test]
async fn copied_answers_are_each_requests_own() {
    let policy = Policy::from_yaml(POLICY).expect("valid");
    let layer = CorsLayer::new(policy.clone());
    let preflight = |origin, private_network: bool| {
        let mut headers = vec![("origin", origin), ("access-control-request-method", "PUT")];
        if private_network {
            headers.push(("access-control-request-private-network", "true"));
        }
        ("OPTIONS", headers)
    };
    let sequence = [
        preflight("https://a.example", false),
        preflight("https://b.example", false),
        preflight("https://b.example", true),
        preflight("https://evil.example", false),
        preflight("https://a.example", true),
        ("GET", vec![("origin", "https://evil.example")]),
        preflight("https://a.example", false),
        ("GET", vec![("origin", "https://other.example")]),
        preflight("https://b.example", false),
    ];
    for (method, headers) in &sequence {
        let mut lines = vec![("host", "api.example")];
        lines.extend_from_slice(headers);
        let response = support::send(&layer, method, &lines).await;
        let mut lines: Lines = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        lines.sort();
        assert_eq!(
            lines,
            expected(&policy, method, headers),
            "{method} {headers:?}"
        );
    }
}
