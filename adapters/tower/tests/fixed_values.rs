//! The policy's fixed values reach responses over the process's interned bytes.

#[path = "../../shared/fixed_values.rs"]
mod fixed_values;

mod support;

use polycors::Policy;
use polycors_tower::CorsLayer;

use fixed_values::{FIXED, POLICY, PREFLIGHT, assert_interned};

#[tokio::test]
async fn fixed_values_are_the_interned_bytes() {
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"));
    // Twice: the second response clones the same values.
    for _ in 0..2 {
        let response = support::send(&layer, "OPTIONS", &PREFLIGHT).await;
        assert_eq!(response.status(), 200);
        for (name, expected) in FIXED {
            let value = response.headers().get(name).expect(name);
            assert_interned(name, value.as_bytes(), expected);
        }
    }
}
