//! Byte-level helpers shared by configuration parsing and request checks: HTTP tokens and
//! comma-separated lists.

/// Whether `b` is an RFC 9110 `tchar`.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

const TCHAR: u8 = 1;
const UPPERCASE: u8 = 2;
/// `TCHAR` and `UPPERCASE` bits per byte.
static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if is_tchar(byte) { TCHAR } else { 0 }
            | if byte.is_ascii_uppercase() {
                UPPERCASE
            } else {
                0
            };
        b += 1;
    }
    table
};

/// What [`classify`] found in a would-be token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenShape {
    /// Not a token (empty, or a byte that is not a `tchar`).
    Invalid,
    /// A token without uppercase letters.
    Lowercase,
    /// A token with an uppercase letter.
    Mixed,
}

/// Whether `bytes` is a token, and whether it is lowercase, in one pass.
pub(crate) fn classify(bytes: &[u8]) -> TokenShape {
    let (mut all, mut any) = (TCHAR, 0);
    for &b in bytes {
        let class = CLASSES[usize::from(b)];
        all &= class;
        any |= class;
    }
    TokenShape::of(bytes, all, any)
}

impl TokenShape {
    /// The shape of `bytes`, from the AND (`all`) and the OR (`any`) of its bytes' classes.
    fn of(bytes: &[u8], all: u8, any: u8) -> Self {
        if bytes.is_empty() || all & TCHAR == 0 {
            Self::Invalid
        } else if any & UPPERCASE == 0 {
            Self::Lowercase
        } else {
            Self::Mixed
        }
    }
}

/// The comma-separated items of `list`, untrimmed, each with its [`TokenShape`], in one pass
/// over the bytes.
pub(crate) fn token_items(list: &[u8]) -> impl Iterator<Item = (&[u8], TokenShape)> {
    let mut rest = Some(list);
    std::iter::from_fn(move || {
        let bytes = rest?;
        let (mut all, mut any) = (TCHAR, 0);
        let mut end = 0;
        while end < bytes.len() && bytes[end] != b',' {
            let class = CLASSES[usize::from(bytes[end])];
            all &= class;
            any |= class;
            end += 1;
        }
        let item = &bytes[..end];
        rest = bytes.get(end + 1..);
        Some((item, TokenShape::of(item, all, any)))
    })
}

/// Whether `bytes` is a non-empty RFC 9110 token (a valid method or header name).
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    classify(bytes) != TokenShape::Invalid
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

/// Whether `bytes` equals `lowercase` (a lowercase constant), ignoring ASCII case: byte for byte
/// first, as hosts hand names, schemes and hosts over lowercase.
#[inline]
pub(crate) fn eq_lowercase(bytes: &[u8], lowercase: &[u8]) -> bool {
    bytes == lowercase || bytes.eq_ignore_ascii_case(lowercase)
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
        assert_eq!(classify(b"x-token"), TokenShape::Lowercase);
        assert_eq!(classify(b"X-Token"), TokenShape::Mixed);
        assert_eq!(classify(b"x token"), TokenShape::Invalid);
    }

    #[test]
    fn token_items_split_like_split_and_classify_each_item() {
        for list in [&b"a,B,,c d, e,"[..], b"", b",", b"x-token"] {
            let items: Vec<(&[u8], TokenShape)> = token_items(list).collect();
            let expected: Vec<(&[u8], TokenShape)> = list
                .split(|&b| b == b',')
                .map(|item| (item, classify(item)))
                .collect();
            assert_eq!(items, expected);
        }
    }

    #[test]
    fn list_items_are_trimmed_and_empty_items_dropped() {
        let items: Vec<&[u8]> = list_items(b" Content-Type ,, Token\t,").collect();
        assert_eq!(items, [&b"Content-Type"[..], b"Token"]);
    }
}
