//! The proxy-wasm header-map wire format: a `u32` count, then a `u32` name size and a `u32`
//! value size per line, then each name and value followed by a NUL byte (little-endian).

/// Every (name, value) line of a serialized map, borrowed from it. A malformed map yields the
/// lines before the damage.
pub(crate) fn lines(map: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
    let word = move |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = map.get(at..at.checked_add(4)?)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    let count = word(0).unwrap_or(0);
    let mut data = count
        .checked_mul(8)
        .and_then(|sizes| sizes.checked_add(4))
        .unwrap_or(usize::MAX);
    (0..count).map_while(move |index| {
        let name_size = word(4 + index * 8)?;
        let value_size = word(8 + index * 8)?;
        let name = map.get(data..data.checked_add(name_size)?)?;
        data = data.checked_add(name_size + 1)?;
        let value = map.get(data..data.checked_add(value_size)?)?;
        data = data.checked_add(value_size + 1)?;
        Some((name, value))
    })
}

/// Serializes `lines` into `out` (cleared first).
pub(crate) fn serialize<'a>(
    lines: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
    out: &mut Vec<u8>,
) {
    out.clear();
    let count = lines.clone().count();
    out.extend_from_slice(&u32_of(count).to_le_bytes());
    for (name, value) in lines.clone() {
        out.extend_from_slice(&u32_of(name.len()).to_le_bytes());
        out.extend_from_slice(&u32_of(value.len()).to_le_bytes());
    }
    for (name, value) in lines {
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
}

fn u32_of(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}
