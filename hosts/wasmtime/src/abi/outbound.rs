//! Outbound HTTP and gRPC calls: refused as Envoy refuses a call to an unknown cluster.

use wasmtime::Linker;

use super::{BAD_ARGUMENT, Ctx, HostState, NOT_FOUND};

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |_: Ctx<'_>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32|
         -> i32 { BAD_ARGUMENT },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |_: Ctx<'_>, _: i32, _: i32, _: i32, _: i32| -> i32 { NOT_FOUND },
    )?;
    linker.func_wrap("env", "proxy_grpc_cancel", |_: Ctx<'_>, _: i32| -> i32 {
        NOT_FOUND
    })?;
    linker.func_wrap("env", "proxy_grpc_close", |_: Ctx<'_>, _: i32| -> i32 {
        NOT_FOUND
    })?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |_: Ctx<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 { NOT_FOUND },
    )?;
    Ok(())
}
