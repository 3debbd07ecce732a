//! insta's redaction selectors (`.field`, `["key"]`, `[index]`, `[]`, `[a:b]`, `.*`, `.**`,
//! alternatives separated by `,`), parsed and applied to a [`Content`] the way insta 1.49's
//! `redaction.rs` and `select_grammar.pest` do, without the parser generator behind them.
//!
//! The grammar, with whitespace allowed between tokens except inside a `.field` and a
//! quoted key:
//!
//! ```text
//! selectors := selector ("," selector)* ","?
//! selector  := segment+ | "."                       ("." alone: the value itself)
//! segment   := ".**" | ".*" | "." ident | "[" string "]" | "[" int "]"
//!            | "[" "]" | "[" int ":" int "]" | "[" ":" int "]" | "[" int ":]"
//! ident     := ("_" | "$" | XID_Start) XID_Continue*
//! string    := '"' any character but '"' '"'      (a `\` keeps the character after it)
//! ```
//!
//! A selector insta accepts selects the same values here, with one exception: a number in
//! `[...]` that is followed by a space, has a space after its `-`, does not fit, or has
//! other than ASCII digits is an error here. insta panics on those, except as the bound
//! of `[:end]` or `[start:]`, where it silently reads the whole range `[]`. insta also
//! panics on a negative index (`[-1]`), an error here.

use std::fmt;

use insta::_macro_support::Content;

/// A parsed selector: one or more alternatives, each a list of segments.
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    alternatives: Vec<Vec<Segment>>,
}

/// Why a selector was rejected, and where (1-based character column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelectorError {
    column: usize,
    message: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (column {})", self.message, self.column)
    }
}

impl std::error::Error for SelectorError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `.**`: any number (at least one) of segments.
    DeepWildcard,
    /// `.*`: any one segment.
    Wildcard,
    /// `.name` or `["name"]`: a struct field or a map key that is this string.
    Key(String),
    /// `[3]`: a sequence element, or a map key that is this number.
    Index(u64),
    /// `[a:b]`, `[:b]`, `[a:]`, `[]`: sequence elements; negative bounds count from the end.
    Range(Option<i64>, Option<i64>),
}

impl Selector {
    /// Parses insta's selector syntax.
    pub(crate) fn parse(text: &str) -> Result<Self, SelectorError> {
        Parser::new(text).selectors()
    }

    /// Replaces every value this selector selects in `content` by the string `replacement`.
    pub(crate) fn redact(&self, content: &mut Content, replacement: &str) {
        self.redact_at(content, replacement, &mut Vec::new());
    }

    fn redact_at(&self, content: &mut Content, replacement: &str, path: &mut Vec<Step>) {
        if self.is_match(path) {
            *content = Content::String(replacement.to_owned());
            return;
        }
        match content {
            Content::Map(entries) => {
                for (key, value) in entries {
                    // A map value's step is its key as it was before this selector redacted
                    // the key (`.$key` selects keys).
                    let original = key.clone();
                    path.push(Step::Field("$key"));
                    self.redact_at(key, replacement, path);
                    path.pop();
                    path.push(Step::Key(original));
                    self.redact_at(value, replacement, path);
                    path.pop();
                }
            }
            Content::Seq(items)
            | Content::Tuple(items)
            | Content::TupleStruct(_, items)
            | Content::TupleVariant(_, _, _, items) => {
                let len = items.len() as u64;
                for (index, item) in (0..).zip(items) {
                    path.push(Step::Index(index, len));
                    self.redact_at(item, replacement, path);
                    path.pop();
                }
            }
            Content::Struct(_, fields) | Content::StructVariant(_, _, _, fields) => {
                for (name, value) in fields {
                    path.push(Step::Field(name));
                    self.redact_at(value, replacement, path);
                    path.pop();
                }
            }
            Content::Some(inner)
            | Content::NewtypeStruct(_, inner)
            | Content::NewtypeVariant(_, _, _, inner) => {
                self.redact_at(inner, replacement, path);
            }
            _ => {}
        }
    }

    fn is_match(&self, path: &[Step]) -> bool {
        self.alternatives
            .iter()
            .any(|segments| alternative_matches(segments, path))
    }
}

/// One step from a value to its child.
enum Step {
    /// A map value, by its key.
    Key(Content),
    /// A struct field by name, or `$key` for a map key.
    Field(&'static str),
    /// A sequence or tuple element: its index and the sequence's length.
    Index(u64, u64),
}

impl Step {
    fn as_str(&self) -> Option<&str> {
        match self {
            Step::Key(key) => key.as_str(),
            Step::Field(name) => Some(name),
            Step::Index(..) => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Step::Key(key) => key.as_u64(),
            Step::Field(_) => None,
            Step::Index(index, _) => Some(*index),
        }
    }
}

fn alternative_matches(segments: &[Segment], path: &[Step]) -> bool {
    let Some(deep) = segments.iter().position(|s| *s == Segment::DeepWildcard) else {
        return segments.len() == path.len()
            && segments
                .iter()
                .zip(path)
                .all(|(s, p)| segment_matches(s, p));
    };
    // As insta: the segments before `.**` match the path's start, the ones after it its
    // end (each side only as far as the path reaches), and the path must be longer than
    // the part before `.**`.
    path.len() > deep
        && segments[..deep]
            .iter()
            .zip(path)
            .all(|(s, p)| segment_matches(s, p))
        && segments[deep + 1..]
            .iter()
            .rev()
            .zip(path.iter().rev())
            .all(|(s, p)| segment_matches(s, p))
}

fn segment_matches(segment: &Segment, step: &Step) -> bool {
    match segment {
        Segment::DeepWildcard | Segment::Wildcard => true,
        Segment::Key(key) => step.as_str() == Some(key.as_str()),
        Segment::Index(index) => step.as_u64() == Some(*index),
        Segment::Range(start, end) => {
            let Step::Index(index, len) = *step else {
                return false;
            };
            let (index, len) = (i128::from(index), i128::from(len));
            let bound = |b: i64| {
                let b = i128::from(b);
                if b < 0 { (len + b).max(0) } else { b }
            };
            start.is_none_or(|s| index >= bound(s)) && end.is_none_or(|e| index < bound(e))
        }
    }
}

/// What every segment may look like, for error messages.
const SEGMENTS: &str = "`.field`, `[\"key\"]`, `[index]`, `[]`, `[start:end]`, `.*` or `.**`";

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.at += c.len_utf8();
        }
    }

    fn error_at(&self, at: usize, message: impl Into<String>) -> SelectorError {
        SelectorError {
            column: self.text[..at].chars().count() + 1,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> SelectorError {
        self.error_at(self.at, message)
    }

    fn selectors(&mut self) -> Result<Selector, SelectorError> {
        let mut alternatives = Vec::new();
        self.skip_space();
        loop {
            alternatives.push(self.selector()?);
            self.skip_space();
            if self.at == self.text.len() {
                break;
            }
            if !self.eat(",") {
                return Err(self.error(format!(
                    "expected a segment ({SEGMENTS}), `,` or the end of the selector"
                )));
            }
            self.skip_space();
            if self.at == self.text.len() {
                break;
            }
        }
        Ok(Selector { alternatives })
    }

    /// One alternative: segments, or `.` alone for the value itself.
    fn selector(&mut self) -> Result<Vec<Segment>, SelectorError> {
        let start = self.at;
        let mut segments: Vec<Segment> = Vec::new();
        loop {
            let before = self.at;
            if !segments.is_empty() {
                self.skip_space();
            }
            if !matches!(self.peek(), Some('.' | '[')) {
                self.at = before;
                break;
            }
            let segment_at = self.at;
            let segment = match self.segment() {
                Ok(segment) => segment,
                Err(_) if segments.is_empty() && self.lone_dot(start) => {
                    self.at = start + 1;
                    return Ok(Vec::new());
                }
                Err(e) => return Err(e),
            };
            if segment == Segment::DeepWildcard && segments.contains(&Segment::DeepWildcard) {
                return Err(self.error_at(
                    segment_at,
                    "`.**` is used twice; one selector takes at most one",
                ));
            }
            segments.push(segment);
        }
        if segments.is_empty() {
            let message = if self.at == self.text.len() {
                format!("expected a selector: {SEGMENTS}, or `.` for the whole value")
            } else {
                format!("expected a segment ({SEGMENTS}), or `.` for the whole value")
            };
            return Err(self.error_at(start, message));
        }
        Ok(segments)
    }

    /// Whether the alternative at `start` is `.` alone (then up to a `,` or the end).
    fn lone_dot(&self, start: usize) -> bool {
        self.text[start..].strip_prefix('.').is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.is_empty() || rest.starts_with(',')
        })
    }

    /// A segment: the next character is `.` or `[`.
    fn segment(&mut self) -> Result<Segment, SelectorError> {
        let start = self.at;
        if self.eat(".") {
            let after_dot = self.at;
            self.skip_space();
            if self.eat("**") {
                return Ok(Segment::DeepWildcard);
            }
            if self.eat("*") {
                return Ok(Segment::Wildcard);
            }
            self.at = after_dot;
            if let Some(ident) = self.ident() {
                return Ok(Segment::Key(ident));
            }
            return Err(self.error_at(
                after_dot,
                "expected a field name (letters, digits, `_`, `$`; not starting with a digit), `*` or `**` after `.`",
            ));
        }
        if !self.eat("[") {
            return Err(self.error(format!("expected a segment: {SEGMENTS}")));
        }
        self.skip_space();
        if self.peek() == Some('"') {
            let key = self.string()?;
            self.close()?;
            return Ok(Segment::Key(key));
        }
        if self.eat("]") {
            return Ok(Segment::Range(None, None));
        }
        if self.eat(":") {
            self.skip_space();
            let end = self.int()?;
            self.close()?;
            return Ok(Segment::Range(None, Some(self.bound(end)?)));
        }
        let first = self.int()?;
        self.skip_space();
        if self.eat("]") {
            return self.index(first).map(Segment::Index);
        }
        if self.eat(":]") {
            return Ok(Segment::Range(Some(self.bound(first)?), None));
        }
        if self.eat(":") {
            self.skip_space();
            if self.peek() == Some(']') {
                return Err(self.error("no space before `]` in an open range: write `[start:]`"));
            }
            let end = self.int()?;
            self.close()?;
            return Ok(Segment::Range(
                Some(self.bound(first)?),
                Some(self.bound(end)?),
            ));
        }
        Err(self.error_at(start, format!("unclosed `[` (at `{}`)", self.rest())))
    }

    /// The `]` that closes a subscript.
    fn close(&mut self) -> Result<(), SelectorError> {
        self.skip_space();
        if self.eat("]") {
            Ok(())
        } else {
            Err(self.error("expected `]`"))
        }
    }

    fn ident(&mut self) -> Option<String> {
        let mut chars = self.rest().chars();
        let first = chars.next()?;
        if !(first == '_' || first == '$' || unicode_ident::is_xid_start(first)) {
            return None;
        }
        let len = first.len_utf8()
            + chars
                .take_while(|&c| unicode_ident::is_xid_continue(c))
                .map(char::len_utf8)
                .sum::<usize>();
        let ident = self.rest()[..len].to_owned();
        self.at += len;
        Some(ident)
    }

    /// A quoted key: everything up to the next `"`; a `\` keeps the character after it
    /// (so `\\` is one backslash) but cannot escape a `"`.
    fn string(&mut self) -> Result<String, SelectorError> {
        let open = self.at;
        self.at += 1;
        let Some(len) = self.rest().find('"') else {
            return Err(self.error_at(open, "unterminated `\"` in a quoted key"));
        };
        let raw = &self.rest()[..len];
        self.at += len + 1;
        let mut key = String::with_capacity(raw.len());
        let mut escaped = false;
        for c in raw.chars() {
            if c == '\\' && !escaped {
                escaped = true;
            } else {
                key.push(c);
                escaped = false;
            }
        }
        Ok(key)
    }

    /// An integer in a subscript: an optional `-`, then ASCII digits.
    fn int(&mut self) -> Result<Int<'a>, SelectorError> {
        let start = self.at;
        let negative = self.eat("-");
        let digits_at = self.at;
        let digits = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if let Some(c) = self.rest()[digits..]
            .chars()
            .next()
            .filter(|c| c.is_numeric())
        {
            return Err(self.error(format!(
                "write the number with ASCII digits `0`-`9`, found `{c}`"
            )));
        }
        if digits == 0 {
            let what = self
                .peek()
                .map_or("the end".to_owned(), |c| format!("`{c}`"));
            let expected = if negative {
                "the number's digits right after `-`"
            } else {
                "a quoted key, an index or a range inside `[...]`"
            };
            return Err(self.error(format!("expected {expected}, found {what}")));
        }
        self.at += digits;
        let after = self.at;
        if self.peek().is_some_and(char::is_whitespace) {
            // insta reads the space as part of the number: it panics on `[1 ]` and reads
            // `[:1 ]` as `[]`.
            return Err(self.error(format!(
                "no space after the number `{}` inside `[...]`",
                &self.text[start..after]
            )));
        }
        let text: &'a str = self.text;
        Ok(Int {
            at: start,
            negative,
            digits: &text[digits_at..after],
        })
    }

    /// An index: not negative, at most `u64::MAX` (insta panics on either).
    fn index(&self, int: Int<'_>) -> Result<u64, SelectorError> {
        if int.negative {
            return Err(self.error_at(
                int.at,
                format!(
                    "negative index `[-{0}]`; to select from the end use a range: `[-{0}:]`",
                    int.digits
                ),
            ));
        }
        int.digits.parse().map_err(|_| {
            self.error_at(
                int.at,
                format!("the number `{}` is too large for an index", int.digits),
            )
        })
    }

    /// A range bound: fits an `i64` (insta panics otherwise).
    fn bound(&self, int: Int<'_>) -> Result<i64, SelectorError> {
        let text = if int.negative {
            format!("-{}", int.digits)
        } else {
            int.digits.to_owned()
        };
        text.parse().map_err(|_| {
            self.error_at(
                int.at,
                format!("the number `{text}` is too large for a range bound"),
            )
        })
    }
}

/// An integer as written: where, its sign, its digits.
struct Int<'a> {
    at: usize,
    negative: bool,
    digits: &'a str,
}
