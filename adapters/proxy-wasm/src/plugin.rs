//! The callbacks that drive the plugin's state: contexts created and deleted, configurations
//! loaded, requests and responses handed to `filter.rs`.

use std::cell::RefCell;

use polycors::ScopedPolicies;

use crate::filter;
use crate::host::Host;
use crate::state::{
    Action, Context, Counters, FLUSH_PERIOD_MS, Plugin, Root, State, return_buffer,
};

thread_local! {
    static PLUGIN: RefCell<Plugin> = RefCell::new(Plugin::default());
}

/// Runs `f` on the plugin state. The host never calls back into the plugin's callbacks while one
/// runs (only `proxy_on_memory_allocate`, which does not touch this state).
fn with<R>(f: impl FnOnce(&mut Plugin) -> R) -> R {
    PLUGIN.with_borrow_mut(f)
}

pub(crate) fn on_context_create(context: u32, parent: u32) {
    with(|plugin| {
        if parent == 0 {
            if !plugin.roots.iter().any(|(id, _)| *id == context) {
                plugin.roots.push((context, Root::default()));
            }
        } else {
            plugin.contexts.insert(
                context,
                Context {
                    root: parent,
                    state: State::Waiting,
                },
            );
        }
    });
}

pub(crate) fn on_configure(host: &impl Host, root: u32) -> bool {
    let configuration = host.plugin_configuration();
    match ScopedPolicies::from_json(configuration)
        .and_then(ScopedPolicies::refuse_origin_predicates)
    {
        Ok(policies) => {
            // The core has logged the warnings while compiling the policies.
            with(|plugin| {
                let needs = policies.route_needs();
                let index = match plugin.roots.iter().position(|(id, _)| *id == root) {
                    Some(index) => index,
                    None => {
                        plugin.roots.push((root, Root::default()));
                        plugin.roots.len() - 1
                    }
                };
                let entry = &mut plugin.roots[index].1;
                entry.policies = Some(policies);
                entry.needs = needs;
                // Counters survive a new configuration (with their pending counts).
                if entry.counters.is_none() {
                    entry.counters = Counters::define(host);
                    match entry.counters {
                        Some(_) => host.set_tick_period(FLUSH_PERIOD_MS),
                        None => log::warn!(
                            "polycors: the host keeps no metrics; decisions are not counted"
                        ),
                    }
                }
            });
            true
        }
        Err(invalid) => {
            for error in invalid.errors() {
                log::error!("polycors: invalid configuration: {error}");
            }
            false
        }
    }
}

pub(crate) fn on_request_headers(host: &impl Host, context: u32) -> Action {
    with(|plugin| filter::on_request_headers(host, plugin, context))
}

pub(crate) fn on_response_headers(host: &impl Host, context: u32) -> Action {
    with(|plugin| filter::on_response_headers(host, plugin, context))
}

pub(crate) fn on_tick(host: &impl Host, root: u32) {
    with(|plugin| flush_counts(host, plugin, root));
}

/// Hands root context `root`'s pending decision counts to the host (nothing if `root` is not a
/// root context, or has no counters).
fn flush_counts(host: &impl Host, plugin: &Plugin, root: u32) {
    let root = plugin.roots.iter().find(|(id, _)| *id == root);
    if let Some((
        _,
        Root {
            counters: Some(counters),
            ..
        },
    )) = root
    {
        counters.flush(host);
    }
}

pub(crate) fn on_delete(host: &impl Host, context: u32) {
    with(|plugin| {
        // A root context that ends hands over what it has counted since its last tick.
        flush_counts(host, plugin, context);
        plugin.roots.retain(|(id, _)| *id != context);
        if let Some(Context {
            state: State::Forwarded { origin, log, .. },
            ..
        }) = plugin.contexts.remove(&context)
        {
            return_buffer(&mut plugin.pool, origin);
            return_buffer(&mut plugin.pool, log);
        }
    });
}
