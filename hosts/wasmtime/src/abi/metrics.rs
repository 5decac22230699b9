//! Metrics: counters, gauges and histograms the plugin defines, kept by name as Envoy keeps
//! them in its stats (a second definition of a name returns the same id).

use wasmtime::Linker;

use super::{BAD_ARGUMENT, Ctx, HostState, NOT_FOUND, OK, read, write_u32};

/// proxy-wasm metric types.
const COUNTER: i32 = 0;
const HISTOGRAM: i32 = 2;

/// One defined metric.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    pub(crate) name: String,
    kind: i32,
    pub(crate) value: i64,
}

/// Sets metric `id` to `new(value)`, unless it is of kind `refused` (counters are not
/// recorded, histograms not incremented).
fn update(caller: &mut Ctx<'_>, id: i32, refused: i32, new: impl FnOnce(i64) -> i64) -> i32 {
    match caller.data_mut().metrics.get_mut(id as u32 as usize) {
        Some(metric) if metric.kind != refused => {
            metric.value = new(metric.value);
            OK
        }
        Some(_) => BAD_ARGUMENT,
        None => NOT_FOUND,
    }
}

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut caller: Ctx<'_>,
         kind: i32,
         name_ptr: i32,
         name_len: i32,
         id_ptr: i32|
         -> wasmtime::Result<i32> {
            if !(COUNTER..=HISTOGRAM).contains(&kind) {
                return Ok(BAD_ARGUMENT);
            }
            let name = read(&mut caller, name_ptr, name_len)?;
            let Ok(name) = String::from_utf8(name) else {
                return Ok(BAD_ARGUMENT);
            };
            let metrics = &mut caller.data_mut().metrics;
            let id = match metrics
                .iter()
                .position(|m| m.name == name && m.kind == kind)
            {
                Some(id) => id,
                None => {
                    metrics.push(Metric {
                        name,
                        kind,
                        value: 0,
                    });
                    metrics.len() - 1
                }
            };
            write_u32(&mut caller, id_ptr, id as u32)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: Ctx<'_>, id: i32, offset: i64| -> i32 {
            update(&mut caller, id, HISTOGRAM, |value| {
                value.saturating_add(offset)
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Ctx<'_>, id: i32, value: i64| -> i32 {
            update(&mut caller, id, COUNTER, |_| value)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: Ctx<'_>, id: i32, value_ptr: i32| -> wasmtime::Result<i32> {
            let Some(value) = caller
                .data()
                .metrics
                .get(id as u32 as usize)
                .map(|m| m.value)
            else {
                return Ok(NOT_FOUND);
            };
            let memory = super::memory(&mut caller)?;
            memory.write(&mut caller, value_ptr as u32 as usize, &value.to_le_bytes())?;
            Ok(OK)
        },
    )?;
    Ok(())
}
