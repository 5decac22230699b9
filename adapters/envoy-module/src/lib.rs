//! # polycors-envoy-module
//!
//! polycors as an Envoy dynamic module: a shared library that Envoy 1.40 loads with its
//! `envoy.filters.http.dynamic_modules` HTTP filter and runs as native code, with no wasm
//! boundary. It takes the proxy-wasm plugin's configuration (JSON, the Higress cors fields,
//! `_rules_` included: route names and cluster names come from Envoy's `xds.route_name` and
//! `xds.cluster_name` attributes), answers and decorates exactly as every other adapter (the
//! conformance suite runs it in a real Envoy), and counts its decisions in Envoy's stats.
//! Guide: `docs/envoy-module.md`.

#![deny(unsafe_code)]

mod abi;
mod filter;
