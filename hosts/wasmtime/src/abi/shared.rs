//! Shared data and shared queues, in memory.

use std::collections::VecDeque;

use wasmtime::Linker;

use super::{CAS_MISMATCH, Ctx, HostState, NOT_FOUND, OK, give, read, write_u32};

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: Ctx<'_>,
         key_ptr: i32,
         key_len: i32,
         ptr_ptr: i32,
         size_ptr: i32,
         cas_ptr: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?;
            let Some((value, cas)) = caller.data().shared_data.get(&key).cloned() else {
                return Ok(NOT_FOUND);
            };
            give(&mut caller, &value, ptr_ptr, size_ptr)?;
            write_u32(&mut caller, cas_ptr, cas)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: Ctx<'_>,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32,
         cas: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?;
            let value = read(&mut caller, value_ptr, value_len)?;
            let data = &mut caller.data_mut().shared_data;
            let current = data.get(&key).map_or(0, |(_, c)| *c);
            if cas != 0 && cas as u32 != current {
                return Ok(CAS_MISMATCH);
            }
            data.insert(key, (value, current.wrapping_add(1).max(1)));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: Ctx<'_>, name_ptr: i32, name_len: i32, id_ptr: i32| -> wasmtime::Result<i32> {
            let name = read(&mut caller, name_ptr, name_len)?;
            let queues = &mut caller.data_mut().queues;
            let id = match queues.iter().position(|(n, _)| *n == name) {
                Some(id) => id,
                None => {
                    queues.push((name, VecDeque::new()));
                    queues.len() - 1
                }
            };
            write_u32(&mut caller, id_ptr, id as u32)?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: Ctx<'_>,
         _vm_ptr: i32,
         _vm_len: i32,
         name_ptr: i32,
         name_len: i32,
         id_ptr: i32|
         -> wasmtime::Result<i32> {
            let name = read(&mut caller, name_ptr, name_len)?;
            match caller.data().queues.iter().position(|(n, _)| *n == name) {
                Some(id) => write_u32(&mut caller, id_ptr, id as u32).map(|()| OK),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: Ctx<'_>, id: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let value = read(&mut caller, ptr, len)?;
            match caller.data_mut().queues.get_mut(id as u32 as usize) {
                Some((_, queue)) => {
                    queue.push_back(value);
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: Ctx<'_>, id: i32, ptr_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            let value = match caller.data_mut().queues.get_mut(id as u32 as usize) {
                Some((_, queue)) => queue.pop_front(),
                None => return Ok(NOT_FOUND),
            };
            match value {
                Some(value) => give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK),
                None => Ok(7), // Empty
            }
        },
    )?;
    Ok(())
}
