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

/// The length of the run of bytes in one of `ranges` (ASCII, each `low..=high`) that starts
/// `bytes[start..]`, checked eight bytes at a time. The last bytes are read as the end of the
/// slice's last word, so `bytes` (not only the part from `start`) must hold eight bytes for
/// that; shorter slices are read into a zeroed word. Ranges lie within `0x01..=0x7e` (a zero
/// byte is in none; the word arithmetic needs no byte to carry).
#[inline]
pub(crate) fn range_run(bytes: &[u8], start: usize, ranges: [(u8, u8); 3]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // The bytes of `word` in `low..=high`, as their high bits. Exact for every byte before the
    // first one at or above 0x80: only such a byte carries into the next.
    let in_range = |word: u64, (low, high): (u8, u8)| {
        let at_least_low = word.wrapping_add(ONES * u64::from(0x80 - low));
        let above_high = word.wrapping_add(ONES * u64::from(0x7f - high));
        at_least_low & !above_high & HIGH
    };
    // The number of wanted bytes `word` starts with (8 when all are).
    let run = |word: u64| {
        let wanted = ranges
            .iter()
            .fold(0, |wanted, &range| wanted | in_range(word, range));
        let other = (word & HIGH) | (!wanted & HIGH);
        other.trailing_zeros() as usize / 8
    };
    let mut at = start;
    while let Some(word) = block::<8>(bytes, at) {
        let wanted = run(u64::from_le_bytes(word));
        if wanted < 8 {
            return at - start + wanted;
        }
        at += 8;
    }
    let left = bytes.len().saturating_sub(at);
    if left == 0 {
        return at.saturating_sub(start);
    }
    let word = match bytes.len().checked_sub(8) {
        // The slice's last eight bytes, shifted so that the `left` unread ones come first and
        // zeros (in no range) follow.
        Some(last) => match block::<8>(bytes, last) {
            Some(word) => u64::from_le_bytes(word) >> (8 * (8 - left)),
            None => 0,
        },
        None => {
            let mut word = [0; 8];
            word[..left].copy_from_slice(&bytes[at..]);
            u64::from_le_bytes(word)
        }
    };
    at - start + run(word)
}

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
        // Lowercase letters, digits and `-` (most of a header name as browsers send it) a word
        // at a time: each is a `tchar`, none uppercase.
        let mut end = range_run(bytes, 0, [(b'a', b'z'), (b'0', b'9'), (b'-', b'-')]);
        let (mut all, mut any) = (TCHAR, if end > 0 { TCHAR } else { 0 });
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
#[inline(always)]
pub(crate) fn eq_lowercase(bytes: &[u8], lowercase: &[u8]) -> bool {
    eq_bytes(bytes, lowercase) || bytes.eq_ignore_ascii_case(lowercase)
}

/// Whether `a` equals `b`, compared a word at a time in line: the slices compared on a
/// request's path (header names, methods, origins) are short, and a call to `memcmp` costs
/// as much as the comparison.
#[inline]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Both slices have `n` bytes: every block read below is there in both.
    let same = |at: usize, width: usize| match width {
        4 => block::<4>(a, at) == block::<4>(b, at),
        _ => block::<8>(a, at) == block::<8>(b, at),
    };
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        // The first and the last four bytes (overlapping when fewer than eight).
        4..8 => same(0, 4) && same(n - 4, 4),
        _ => {
            // The words at 0, 8, ..., then the last eight bytes (overlapping the one before).
            let mut at = 0;
            while at + 8 < n {
                if !same(at, 8) {
                    return false;
                }
                at += 8;
            }
            same(n - 8, 8)
        }
    }
}

/// The `N` bytes of `bytes` at `at`, if it has them: a block the word-at-a-time scans and
/// comparisons read as one integer.
#[inline(always)]
fn block<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
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

    proptest::proptest! {
        #[test]
        fn token_items_agree_with_split_and_classify(
            list in "[a-z0-9-]{0,20}(,[a-zA-Z0-9_ -]{0,12}|,[a-z0-9-]{0,17}\\x80?){0,4}"
        ) {
            let items: Vec<(&[u8], TokenShape)> = token_items(list.as_bytes()).collect();
            let expected: Vec<(&[u8], TokenShape)> = list
                .as_bytes()
                .split(|&b| b == b',')
                .map(|item| (item, classify(item)))
                .collect();
            proptest::prop_assert_eq!(items, expected);
        }
    }

    #[test]
    fn eq_bytes_agrees_with_slice_equality() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..text.len() {
            let a = &text[..len];
            assert!(eq_bytes(a, a), "{len}");
            assert!(!eq_bytes(a, &text[..len + 1]), "{len} and one more");
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!eq_bytes(a, &b), "{len}: differs at {at}");
            }
        }
    }

    #[test]
    fn the_range_run_stops_at_the_first_byte_in_no_range() {
        let lower = [(b'a', b'z'), (b'0', b'9'), (b'-', b'-')];
        let text = b"content-type,x-9";
        assert_eq!(range_run(text, 0, lower), 12);
        assert_eq!(range_run(text, 13, lower), 3);
        assert_eq!(range_run(b"abc", 0, lower), 3);
        assert_eq!(range_run(b"abc", 3, lower), 0);
        for len in 0..20 {
            for start in 0..4.min(len + 1) {
                let clean: Vec<u8> = b"abcdefgh-0-9zzqyxwv".iter().copied().take(len).collect();
                assert_eq!(
                    range_run(&clean, start, lower),
                    len - start,
                    "{len} {start}"
                );
                for other in [
                    b'A', b'.', b',', b'_', 0, 0x80, 0xff, b'/', b':', b'`', b'{',
                ] {
                    for at in start..len {
                        let mut bytes = clean.clone();
                        bytes[at] = other;
                        if start > 0 {
                            bytes[start - 1] = 0xff;
                        }
                        assert_eq!(
                            range_run(&bytes, start, lower),
                            at - start,
                            "{other:#x} at {at}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn list_items_are_trimmed_and_empty_items_dropped() {
        let items: Vec<&[u8]> = list_items(b" Content-Type ,, Token\t,").collect();
        assert_eq!(items, [&b"Content-Type"[..], b"Token"]);
    }
}
