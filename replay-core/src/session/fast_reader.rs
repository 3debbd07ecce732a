//! Streaming reader for the block layout our writer and PyTestLab emit.
//!
//! One pass over the text, line by line, borrowing from the input and allocating only the
//! strings the model keeps. It returns `None` for anything it does not fully understand; the
//! caller then uses `yaml_serde`, so this reader never has to produce an error message, and
//! whenever it returns `Some(session)`, `session` is exactly what `yaml_serde` reads from the
//! same text (`tests/readers_agree.rs` checks that property).
//!
//! # What it accepts
//!
//! ```yaml
//! psu:                       # alias: plain, 'single' or "double" quoted, at column 0
//!   profile: keysight/EDU36311A
//!   log:                     # `profile` and `log` at one indentation, in any order
//!   - type: query            # entries at the same or a deeper indentation than `log`
//!     command: '*IDN?'       # keys under the first one, in any order
//!     response: |-           # literal block scalars (`|`, `|-`, `|+`, indentation digit)
//!       two
//!       lines
//!     timestamp: 0.0011925   # a plain float
//! ```
//!
//! Values are plain, single-quoted (`''`) or double-quoted (all YAML escapes) scalars, on one
//! line or folded over more indented lines as PyYAML writes long ones (`\` continuations
//! included), or literal block scalars. Whole-line comments, blank lines and one leading
//! `---` are skipped. Lines end with `\n` or `\r\n`.
//!
//! # What it hands to `yaml_serde`
//!
//! Flow collections, anchors, aliases, tags, folded (`>`) block scalars, values that start on
//! the line after their key, comments after values or inside a folded scalar, complex (`?`)
//! keys, unknown or duplicate keys, quoted field names, empty logs, timestamps that are not
//! plain numbers, more than one document, tabs, carriage returns outside `\r\n`, a byte
//! order mark, control characters and the Unicode line separators (NEL, U+2028, U+2029)
//! anywhere in the text.

use std::borrow::Cow;
use std::collections::HashSet;

use super::model::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, RecordedErrorKind, Session,
};
use super::wire::{decode_base64, timeout_from_secs};

mod scalar;

use scalar::{
    Chomp, alias_key, block_header, charset_is_plain, continued_plain, double_quoted, escape, fold,
    plain, single_quoted, split_key,
};

/// Parses `text` if it is in the common block layout.
pub fn read(text: &str) -> Option<Session> {
    if !charset_is_plain(text.as_bytes()) {
        return None;
    }
    let mut parser = Parser::new(text);
    if parser
        .current
        .is_some_and(|line| line.indent == 0 && line.body == "---")
    {
        parser.advance();
    }
    let mut instruments: Vec<(String, InstrumentLog)> = Vec::new();
    let mut aliases: HashSet<String> = HashSet::new();
    while let Some(line) = parser.current {
        if line.indent != 0 {
            return None;
        }
        let alias = alias_key(line.body)?;
        if !aliases.insert(alias.clone()) {
            return None;
        }
        parser.advance();
        let log = parser.instrument()?;
        instruments.push((alias, log));
    }
    if instruments.is_empty() {
        return None;
    }
    Some(Session { instruments })
}

/// One line of the input.
#[derive(Clone, Copy)]
struct Line<'a> {
    /// Leading spaces.
    indent: usize,
    /// The line after its indentation, without the line break.
    body: &'a str,
    /// Whether a line break ends the line (false only for a last line without one).
    newline: bool,
}

/// The lines of the input, as a cursor that can be copied to look ahead.
#[derive(Clone, Copy)]
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    fn next_raw(&mut self) -> Option<Line<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, newline) = match self.rest.find('\n') {
            Some(end) => {
                let line = &self.rest[..end];
                self.rest = &self.rest[end + 1..];
                (line, true)
            }
            None => (std::mem::take(&mut self.rest), false),
        };
        // libyaml reads `\r\n` as one line break, also inside block scalars.
        let line = line.strip_suffix('\r').unwrap_or(line);
        let body = line.trim_start_matches(' ');
        Some(Line {
            indent: line.len() - body.len(),
            body,
            newline,
        })
    }

    /// Whether the next line is blank or indented deeper than `indent`, so that it may
    /// continue a scalar; a cheap look at its first bytes.
    fn may_continue(&self, indent: usize) -> bool {
        let bytes = self.rest.as_bytes();
        let spaces = bytes.iter().take_while(|&&b| b == b' ').count();
        match bytes.get(spaces) {
            None => false,
            Some(b'\n' | b'\r') => true,
            Some(_) => spaces > indent,
        }
    }

    /// The next line that is neither blank nor a whole-line comment.
    fn next_content(&mut self) -> Option<Line<'a>> {
        loop {
            let line = self.next_raw()?;
            if !line.body.is_empty() && !line.body.starts_with('#') {
                return Some(line);
            }
        }
    }
}

/// A scalar as written in the file: its style decides how `yaml_serde` resolves it.
enum Scalar<'a> {
    /// A plain scalar (also an absent value: `key:` at the end of a line).
    Plain(Cow<'a, str>),
    /// A quoted or block scalar: always a string.
    Quoted(Cow<'a, str>),
}

impl<'a> Scalar<'a> {
    fn as_str(&self) -> &str {
        match self {
            Scalar::Plain(text) | Scalar::Quoted(text) => text,
        }
    }

    /// A `String` field: `yaml_serde` takes any scalar's text as it is.
    fn into_string(self) -> String {
        match self {
            Scalar::Plain(text) | Scalar::Quoted(text) => text.into_owned(),
        }
    }

    /// An `Option<String>` field: an empty or `null`-like plain scalar is `None`.
    fn into_option(self) -> Option<String> {
        match self {
            Scalar::Plain(text) if matches!(&*text, "" | "null" | "Null" | "NULL" | "~") => None,
            other => Some(other.into_string()),
        }
    }

    /// An `f64` field: `None` when `yaml_serde` would refuse it (or when we would rather not
    /// decide, e.g. `.inf`). Mirrors `yaml_serde`'s `parse_f64` for the numbers it accepts.
    fn to_f64(&self) -> Option<f64> {
        let Scalar::Plain(text) = self else {
            return None;
        };
        if !text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        let unsigned = match text.strip_prefix('+') {
            Some(rest) if rest.starts_with(['+', '-']) => return None,
            Some(rest) => rest,
            None => text,
        };
        unsigned
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
    }
}

/// The keys of one log entry, as scalars, before conversion.
#[derive(Default)]
struct Entry<'a> {
    kind: Option<Scalar<'a>>,
    command: Option<Scalar<'a>>,
    response: Option<Scalar<'a>>,
    response_base64: Option<Scalar<'a>>,
    error: Option<Scalar<'a>>,
    error_message: Option<Scalar<'a>>,
    timeout_s: Option<Scalar<'a>>,
    timestamp: Option<Scalar<'a>>,
}

impl<'a> Entry<'a> {
    /// The slot for `key`, or `None` for a key we do not know.
    fn slot(&mut self, key: &str) -> Option<&mut Option<Scalar<'a>>> {
        Some(match key {
            "type" => &mut self.kind,
            "command" => &mut self.command,
            "response" => &mut self.response,
            "response_base64" => &mut self.response_base64,
            "error" => &mut self.error,
            "error_message" => &mut self.error_message,
            "timeout_s" => &mut self.timeout_s,
            "timestamp" => &mut self.timestamp,
            _ => return None,
        })
    }

    /// The interaction, built as `wire::to_model` builds it from `yaml_serde`'s output.
    fn into_interaction(self) -> Option<Interaction> {
        let kind = InteractionKind::parse(self.kind?.as_str());
        let timestamp = match &self.timestamp {
            Some(scalar) => scalar.to_f64()?,
            None => 0.0,
        };
        let binary = match self.response_base64.and_then(Scalar::into_option) {
            Some(text) => Some(decode_base64(&text).ok()?),
            None => None,
        };
        // A value `yaml_serde` would refuse, or one out of range: let it report.
        let timeout_s = match &self.timeout_s {
            Some(scalar) => Some(scalar.to_f64()?),
            None => None,
        };
        let error = match self.error.and_then(Scalar::into_option) {
            Some(kind) => {
                let message = self.error_message.and_then(Scalar::into_option);
                let timeout = match timeout_s {
                    Some(secs) => Some(timeout_from_secs(secs).ok()?),
                    None => None,
                };
                Some(
                    RecordedError::new(
                        RecordedErrorKind::parse(&kind),
                        message.unwrap_or_default(),
                    )
                    .with_timeout(timeout),
                )
            }
            None => None,
        };
        Some(Interaction {
            kind,
            command: self.command.map(Scalar::into_string).unwrap_or_default(),
            response: self.response.and_then(Scalar::into_option),
            binary,
            error,
            timestamp,
        })
    }
}

struct Parser<'a> {
    /// The lines after `current`.
    lines: Lines<'a>,
    /// The line being looked at (blank and comment lines are never current).
    current: Option<Line<'a>>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        let mut lines = Lines { rest: text };
        let current = lines.next_content();
        Parser { lines, current }
    }

    fn advance(&mut self) {
        self.current = self.lines.next_content();
    }

    /// The body of one instrument (`profile`, `log`), after its alias line.
    fn instrument(&mut self) -> Option<InstrumentLog> {
        let indent = self.current?.indent;
        if indent == 0 {
            return None;
        }
        let mut profile: Option<Option<String>> = None;
        let mut log: Option<Vec<Interaction>> = None;
        while let Some(line) = self.current {
            if line.indent == 0 {
                break;
            }
            if line.indent != indent {
                return None;
            }
            let (key, rest) = split_key(line.body)?;
            match key {
                "profile" if profile.is_none() => {
                    profile = Some(self.value(rest, indent)?.into_option());
                }
                "log" if log.is_none() => {
                    if !rest.bytes().all(|b| b == b' ') {
                        return None;
                    }
                    self.advance();
                    log = Some(self.log(indent)?);
                }
                _ => return None,
            }
        }
        Some(InstrumentLog {
            profile: profile.flatten(),
            // Rules (`limits`, `matching` and their siblings) are other keys: read by
            // `yaml_serde`.
            rules: Default::default(),
            log: log.unwrap_or_default(),
        })
    }

    /// The entries of a `log:` whose key is at `indent`.
    fn log(&mut self, indent: usize) -> Option<Vec<Interaction>> {
        let first = self.current?;
        if first.indent < indent || !first.body.starts_with('-') {
            return None;
        }
        let entry_indent = first.indent;
        let mut log = Vec::new();
        while let Some(line) = self.current {
            if line.indent == entry_indent && line.body.starts_with('-') {
                log.push(self.entry(line)?);
            } else if line.indent < entry_indent
                || (line.indent == entry_indent && entry_indent == indent)
            {
                break;
            } else {
                return None;
            }
        }
        Some(log)
    }

    /// One `- key: value` entry and the key lines under it.
    fn entry(&mut self, line: Line<'a>) -> Option<Interaction> {
        let after_dash = &line.body[1..];
        let first_key = after_dash.trim_start_matches(' ');
        let gap = after_dash.len() - first_key.len();
        if gap == 0 || first_key.is_empty() {
            return None;
        }
        let key_indent = line.indent + 1 + gap;
        let mut entry = Entry::default();
        self.field(&mut entry, first_key, key_indent)?;
        while let Some(line) = self.current {
            if line.indent != key_indent {
                break;
            }
            self.field(&mut entry, line.body, key_indent)?;
        }
        entry.into_interaction()
    }

    fn field(&mut self, entry: &mut Entry<'a>, body: &'a str, indent: usize) -> Option<()> {
        let (key, rest) = split_key(body)?;
        let slot = entry.slot(key)?;
        if slot.is_some() {
            return None;
        }
        *slot = Some(self.value(rest, indent)?);
        Some(())
    }

    /// The value after `key:` (`rest`) of a key at `indent`; moves past the value's lines.
    fn value(&mut self, rest: &'a str, indent: usize) -> Option<Scalar<'a>> {
        let text = rest.trim_start_matches(' ');
        let scalar = match text.as_bytes().first() {
            None => Scalar::Plain(Cow::Borrowed("")),
            Some(b'\'') => match single_quoted(text) {
                Some(value) => Scalar::Quoted(value),
                None => Scalar::Quoted(Cow::Owned(self.multiline_quoted(text, indent)?)),
            },
            Some(b'"') => match double_quoted(text) {
                Some(value) => Scalar::Quoted(value),
                None => Scalar::Quoted(Cow::Owned(self.multiline_quoted(text, indent)?)),
            },
            Some(b'|') => return self.literal(text, indent).map(Scalar::Quoted),
            Some(_) => Scalar::Plain(self.plain_lines(plain(text)?, indent)?),
        };
        self.advance();
        Some(scalar)
    }

    /// A plain scalar that starts with `first` on the line of a key at `indent`, folded
    /// with the more indented lines that continue it (PyYAML breaks long ones at 80
    /// columns): a line break becomes a space, `n` blank lines become `n` line breaks.
    fn plain_lines(&mut self, first: &'a str, indent: usize) -> Option<Cow<'a, str>> {
        let mut value = Cow::Borrowed(first);
        loop {
            if !self.lines.may_continue(indent) {
                return Some(value);
            }
            let before = self.lines;
            let mut breaks = 0usize;
            let line = loop {
                match self.lines.next_raw() {
                    Some(line) if line.body.is_empty() => breaks += 1,
                    other => break other,
                }
            };
            let Some(line) = line.filter(|line| line.indent > indent) else {
                self.lines = before;
                return Some(value);
            };
            if line.body.starts_with('#') {
                // A comment ends the scalar; what follows it is not ours to guess.
                return None;
            }
            let text = continued_plain(line.body)?;
            let value = value.to_mut();
            fold(value, breaks, false);
            value.push_str(text);
        }
    }

    /// A quoted scalar (`text` starts with its quote) that does not end on the line of its key
    /// at `indent`: libyaml's flow folding, with `\` line continuations in double quotes.
    fn multiline_quoted(&mut self, text: &'a str, indent: usize) -> Option<String> {
        let quote = text.as_bytes()[0];
        let mut value = String::new();
        let mut line = &text[1..];
        loop {
            let bytes = line.as_bytes();
            // Where the spaces at the end of `value` began, if they are raw spaces of this
            // line (escaped ones are content); they are dropped at a line break.
            let mut spaces_from: Option<usize> = None;
            let mut escaped_break = false;
            let mut i = 0;
            while i < bytes.len() {
                let b = bytes[i];
                if b == quote {
                    if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        value.push('\'');
                        spaces_from = None;
                        i += 2;
                        continue;
                    }
                    if !line[i + 1..].bytes().all(|b| b == b' ') {
                        return None;
                    }
                    return Some(value);
                }
                if quote == b'"' && b == b'\\' {
                    if i + 1 == bytes.len() {
                        escaped_break = true;
                        break;
                    }
                    let (decoded, used) = escape(bytes, i + 1)?;
                    value.push(decoded);
                    spaces_from = None;
                    i += 1 + used;
                    continue;
                }
                if b == b' ' {
                    spaces_from.get_or_insert(value.len());
                    value.push(' ');
                    i += 1;
                    continue;
                }
                let width = line[i..].chars().next()?.len_utf8();
                value.push_str(&line[i..i + width]);
                spaces_from = None;
                i += width;
            }
            if let Some(from) = spaces_from.filter(|_| !escaped_break) {
                value.truncate(from);
            }
            let mut breaks = 0usize;
            let next = loop {
                let next = self.lines.next_raw()?;
                if !next.body.is_empty() {
                    break next;
                }
                breaks += 1;
            };
            if next.indent <= indent {
                return None;
            }
            fold(&mut value, breaks, escaped_break);
            line = next.body;
        }
    }

    /// A literal block scalar (`header` is `|` and its indicators) of a key at `indent`.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Cow<'a, str>> {
        let (explicit, chomp) = block_header(header)?;
        let mut content_indent = explicit.map(|step| indent + step);
        let mut text = String::new();
        let mut has_content = false;
        let mut breaks = 0usize;
        let mut ends_with_newline = false;
        loop {
            let before = self.lines;
            let Some(line) = self.lines.next_raw() else {
                break;
            };
            if line.body.is_empty() {
                if line.indent != 0 {
                    // Spaces only: content or not depending on their number; not ours.
                    return None;
                }
                breaks += 1;
                continue;
            }
            let needed = *content_indent.get_or_insert(line.indent);
            if needed <= indent {
                return None;
            }
            if line.indent < needed {
                self.lines = before;
                break;
            }
            if has_content {
                text.push('\n');
            }
            for _ in 0..breaks {
                text.push('\n');
            }
            breaks = 0;
            text.extend(std::iter::repeat_n(' ', line.indent - needed));
            text.push_str(line.body);
            has_content = true;
            ends_with_newline = line.newline;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if ends_with_newline {
                    text.push('\n');
                }
            }
            Chomp::Keep => {
                if ends_with_newline {
                    text.push('\n');
                }
                for _ in 0..breaks {
                    text.push('\n');
                }
            }
        }
        self.current = self.lines.next_content();
        Some(Cow::Owned(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one interaction `text` holds, after checking that `yaml_serde` reads the same.
    fn one(text: &str) -> Option<Interaction> {
        let session = read(text)?;
        let general =
            super::super::read::read_with_yaml_serde(std::path::Path::new("t.yaml"), text);
        assert_eq!(general.ok().as_ref(), Some(&session), "{text:?}");
        assert_eq!(session.instruments.len(), 1);
        let mut log = session.instruments.into_iter().next()?.1.log;
        assert_eq!(log.len(), 1);
        log.pop()
    }

    fn entry(fields: &str) -> String {
        format!("psu:\n  log:\n  - type: query\n{fields}")
    }

    #[test]
    fn reads_the_common_layout() {
        let text = "psu:\n  profile: keysight/EDU36311A\n  log:\n  - type: query\n    command: '*IDN?'\n    response: Keysight Technologies,EDU36311A\n    timestamp: 0.5\n  - type: write\n    command: VOLT 1.5, (@1)\n    timestamp: 1\n";
        let session = read(text).expect("fast path");
        let general =
            super::super::read::read_with_yaml_serde(std::path::Path::new("t.yaml"), text);
        assert_eq!(general.ok().as_ref(), Some(&session));
        let psu = session.instrument("psu").expect("psu");
        assert_eq!(psu.profile.as_deref(), Some("keysight/EDU36311A"));
        assert_eq!(psu.log.len(), 2);
        assert_eq!(psu.log[0].command, "*IDN?");
        assert_eq!(
            psu.log[0].response.as_deref(),
            Some("Keysight Technologies,EDU36311A")
        );
        assert_eq!(psu.log[1].kind, InteractionKind::Write);
        assert_eq!(psu.log[1].timestamp, 1.0);
    }

    #[test]
    fn accepts_deeper_entries_and_any_key_order() {
        let text =
            "psu:\n    log:\n      -   timestamp: 2.5\n          type: read\n    profile: p\n";
        let session = read(text).expect("fast path");
        let general =
            super::super::read::read_with_yaml_serde(std::path::Path::new("t.yaml"), text);
        assert_eq!(general.ok().as_ref(), Some(&session));
        let psu = session.instrument("psu").expect("psu");
        assert_eq!(psu.profile.as_deref(), Some("p"));
        assert_eq!(psu.log[0].kind, InteractionKind::Read);
        assert_eq!(psu.log[0].timestamp, 2.5);
    }

    #[test]
    fn resolves_null_like_plain_scalars_as_yaml_serde_does() {
        let i = one(&entry("    command: null\n    response: null\n")).expect("fast path");
        assert_eq!(i.command, "null");
        assert_eq!(i.response, None);
        let i = one(&entry("    command:\n    response: '~'\n")).expect("fast path");
        assert_eq!(i.command, "");
        assert_eq!(i.response.as_deref(), Some("~"));
    }

    #[test]
    fn decodes_quoted_scalars() {
        let i = one(&entry(
            "    command: 'it''s'\n    response: \"a\\tb\\x41\\u00e9\\U0001F600\\\\\\\"\\/\\N\\_\\L\\P\\0\"\n",
        ))
        .expect("fast path");
        assert_eq!(i.command, "it's");
        assert_eq!(
            i.response.as_deref(),
            Some("a\tbA\u{e9}\u{1F600}\\\"/\u{85}\u{a0}\u{2028}\u{2029}\0")
        );
        assert!(one(&entry("    command: \"\\q\"\n")).is_none());
        assert!(one(&entry("    command: \"\\uD800\"\n")).is_none());
        assert!(one(&entry("    command: 'open\n")).is_none());
    }

    #[test]
    fn reads_literal_block_scalars() {
        let i = one(&entry(
            "    command: |-\n      a\n\n      b\n    response: |2+\n       x\n\n\n    timestamp: 1\n",
        ))
        .expect("fast path");
        assert_eq!(i.command, "a\n\nb");
        assert_eq!(i.response.as_deref(), Some(" x\n\n\n"));
        let i = one(&entry("    command: |\n      a\n")).expect("fast path");
        assert_eq!(i.command, "a\n");
        let i = one(&entry("    command: |\n      a")).expect("fast path");
        assert_eq!(i.command, "a");
    }

    #[test]
    fn folds_multi_line_flow_scalars() {
        let i = one(&entry(
            "    command: a long\n      plain  \n\n      scalar - x\n    response: 'it''s\n      folded\n\n\n      '\n",
        ))
        .expect("fast path");
        assert_eq!(i.command, "a long plain\nscalar - x");
        assert_eq!(i.response.as_deref(), Some("it's folded\n\n"));
        let i = one(&entry(
            "    command: \"caf\\xE9 a long double\\\n      \\ quoted \\\n\n      line \n      end\"\n",
        ))
        .expect("fast path");
        assert_eq!(i.command, "caf\u{e9} a long double quoted \nline end");
    }

    #[test]
    fn bails_on_what_it_does_not_understand() {
        for text in [
            "",
            "{}\n",
            "psu: {log: []}\n",
            "psu:\n  log: []\n",
            "psu:\n  log:\n  - type: query\n    command: &a x\n",
            "psu:\n  log:\n  - type: query\n    command: x # comment\n",
            "psu:\n  log:\n  - type: query\n    command: a: b\n",
            "psu:\n  log:\n  - type: query\n    command: >\n      folded\n",
            "psu:\n  log:\n  - type: query\n    command: x\n      # comment\n      continued\n",
            "psu:\n  log:\n  - type: query\n    command: x\n      continued: no\n",
            "psu:\n  log:\n  - type: query\n    command: 'x\n    continued'\n",
            "psu:\n  log:\n  - type: query\n    command: \"x\n",
            "psu:\n  log:\n  - type: query\n    timestamp: '1.0'\n",
            "psu:\n  log:\n  - type: query\n    timestamp: .inf\n",
            "psu:\n  log:\n  - type: query\n    extra: 1\n",
            "psu:\n  log:\n  - type: query\n    type: write\n",
            "psu:\n  log:\n  - command: x\n",
            "psu:\n  log:\n  - type: query\n---\nother:\n  log: []\n",
            "psu:\n  log:\n  - type:\tquery\n",
            "psu:\r  log:\r  - type: query\r",
            "psu:\n  log:\n  - type: query\n    command: a\rb\n",
            "\u{feff}psu:\n  log:\n  - type: query\n",
            "psu:\n  log:\n  - type: query\npsu:\n  log:\n  - type: write\n",
            "? psu\n: log:\n  - type: query\n",
            "psu:\n  log:\n  - type: query\n    response_base64: '!!'\n",
        ] {
            assert!(read(text).is_none(), "{text:?}");
        }
    }
}
