//! The WASI functions the Rust SDK needs: output captured into the log, no environment, a
//! reproducible random source, real time; `proc_exit` traps.

use wasmtime::Linker;

use super::{Ctx, HostState, memory, read, write_u32};
use crate::log::LogLine;

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const WASI: &str = "wasi_snapshot_preview1";
    const ERRNO_SUCCESS: i32 = 0;
    const ERRNO_BADF: i32 = 8;
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut caller: Ctx<'_>,
         fd: i32,
         iovs: i32,
         count: i32,
         written_ptr: i32|
         -> wasmtime::Result<i32> {
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            let vectors = read(&mut caller, iovs, count.saturating_mul(8))?;
            let mut text = Vec::new();
            for vector in vectors.chunks_exact(8) {
                let ptr = i32::from_le_bytes([vector[0], vector[1], vector[2], vector[3]]);
                let len = i32::from_le_bytes([vector[4], vector[5], vector[6], vector[7]]);
                text.extend(read(&mut caller, ptr, len)?);
            }
            write_u32(&mut caller, written_ptr, text.len() as u32)?;
            caller.data_mut().log.push(LogLine {
                level: if fd == 1 { "stdout" } else { "stderr" },
                message: String::from_utf8_lossy(&text).into_owned(),
            });
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "environ_sizes_get",
        |mut caller: Ctx<'_>, count_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            write_u32(&mut caller, count_ptr, 0)?;
            write_u32(&mut caller, size_ptr, 0)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(WASI, "environ_get", |_: Ctx<'_>, _: i32, _: i32| -> i32 {
        ERRNO_SUCCESS
    })?;
    linker.func_wrap(
        WASI,
        "random_get",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let mut bytes = vec![0u8; len as u32 as usize];
            let state = &mut caller.data_mut().random;
            for byte in &mut bytes {
                // xorshift64: reproducible, which is all a test host needs.
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                *byte = *state as u8;
            }
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, ptr as u32 as usize, &bytes)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut caller: Ctx<'_>,
         _clock: i32,
         _precision: i64,
         time_ptr: i32|
         -> wasmtime::Result<i32> {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let memory = memory(&mut caller)?;
            memory.write(&mut caller, time_ptr as u32 as usize, &now.to_le_bytes())?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |_: Ctx<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg(format!(
                "the plugin called proc_exit({code})"
            )))
        },
    )?;
    Ok(())
}
