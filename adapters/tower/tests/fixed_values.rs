//! The policy's fixed values and listed origins reach responses over the process's interned
//! bytes.

#[path = "../../shared/fixed_values.rs"]
mod fixed_values;

mod support;

use polycors::Policy;
use polycors_tower::CorsLayer;

use fixed_values::{ACTUAL, FIXED, POLICY, PREFLIGHT, assert_interned};

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
        let response = support::send(&layer, "GET", &ACTUAL).await;
        let value = response
            .headers()
            .get(FIXED[0].0)
            .expect("an allowed origin");
        assert_interned(FIXED[0].0, value.as_bytes(), FIXED[0].1);
    }
}
