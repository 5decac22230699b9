//! `proxy_log`, the log level, time, and the calls a host without timers or effective contexts
//! answers with `Ok`.

use wasmtime::Linker;

use super::{Ctx, HostState, LOG_LEVELS, OK, memory, read, write_u32};
use crate::log::LogLine;

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: Ctx<'_>, level: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let message = read(&mut caller, ptr, len)?;
            let level = LOG_LEVELS
                .get(level as usize)
                .copied()
                .unwrap_or("critical");
            caller.data_mut().log.push(LogLine {
                level,
                message: String::from_utf8_lossy(&message).into_owned(),
            });
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: Ctx<'_>, ptr: i32| -> wasmtime::Result<i32> {
            let level = caller.data().log_level as u32;
            write_u32(&mut caller, ptr, level)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: Ctx<'_>, ptr: i32| -> wasmtime::Result<i32> {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, ptr as u32 as usize, &now.to_le_bytes())?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut caller: Ctx<'_>, period: i32| -> i32 {
            caller.data_mut().tick_period_ms = (period != 0).then_some(period as u32);
            OK
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |_: Ctx<'_>, _id: i32| -> i32 { OK },
    )?;
    linker.func_wrap("env", "proxy_done", |_: Ctx<'_>| -> i32 { OK })?;
    Ok(())
}
