//! Header maps: get, set, add, replace, remove, as Envoy does them, and the map wire format.

use wasmtime::Linker;

use super::{Ctx, HostState, NOT_FOUND, OK, SERIALIZATION_FAILURE, give, read};

pub(super) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: Ctx<'_>, kind: i32, ptr_ptr: i32, size_ptr: i32| -> wasmtime::Result<i32> {
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            let bytes = serialize_map(map);
            give(&mut caller, &bytes, ptr_ptr, size_ptr).map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: Ctx<'_>, kind: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let bytes = read(&mut caller, ptr, len)?;
            let Some(pairs) = deserialize_map(&bytes) else {
                return Ok(SERIALIZATION_FAILURE);
            };
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            *map = pairs
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            let Some(value) = map.iter().find(|(n, _)| *n == key).map(|(_, v)| v.clone()) else {
                return Ok(NOT_FOUND);
            };
            give(&mut caller, &value, ptr_ptr, size_ptr).map(|()| OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut caller, value_ptr, value_len)?;
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            // Envoy's replace: the first line gets the value, further lines go.
            match map.iter().position(|(n, _)| *n == key) {
                Some(first) => {
                    map[first].1 = value;
                    let mut index = 0;
                    map.retain(|(n, _)| {
                        index += 1;
                        index - 1 == first || *n != key
                    });
                }
                None => map.push((key, value)),
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: Ctx<'_>,
         kind: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32|
         -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let value = read(&mut caller, value_ptr, value_len)?;
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            map.push((key, value));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: Ctx<'_>, kind: i32, key_ptr: i32, key_len: i32| -> wasmtime::Result<i32> {
            let key = read(&mut caller, key_ptr, key_len)?.to_ascii_lowercase();
            let Some(map) = caller.data_mut().map(kind) else {
                return Ok(NOT_FOUND);
            };
            map.retain(|(n, _)| *n != key);
            Ok(OK)
        },
    )?;
    Ok(())
}

/// The proxy-wasm header map wire format.
fn serialize_map(map: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (name, value) in map {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in map {
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    out
}

pub(super) fn deserialize_map(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let word = |at: usize| -> Option<usize> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(raw) as usize)
    };
    let count = word(0)?;
    let mut data = 4usize.checked_add(count.checked_mul(8)?)?;
    let mut map = Vec::with_capacity(count.min(1024));
    for index in 0..count {
        let name_len = word(4 + index * 8)?;
        let value_len = word(8 + index * 8)?;
        let name = bytes.get(data..data.checked_add(name_len)?)?.to_vec();
        data += name_len + 1;
        let value = bytes.get(data..data.checked_add(value_len)?)?.to_vec();
        data += value_len + 1;
        map.push((name, value));
    }
    Some(map)
}
