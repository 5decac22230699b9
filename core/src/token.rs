//! Byte-level helpers shared by configuration parsing and request checks: HTTP tokens and
//! comma-separated lists.

/// Whether `b` is an RFC 9110 `tchar`.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `bytes` is a non-empty RFC 9110 token (a valid method or header name).
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// Trims optional whitespace (space and tab) from both ends.
pub(crate) fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// The trimmed, non-empty items of a comma-separated list.
pub(crate) fn list_items(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

/// Whether `name` starts with `prefix`, ignoring ASCII case (`prefix` must be lowercase).
pub(crate) fn starts_with_ignore_case(name: &[u8], prefix: &[u8]) -> bool {
    name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_accepts_method_and_header_names() {
        assert!(is_token(b"PATCH"));
        assert!(is_token(b"X-Custom_Header.1"));
        assert!(!is_token(b""));
        assert!(!is_token(b"X Header"));
        assert!(!is_token(b"X-\xffHeader"));
        assert!(!is_token(b"a:b"));
    }

    #[test]
    fn list_items_are_trimmed_and_empty_items_dropped() {
        let items: Vec<&[u8]> = list_items(b" Content-Type ,, Token\t,").collect();
        assert_eq!(items, [&b"Content-Type"[..], b"Token"]);
    }
}
