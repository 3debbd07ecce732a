//! `redact` rules on binary payloads. regex-lite searches `&str` only, so a payload is
//! searched as Latin-1 text: byte `b` is the character `U+00bb` of the same value. A pattern
//! therefore means, on a payload:
//!
//! - `.` and `[^…]` match one byte (`.` any but `\n`, as in text);
//! - `\xHH` and the literal characters `U+0000`–`U+00FF` (`é` is `U+00E9`) match the one
//!   byte of that value, not their UTF-8 encoding; a character above `U+00FF` never matches;
//! - `\d`, `\w`, `\s`, `\b` and `(?i)` are ASCII-only, so bytes ≥ `0x80` are never digits,
//!   word characters or spaces, and have no case.
//!
//! The output is the payload's own bytes between matches, each match replaced by the
//! replacement: its text as UTF-8, a group reference (`$1`, `${name}`) as that group's
//! bytes in the payload.

use std::borrow::Cow;

use regex_lite::Regex;

/// A rule's replacement, parsed once: the `regex` crate's template syntax (`$name` takes the
/// longest run of `[_0-9A-Za-z]`, `${name}` anything up to `}`, `$$` is `$`, a `$` starting
/// no reference is itself; a name that is all digits is a group number).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template(Vec<Piece>);

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    /// A group of the pattern, by index; references to groups the pattern lacks expand to
    /// nothing and are dropped when parsing.
    Group(usize),
}

impl Template {
    /// Parses `replace` against the groups of `regex`.
    pub(crate) fn new(replace: &str, regex: &Regex) -> Template {
        let groups = regex.captures_len();
        let index = |name: &str| match name.parse::<usize>() {
            Ok(i) => (i < groups).then_some(i),
            Err(_) => regex.capture_names().position(|n| n == Some(name)),
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = replace;
        while let Some(at) = rest.find('$') {
            text.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("$$") {
                text.push('$');
                rest = after;
                continue;
            }
            let Some((name, after)) = reference(rest) else {
                text.push('$');
                rest = &rest[1..];
                continue;
            };
            rest = after;
            if let Some(i) = index(name) {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Group(i));
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Template(pieces)
    }
}

/// The group name of the reference at the start of `rest` (which starts with `$`) and the
/// text after it; `None` when the `$` starts no reference.
fn reference(rest: &str) -> Option<(&str, &str)> {
    let after_dollar = &rest[1..];
    if let Some(braced) = after_dollar.strip_prefix('{') {
        let end = braced.find('}')?;
        return Some((&braced[..end], &braced[end + 1..]));
    }
    let end = after_dollar
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_dollar.len());
    (end > 0).then(|| after_dollar.split_at(end))
}

/// `payload` with every match of `regex` (searched as Latin-1 text) replaced by `template`;
/// borrowed when nothing matched.
pub(crate) fn replace_all<'a>(
    regex: &Regex,
    template: &Template,
    payload: &'a [u8],
) -> Cow<'a, [u8]> {
    let latin1: Cow<'_, str> = if payload.is_ascii() {
        // ASCII is UTF-8, and then offsets in the text are offsets in the payload.
        String::from_utf8_lossy(payload)
    } else {
        Cow::Owned(payload.iter().copied().map(char::from).collect())
    };
    let text = latin1.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    // Where the last match ended, in the text and in the payload.
    let (mut text_end, mut payload_end) = (0, 0);
    for caps in regex.captures_iter(&latin1) {
        let Some(whole) = caps.get(0) else { continue };
        let start = payload_end + chars(&text[text_end..whole.start()]);
        let end = start + chars(whole.as_str().as_bytes());
        let out = out.get_or_insert_with(|| Vec::with_capacity(payload.len()));
        out.extend_from_slice(&payload[payload_end..start]);
        for piece in &template.0 {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Group(i) => {
                    if let Some(group) = caps.get(*i) {
                        let from = start + chars(&text[whole.start()..group.start()]);
                        let to = from + chars(group.as_str().as_bytes());
                        out.extend_from_slice(&payload[from..to]);
                    }
                }
            }
        }
        (text_end, payload_end) = (whole.end(), end);
    }
    match out {
        None => Cow::Borrowed(payload),
        Some(mut out) => {
            out.extend_from_slice(&payload[payload_end..]);
            Cow::Owned(out)
        }
    }
}

/// How many characters, so payload bytes, the UTF-8 `text` holds: its bytes that do not
/// continue a character.
fn chars(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn redact(pattern: &str, replace: &str, payload: &[u8]) -> Vec<u8> {
        let regex = Regex::new(pattern).unwrap();
        replace_all(&regex, &Template::new(replace, &regex), payload).into_owned()
    }

    #[test]
    fn high_bytes_around_and_inside_matches_stay_in_place() {
        assert_eq!(
            redact(r"SN\d+", "<sn>", b"\x80\xffSN123\xe9\x00SN4\xc3\xa9"),
            b"\x80\xff<sn>\xe9\x00<sn>\xc3\xa9"
        );
        // `.` is one byte, whatever its value.
        assert_eq!(redact("a.b", "X", b"\xfea\xffb\xfe"), b"\xfeX\xfe");
        assert_eq!(redact("a.b", "X", b"a\xc3\xa9b"), b"a\xc3\xa9b");
        // `\xHH` and non-ASCII literals are the byte of that value, not its UTF-8.
        assert_eq!(redact(r"\xE9+", "e", b"\xe9\xe9\xc3\xa9"), b"e\xc3\xa9");
        assert_eq!(redact("é", "e", b"\xe9\xc3\xa9"), b"e\xc3\xa9");
        assert_eq!(redact(r"(?-u:\xFF)", "", b"a\xffb"), b"ab");
        // ASCII classes and case: a byte >= 0x80 is no word character and has no case.
        assert_eq!(redact(r"\w+", "w", b"ab\xe9cd"), b"w\xe9w");
        assert_eq!(redact("(?i)é", "e", b"\xc9\xe9"), b"\xc9e");
    }

    #[test]
    fn group_references_copy_the_payload_bytes() {
        assert_eq!(
            redact(r"id=([^;]+);", "id=<$1>;", b"\xf0id=\x80\xff\xe9;\xf1"),
            b"\xf0id=<\x80\xff\xe9>;\xf1"
        );
        assert_eq!(
            redact(
                r"(?P<host>\w+)\.(?P<tail>[\x80-\xFF]+)",
                "${tail}.${host}",
                b"\x90psu.\xa0\xb0!"
            ),
            b"\x90\xa0\xb0.psu!"
        );
        // `$name` takes the longest name: `$1x` is the group `1x`, which does not exist.
        assert_eq!(redact("(a)", "$1x|${1}x", b"\xffa"), b"\xff|ax");
        assert_eq!(redact("(a)", "$9 ${nope}.", b"a"), b" .");
        assert_eq!(redact("a", "$$1 costs $", b"a"), b"$1 costs $");
        assert_eq!(redact("a", "${unclosed", b"a"), b"${unclosed");
        // The replacement text is written as UTF-8.
        assert_eq!(
            redact("a", "é€", b"\xe9a"),
            [&b"\xe9"[..], "é€".as_bytes()].concat()
        );
    }

    #[test]
    fn matches_at_the_edges_and_next_to_each_other() {
        assert_eq!(redact("ab", "X", b"ab\xffab"), b"X\xffX");
        assert_eq!(redact("ab", "X", b"ababab"), b"XXX");
        assert_eq!(redact("[\u{80}-\u{ff}]", "-", b"\x80\xff"), b"--");
        assert!(matches!(
            replace_all(&Regex::new("zz").unwrap(), &Template(vec![]), b"\xffab"),
            Cow::Borrowed(_)
        ));
    }

    /// Patterns on which `regex::bytes` without Unicode means what the Latin-1 search means.
    const PATTERNS: &[&str] = &[
        "a+",
        "(a)(b)?",
        "(?P<name>[0-9]+)",
        r"\d{2}",
        r"\w+",
        r"\s",
        r"\W",
        r"\bab",
        "(?i)ab",
        ".b",
        "[^a]{2}",
        r"\xFF+",
        r"[\x80-\xFF]+",
        "a|\n",
        "(?m)^a",
        "b$",
        "(?s).{3}",
        r"(a)([\x80-\xFF]*)(b)",
    ];
    const TEMPLATES: &[&str] = &[
        "<x>",
        "$1",
        "${1}x",
        "$1x",
        "$$",
        "${name}",
        "$name",
        "$2$1",
        "é€",
        "$",
        "${",
        "$9",
        "${unknown}",
        "[$0]",
        "$3$2$1",
    ];

    fn payload() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            any::<u8>(),
            proptest::sample::select(b"aAbB01 _\n\x80\xe9\xff".to_vec()),
        ];
        proptest::collection::vec(byte, 0..64)
    }

    proptest! {
        #[test]
        fn matches_regex_bytes_without_unicode(
            pattern in proptest::sample::select(PATTERNS),
            template in proptest::sample::select(TEMPLATES),
            payload in payload(),
        ) {
            let oracle = regex::bytes::RegexBuilder::new(pattern).unicode(false).build().unwrap();
            let expected = oracle.replace_all(&payload, template.as_bytes());
            prop_assert_eq!(redact(pattern, template, &payload), expected.into_owned());
        }
    }
}
