//! IPv6 hosts as origins carry them (`[::1]`): parsed and serialized as the WHATWG URL
//! standard does, so that any spelling of an address compares equal to the compressed,
//! lowercase form browsers send. No `std::net`: its parser and `Display` would add kilobytes
//! to the proxy-wasm plugin, and its `Display` writes IPv4-mapped addresses differently.

/// An IPv6 address as its eight 16-bit pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv6([u16; 8]);

impl Ipv6 {
    /// Parses a bracketed host (`[::1]`, `[0:0::1]`, `[::ffff:1.2.3.4]`); `None` for anything
    /// else, zone identifiers included.
    pub(crate) fn from_host(host: &[u8]) -> Option<Self> {
        match host {
            [b'[', inner @ .., b']'] => parse(inner),
            _ => None,
        }
    }
}

fn hex_value(b: u8) -> Option<u16> {
    (b as char).to_digit(16).map(|d| d as u16)
}

/// The WHATWG URL "IPv6 parser", over the text between the brackets.
fn parse(input: &[u8]) -> Option<Ipv6> {
    let mut address = [0u16; 8];
    let mut piece = 0usize;
    let mut compress: Option<usize> = None;
    let mut i = 0usize;
    let at = |i: usize| input.get(i).copied();
    if at(0) == Some(b':') {
        if at(1) != Some(b':') {
            return None;
        }
        i = 2;
        piece = 1;
        compress = Some(1);
    }
    while i < input.len() {
        if piece == 8 {
            return None;
        }
        if at(i) == Some(b':') {
            if compress.is_some() {
                return None;
            }
            i += 1;
            piece += 1;
            compress = Some(piece);
            continue;
        }
        let (mut value, mut length) = (0u16, 0usize);
        while length < 4 {
            let Some(digit) = at(i).and_then(hex_value) else {
                break;
            };
            value = value * 0x10 + digit;
            i += 1;
            length += 1;
        }
        match at(i) {
            Some(b'.') => {
                if length == 0 || piece > 6 {
                    return None;
                }
                i -= length;
                let mut numbers = 0;
                while i < input.len() {
                    if numbers > 0 {
                        if at(i) == Some(b'.') && numbers < 4 {
                            i += 1;
                        } else {
                            return None;
                        }
                    }
                    let mut octet: Option<u16> = None;
                    while let Some(d @ b'0'..=b'9') = at(i) {
                        let d = u16::from(d - b'0');
                        octet = match octet {
                            None => Some(d),
                            Some(0) => return None,
                            Some(o) => Some(o * 10 + d),
                        };
                        if octet > Some(255) {
                            return None;
                        }
                        i += 1;
                    }
                    address[piece] = address[piece] * 0x100 + octet?;
                    numbers += 1;
                    if numbers == 2 || numbers == 4 {
                        piece += 1;
                    }
                }
                if numbers != 4 {
                    return None;
                }
                break;
            }
            Some(b':') => {
                i += 1;
                if i == input.len() {
                    return None;
                }
            }
            Some(_) => return None,
            None => {}
        }
        address[piece] = value;
        piece += 1;
    }
    match compress {
        Some(compress) => {
            let mut swaps = piece - compress;
            let mut index = 7;
            while index != 0 && swaps > 0 {
                address.swap(index, compress + swaps - 1);
                index -= 1;
                swaps -= 1;
            }
        }
        None if piece != 8 => return None,
        None => {}
    }
    Some(Ipv6(address))
}

/// A bracketed IPv6 host serialized as browsers do (`[::1]`), on the stack.
pub(crate) struct Ipv6Text {
    bytes: [u8; 41],
    len: usize,
}

impl Ipv6Text {
    /// The WHATWG URL "IPv6 serializer": lowercase hex without leading zeros, the first
    /// longest run of two or more zero pieces written `::`.
    pub(crate) fn new(address: Ipv6) -> Self {
        let pieces = address.0;
        let mut text = Self {
            bytes: [0; 41],
            len: 0,
        };
        let (mut best, mut best_len) = (None, 1);
        let mut i = 0;
        while i < 8 {
            let run = pieces[i..].iter().take_while(|&&p| p == 0).count();
            if run > best_len {
                (best, best_len) = (Some(i), run);
            }
            i += run.max(1);
        }
        text.push(b'[');
        let mut i = 0;
        while i < 8 {
            if best == Some(i) {
                text.push_all(if i == 0 { b"::" } else { b":" });
                i += best_len;
                continue;
            }
            text.push_hex(pieces[i]);
            if i != 7 {
                text.push(b':');
            }
            i += 1;
        }
        text.push(b']');
        text
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    fn push_all(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.push(b));
    }

    fn push_hex(&mut self, piece: u16) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let digit = usize::from((piece >> shift) & 0xf);
            if digit != 0 || started || shift == 0 {
                self.push(DIGITS[digit]);
                started = true;
            }
        }
    }

    /// The serialized host, brackets included.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(host: &str) -> Option<String> {
        Ipv6::from_host(host.as_bytes())
            .map(|a| String::from_utf8(Ipv6Text::new(a).as_bytes().to_vec()).unwrap())
    }

    #[test]
    fn serializes_as_browsers_do() {
        for (host, expected) in [
            ("[::1]", "[::1]"),
            ("[0:0:0:0:0:0:0:1]", "[::1]"),
            ("[::]", "[::]"),
            ("[2001:DB8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"),
            ("[2001:db8:0000:1:1:1:1:1]", "[2001:db8:0:1:1:1:1:1]"),
            ("[fe80::]", "[fe80::]"),
            ("[::ffff:1.2.3.4]", "[::ffff:102:304]"),
            ("[1:0:0:2:0:0:0:3]", "[1:0:0:2::3]"),
            (
                "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
                "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
            ),
        ] {
            assert_eq!(canonical(host).as_deref(), Some(expected), "{host}");
        }
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for host in [
            "[]",
            "[:]",
            "[:1]",
            "[1:2]",
            "[1::2::3]",
            "[12345::]",
            "[1:2:3:4:5:6:7:8:9]",
            "[::1:]",
            "[::1.2.3]",
            "[::1.2.3.256]",
            "[::01.2.3.4]",
            "[fe80::1%25eth0]",
            "[g::]",
            "::1",
            "[::1",
        ] {
            assert_eq!(canonical(host), None, "{host}");
        }
    }
}
