//! The pieces of one line the streaming reader understands: characters, keys, plain and
//! quoted scalars, block scalar headers. Each returns `None` for what it does not fully
//! understand, so that the whole file goes to `yaml_serde`.

use std::borrow::Cow;

/// Longest key we accept; libyaml refuses simple keys longer than 1024 characters.
const MAX_KEY_LEN: usize = 512;

/// Whether every character is one the reader handles: printable ASCII, `\n`, `\r\n`, printable
/// non-ASCII characters other than NEL, U+2028, U+2029, U+FEFF, U+FFFE and U+FFFF (line breaks
/// or markers to libyaml) and the C1 controls (refused by libyaml). The input is valid UTF-8,
/// so checking lead bytes is enough.
pub(super) fn charset_is_plain(bytes: &[u8]) -> bool {
    const CHUNK: usize = 64;
    let mut i = 0;
    while i < bytes.len() {
        // Chunks of printable ASCII and `\n` are checked without branches (vectorised);
        // a chunk with anything else, character by character.
        if let Some(chunk) = bytes.get(i..i + CHUNK) {
            let plain = chunk.iter().fold(true, |plain, &b| {
                plain & ((b >= 0x20) | (b == b'\n')) & (b < 0x7f)
            });
            if plain {
                i += CHUNK;
                continue;
            }
        }
        let end = (i + CHUNK).min(bytes.len());
        while i < end {
            match char_width(bytes, i) {
                Some(width) => i += width,
                None => return false,
            }
        }
    }
    true
}

/// The width of the character starting at `i`, or `None` if the reader refuses it.
pub(super) fn char_width(bytes: &[u8], i: usize) -> Option<usize> {
    let b = bytes[i];
    if b < 0x80 {
        let crlf = b == b'\r' && bytes.get(i + 1) == Some(&b'\n');
        let refused = (b < 0x20 && b != b'\n' && !crlf) || b == 0x7f;
        return (!refused).then_some(1);
    }
    let next = bytes.get(i + 1).copied().unwrap_or(0);
    let next2 = bytes.get(i + 2).copied().unwrap_or(0);
    let refused = match b {
        // U+0080..=U+009F
        0xc2 => next < 0xa0,
        // U+2028, U+2029
        0xe2 => next == 0x80 && (next2 == 0xa8 || next2 == 0xa9),
        // U+FEFF, U+FFFE, U+FFFF
        0xef => {
            (next == 0xbb && next2 == 0xbf) || (next == 0xbf && (next2 == 0xbe || next2 == 0xbf))
        }
        _ => false,
    };
    if refused {
        return None;
    }
    Some(match b {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    })
}

#[derive(Clone, Copy)]
pub(super) enum Chomp {
    /// `|-`: no final line break.
    Strip,
    /// `|`: one final line break.
    Clip,
    /// `|+`: every final line break.
    Keep,
}

/// Parses `|`, `|-`, `|+`, `|2-`, `|-2`, …; `None` for anything else (comments included).
pub(super) fn block_header(header: &str) -> Option<(Option<usize>, Chomp)> {
    let indicators = header.strip_prefix('|')?.trim_end_matches(' ');
    let mut step = None;
    let mut chomp = Chomp::Clip;
    let mut seen_chomp = false;
    for b in indicators.bytes() {
        match b {
            b'1'..=b'9' if step.is_none() => step = Some(usize::from(b - b'0')),
            b'-' | b'+' if !seen_chomp => {
                seen_chomp = true;
                chomp = if b == b'-' { Chomp::Strip } else { Chomp::Keep };
            }
            _ => return None,
        }
    }
    Some((step, chomp))
}

/// Splits `key: value` or `key:` at the first colon, for keys that are plain words.
pub(super) fn split_key(body: &str) -> Option<(&str, &str)> {
    let colon = body.find(':')?;
    let (key, rest) = (&body[..colon], &body[colon + 1..]);
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest))
}

/// The alias of an instrument line (`psu:`, `'*odd':`, `"a\tb":`).
pub(super) fn alias_key(body: &str) -> Option<String> {
    if body.len() > MAX_KEY_LEN {
        return None;
    }
    let (key, rest) = match body.as_bytes()[0] {
        b'\'' | b'"' => {
            let quoted = if body.starts_with('\'') {
                single_quoted_prefix(body)?
            } else {
                double_quoted_prefix(body)?
            };
            let rest = body[quoted.1..].strip_prefix(':')?;
            (quoted.0, rest)
        }
        _ => {
            let bytes = body.as_bytes();
            let colon = (0..bytes.len())
                .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|&b| b == b' '))?;
            let key = &body[..colon];
            if key.ends_with(' ') || plain(key)?.len() != key.len() {
                return None;
            }
            (Cow::Borrowed(key), &body[colon + 1..])
        }
    };
    if !rest.bytes().all(|b| b == b' ') {
        return None;
    }
    Some(key.into_owned())
}

/// A plain scalar on one line, trailing spaces removed; `None` if YAML would read the text as
/// anything else (an indicator, a comment, a nested mapping, a document marker).
pub(super) fn plain(text: &str) -> Option<&str> {
    let text = text.trim_end_matches(' ');
    let bytes = text.as_bytes();
    let (&first, after) = bytes.split_first()?;
    match first {
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => return None,
        b'-' | b'?' | b':' if after.first().is_none_or(|&b| b == b' ') => return None,
        _ => {}
    }
    if text.starts_with("---") || text.starts_with("...") {
        return None;
    }
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return None,
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            _ => {}
        }
    }
    Some(text)
}

/// A single-quoted scalar that ends on this line, followed only by spaces.
pub(super) fn single_quoted(text: &str) -> Option<Cow<'_, str>> {
    let (value, end) = single_quoted_prefix(text)?;
    text[end..].bytes().all(|b| b == b' ').then_some(value)
}

/// A single-quoted scalar at the start of `text`: its value and the byte after the quote.
pub(super) fn single_quoted_prefix(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let inner = &text[1..];
    let mut owned: Option<String> = None;
    let mut start = 0;
    loop {
        let quote = start + inner[start..].find('\'')?;
        if inner.as_bytes().get(quote + 1) == Some(&b'\'') {
            owned
                .get_or_insert_with(String::new)
                .push_str(&inner[start..=quote]);
            start = quote + 2;
            continue;
        }
        let value = match owned {
            Some(mut text) => {
                text.push_str(&inner[start..quote]);
                Cow::Owned(text)
            }
            None => Cow::Borrowed(&inner[..quote]),
        };
        return Some((value, quote + 2));
    }
}

/// A double-quoted scalar that ends on this line, followed only by spaces.
pub(super) fn double_quoted(text: &str) -> Option<Cow<'_, str>> {
    let (value, end) = double_quoted_prefix(text)?;
    text[end..].bytes().all(|b| b == b' ').then_some(value)
}

/// A double-quoted scalar at the start of `text`: its value and the byte after the quote.
pub(super) fn double_quoted_prefix(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let inner = &text[1..];
    let bytes = inner.as_bytes();
    let special = bytes.iter().position(|&b| b == b'"' || b == b'\\')?;
    if bytes[special] == b'"' {
        return Some((Cow::Borrowed(&inner[..special]), special + 2));
    }
    let mut value = String::with_capacity(inner.len());
    value.push_str(&inner[..special]);
    let mut i = special;
    loop {
        let next = i + bytes[i..].iter().position(|&b| b == b'"' || b == b'\\')?;
        value.push_str(&inner[i..next]);
        if bytes[next] == b'"' {
            return Some((Cow::Owned(value), next + 2));
        }
        let (decoded, used) = escape(bytes, next + 1)?;
        value.push(decoded);
        i = next + 1 + used;
    }
}

/// The character a double-quoted escape stands for (`bytes[at]` is the byte after the
/// backslash) and how many bytes the escape uses after the backslash; `None` for an escape
/// libyaml refuses (unknown letter, bad hex digits, surrogates, beyond U+10FFFF) or a line
/// continuation.
pub(super) fn escape(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let decoded = match *bytes.get(at)? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        letter @ (b'x' | b'u' | b'U') => {
            let digits = match letter {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = bytes.get(at + 1..at + 1 + digits)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let code = hex.iter().fold(0u32, |code, &b| {
                (code << 4) | (b as char).to_digit(16).unwrap_or(0)
            });
            return Some((char::from_u32(code)?, 1 + digits));
        }
        _ => return None,
    };
    Some((decoded, 1))
}

/// Joins a continuation line to a folded flow scalar after `breaks` blank lines: one line
/// break folds to a space, `n` blank lines to `n` line breaks; after a `\` continuation, only
/// the blank lines count.
pub(super) fn fold(value: &mut String, breaks: usize, escaped_break: bool) {
    if breaks == 0 && !escaped_break {
        value.push(' ');
    }
    value.extend(std::iter::repeat_n('\n', breaks));
}

/// A continuation line of a plain scalar (after its indentation), trailing spaces removed;
/// `None` if it holds what would end the scalar (`: `, ` #`) or a final `:`.
pub(super) fn continued_plain(text: &str) -> Option<&str> {
    let text = text.trim_end_matches(' ');
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return None,
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            _ => {}
        }
    }
    Some(text)
}
