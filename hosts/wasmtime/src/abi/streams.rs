//! Local replies (deferred until the callback returns, as in Envoy) and stream control.

use wasmtime::Linker;

use super::headers::deserialize_map;
use super::{BAD_ARGUMENT, Ctx, HostState, NOT_FOUND, OK, SERIALIZATION_FAILURE, read};
use crate::http::HttpResponse;

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: Ctx<'_>,
         status: i32,
         _details_ptr: i32,
         _details_len: i32,
         body_ptr: i32,
         body_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         _grpc_status: i32|
         -> wasmtime::Result<i32> {
            let body = read(&mut caller, body_ptr, body_len)?;
            let headers = read(&mut caller, headers_ptr, headers_len)?;
            let Some(mut headers) = deserialize_map(&headers) else {
                return Ok(SERIALIZATION_FAILURE);
            };
            let Ok(status) = u16::try_from(status) else {
                return Ok(BAD_ARGUMENT);
            };
            for (name, _) in &mut headers {
                name.make_ascii_lowercase();
            }
            if !body.is_empty() && !headers.iter().any(|(n, _)| n == b"content-type") {
                headers.push((b"content-type".to_vec(), b"text/plain".to_vec()));
            }
            headers.push((
                b"content-length".to_vec(),
                body.len().to_string().into_bytes(),
            ));
            caller.data_mut().local_reply = Some(HttpResponse {
                status,
                headers,
                body,
            });
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |_: Ctx<'_>, _kind: i32| -> i32 { OK },
    )?;
    linker.func_wrap(
        "env",
        "proxy_close_stream",
        |_: Ctx<'_>, _kind: i32| -> i32 { OK },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |_: Ctx<'_>, _code: i32, _ptr_ptr: i32, _size_ptr: i32| -> i32 { NOT_FOUND },
    )?;
    Ok(())
}
