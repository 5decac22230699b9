//! Buffers (the plugin configuration, readable during `proxy_on_configure` only) and properties
//! (`xds.route_name`, `xds.cluster_name`, or their legacy top-level names).

use wasmtime::Linker;

use super::{Ctx, HostState, NOT_FOUND, OK, PLUGIN_CONFIGURATION, Phase, give, read};

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: Ctx<'_>,
         kind: i32,
         start: i32,
         max: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            if kind != PLUGIN_CONFIGURATION || caller.data().phase != Phase::Configure {
                return Ok(NOT_FOUND);
            }
            let configuration = std::mem::take(&mut caller.data_mut().configuration);
            let start = (start as u32 as usize).min(configuration.len());
            let end = start
                .saturating_add(max as u32 as usize)
                .min(configuration.len());
            let result = give(&mut caller, &configuration[start..end], ptr_ptr, size_ptr);
            caller.data_mut().configuration = configuration;
            result.map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |_: Ctx<'_>, _kind: i32, _start: i32, _size: i32, _ptr: i32, _len: i32| -> i32 {
            NOT_FOUND
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut caller: Ctx<'_>,
         path_ptr: i32,
         path_len: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            // A path is its segments joined by NUL bytes.
            let path = read(&mut caller, path_ptr, path_len)?;
            let state = caller.data();
            let value = match (path.as_slice(), state.legacy_property_names) {
                (b"xds\0route_name", false) | (b"route_name", true) => state.route_name.clone(),
                (b"xds\0cluster_name", false) | (b"cluster_name", true) => {
                    state.cluster_name.clone()
                }
                _ => None,
            };
            match value {
                Some(value) => give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |_: Ctx<'_>, _path: i32, _path_len: i32, _value: i32, _value_len: i32| -> i32 { OK },
    )?;
    Ok(())
}
