//! Reading a SCPI program message (IEEE 488.2 §7) into the parts the `scpi` rule compares.
//!
//! Pure functions, no I/O. Anything that is not well-formed SCPI is kept as written
//! ([`Message::Raw`]) and compared byte for byte: the normaliser never guesses.

use super::decimal::Decimal;
use super::keywords::{self, KeywordTable};

/// A program message: one or more program message units separated by `;`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// Well-formed units.
    Units(Vec<Unit>),
    /// Not well-formed SCPI: compared exactly as written.
    Raw(String),
}

/// One command or query of a message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unit {
    /// The header.
    pub header: Header,
    /// The parameters, in order.
    pub params: Vec<Param>,
}

/// A program header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Header {
    /// An IEEE 488.2 common command (`*IDN?`): its mnemonic in upper case, without `*`.
    Common {
        /// `IDN`.
        name: String,
        /// Ends in `?`.
        query: bool,
    },
    /// A SCPI tree header (`:SOURce1:VOLTage`).
    Tree {
        /// Starts with `:` (kept for every unit after the first: after a `;`, a leading
        /// colon returns to the root, its absence stays on the current path).
        absolute: bool,
        /// The keywords, in order.
        keywords: Vec<Keyword>,
        /// Ends in `?`.
        query: bool,
    },
}

/// One keyword of a tree header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// A keyword of the table, with its numeric suffix (1 when omitted).
    Known {
        /// Which keyword.
        id: u32,
        /// The numeric suffix.
        suffix: u64,
    },
    /// Any other mnemonic, in upper case, digits included.
    Other(String),
}

/// One parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// Decimal numeric data, with an optional suffix unit (upper case: IEEE 488.2 suffixes
    /// are case-insensitive). Booleans of standard keywords become `1` and `0`.
    Number(Decimal, Option<String>),
    /// Character data (`ON`, `MAX`, `BUS`), upper case; standard long forms shortened.
    Character(String),
    /// Non-decimal numeric data (`#H1F`), upper case.
    NonDecimal(String),
    /// String data, delimiters included, exactly as written.
    Text(String),
    /// Block data, exactly as written.
    Block(String),
    /// Expression data (`(@1,2)`), white space next to its separators removed.
    Expression(String),
    /// Anything else, exactly as written.
    Raw(String),
}

impl Param {
    /// What kind of data this is, for explanations.
    pub fn kind(&self) -> &'static str {
        match self {
            Param::Number(..) => "a number",
            Param::Character(_) => "character data",
            Param::NonDecimal(_) => "a non-decimal number",
            Param::Text(_) => "string data",
            Param::Block(_) => "block data",
            Param::Expression(_) => "an expression",
            Param::Raw(_) => "unparsed data",
        }
    }
}

/// Reads `command` with the keywords of `table`.
pub fn parse(command: &str, table: &KeywordTable) -> Message {
    match Parser::new(command, table).message() {
        Some(units) => Message::Units(units),
        None => Message::Raw(command.to_owned()),
    }
}

fn is_space(b: u8) -> bool {
    // IEEE 488.2 <white space> (control characters and space); a trailing newline is a
    // terminator, which is white space to the comparison too.
    b <= 0x20
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    table: &'a KeywordTable,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, table: &'a KeywordTable) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            at: 0,
            table,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) -> bool {
        let start = self.at;
        while self.peek().is_some_and(is_space) {
            self.at += 1;
        }
        self.at > start
    }

    fn message(&mut self) -> Option<Vec<Unit>> {
        let mut units = Vec::new();
        loop {
            self.skip_space();
            let first = units.is_empty();
            units.push(self.unit(first)?);
            self.skip_space();
            match self.peek() {
                None => return Some(units),
                Some(b';') => self.at += 1,
                Some(_) => return None,
            }
        }
    }

    fn unit(&mut self, first: bool) -> Option<Unit> {
        let mut header = self.header(first)?;
        if first {
            // A leading `:` at the start of a message changes nothing.
            if let Header::Tree { absolute, .. } = &mut header {
                *absolute = false;
            }
        }
        let spaced = self.skip_space();
        let mut params = Vec::new();
        if spaced && !matches!(self.peek(), None | Some(b';')) {
            loop {
                self.skip_space();
                params.push(self.param()?);
                self.skip_space();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    _ => break,
                }
            }
        }
        if !params.is_empty() {
            coerce_booleans(&header, &mut params, self.table);
        }
        Some(Unit { header, params })
    }

    fn mnemonic(&mut self) -> Option<&'a str> {
        let start = self.at;
        if !self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.at += 1;
        }
        Some(&self.text[start..self.at])
    }

    fn query_mark(&mut self) -> bool {
        if self.peek() == Some(b'?') {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn header(&mut self, first: bool) -> Option<Header> {
        if self.peek() == Some(b'*') {
            self.at += 1;
            let name = self.mnemonic()?.to_ascii_uppercase();
            let query = self.query_mark();
            return Some(Header::Common { name, query });
        }
        let absolute = self.peek() == Some(b':');
        if absolute {
            self.at += 1;
        }
        let mut keywords = Vec::new();
        loop {
            let mnemonic = self.mnemonic()?;
            // The first keyword of the message, or after a `:`, stands at the root.
            let root = keywords.is_empty() && (first || absolute);
            keywords.push(keyword(mnemonic, root, self.table));
            if self.peek() == Some(b':') {
                self.at += 1;
            } else {
                break;
            }
        }
        let query = self.query_mark();
        Some(Header::Tree {
            absolute,
            keywords,
            query,
        })
    }

    fn param(&mut self) -> Option<Param> {
        let start = self.at;
        match self.peek()? {
            quote @ (b'"' | b'\'') => {
                self.at += 1;
                loop {
                    match self.peek()? {
                        b if b == quote => {
                            self.at += 1;
                            if self.peek() == Some(quote) {
                                self.at += 1;
                            } else {
                                break;
                            }
                        }
                        _ => self.at += 1,
                    }
                }
                Some(Param::Text(self.text[start..self.at].to_owned()))
            }
            b'#' => {
                self.at += 1;
                match self.peek()? {
                    b'0' => {
                        // Indefinite length: the rest of the message.
                        self.at = self.bytes.len();
                        Some(Param::Block(self.text[start..].to_owned()))
                    }
                    d @ b'1'..=b'9' => {
                        let n = usize::from(d - b'0');
                        let digits = self.text.get(self.at + 1..self.at + 1 + n)?;
                        let len: usize = digits.parse().ok()?;
                        let end = self.at + 1 + n + len;
                        let raw = self.text.get(start..end)?;
                        self.at = end;
                        Some(Param::Block(raw.to_owned()))
                    }
                    b'H' | b'h' | b'Q' | b'q' | b'B' | b'b' => {
                        self.at += 1;
                        let digits = self.at;
                        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                            self.at += 1;
                        }
                        (self.at > digits).then(|| {
                            Param::NonDecimal(self.text[start..self.at].to_ascii_uppercase())
                        })
                    }
                    _ => None,
                }
            }
            b'(' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
                Some(Param::Expression(tidy_expression(
                    &self.text[start..self.at],
                )))
            }
            _ => {
                while self.peek().is_some_and(|b| !matches!(b, b',' | b';')) {
                    self.at += 1;
                }
                let token = self.text[start..self.at]
                    .trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
                Some(token_param(token))
            }
        }
    }
}

/// A keyword: a table entry (long or short form, numeric suffix), or the mnemonic itself.
fn keyword(mnemonic: &str, root: bool, table: &KeywordTable) -> Keyword {
    // Upper case on the stack: every keyword of every parsed command comes through here.
    let mut buffer = [0u8; 32];
    let owned;
    let upper = match upper_in(&mut buffer, mnemonic) {
        Some(upper) => upper,
        None => {
            owned = mnemonic.to_ascii_uppercase();
            owned.as_str()
        }
    };
    let lookup = |form: &str| {
        if root {
            table.lookup_root(form)
        } else {
            table.lookup(form)
        }
    };
    if let Some(id) = lookup(upper) {
        // Digits that belong to the keyword (`RS232`) stay part of it.
        return Keyword::Known { id, suffix: 1 };
    }
    let alpha = upper.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &upper[alpha.len()..];
    if !digits.is_empty()
        && !digits.starts_with('0')
        && let (Some(id), Ok(suffix)) = (lookup(alpha), digits.parse::<u64>())
    {
        return Keyword::Known { id, suffix };
    }
    Keyword::Other(upper.to_owned())
}

/// `text` in ASCII upper case, written into `buffer`; `None` when it does not fit.
fn upper_in<'b>(buffer: &'b mut [u8], text: &str) -> Option<&'b str> {
    let out = buffer.get_mut(..text.len())?;
    out.copy_from_slice(text.as_bytes());
    out.make_ascii_uppercase();
    std::str::from_utf8(out).ok()
}

/// Removes white space next to an expression's separators: `( @1, 2 )` → `(@1,2)`.
fn tidy_expression(expression: &str) -> String {
    const SEPARATORS: &[char] = &['(', ')', ',', ':', '@', '!'];
    let chars: Vec<char> = expression.chars().collect();
    let mut out = String::with_capacity(expression.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let before = out.chars().last();
            let after = chars.get(i).copied();
            let next_to_separator = before.is_some_and(|c| SEPARATORS.contains(&c))
                || after.is_some_and(|c| SEPARATORS.contains(&c));
            if !next_to_separator {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Classifies an unquoted token: a number (with a unit), character data, or raw text.
fn token_param(token: &str) -> Param {
    let bytes = token.as_bytes();
    if bytes.first().is_some_and(|b| b.is_ascii_alphabetic()) {
        if bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            let upper = token.to_ascii_uppercase();
            let canonical = match keywords::parameters().lookup(&upper) {
                Some(id) => format!("\u{0}{id}"),
                None => upper,
            };
            return Param::Character(canonical);
        }
        return Param::Raw(token.to_owned());
    }
    // Mantissa and exponent, then an optional unit.
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end += 1;
    }
    while bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        end += 1;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(bytes.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let digits = e;
        while bytes.get(e).is_some_and(u8::is_ascii_digit) {
            e += 1;
        }
        if e > digits {
            end = e;
        }
    }
    let Some(number) = Decimal::parse(&token[..end]) else {
        return Param::Raw(token.to_owned());
    };
    let unit = token[end..].trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    if unit.is_empty() {
        return Param::Number(number, None);
    }
    let unit_ok = unit.as_bytes()[0].is_ascii_alphabetic()
        && unit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_'));
    if unit_ok {
        Param::Number(number, Some(unit.to_ascii_uppercase()))
    } else {
        Param::Raw(token.to_owned())
    }
}

/// `ON`/`OFF` of a boolean parameter of a standard keyword become `1`/`0`.
///
/// Boolean headers: any path ending in `STATe` (SCPI-99's boolean node), `OUTPut`,
/// `INPut`, `INITiate:CONTinuous`, and `…:AUTO` (`<Boolean>|ONCE`); every keyword of the
/// path must be standard. Only the first parameter is a boolean (`OUTP ON, (@1)`).
fn coerce_booleans(header: &Header, params: &mut [Param], table: &KeywordTable) {
    let Header::Tree { keywords, .. } = header else {
        return;
    };
    let standard = keywords::standard();
    // The ids of the keywords, in order (no boolean when one is not in the table).
    let mut ids = [0u32; 2];
    let mut count = 0;
    for k in keywords {
        let Keyword::Known { id, .. } = k else { return };
        if let Some(slot) = ids.get_mut(count) {
            *slot = *id;
        }
        count += 1;
    }
    let Some(Keyword::Known { id: last, .. }) = keywords.last() else {
        return;
    };
    // Every keyword must be a standard one (same id in the standard table, whose ids come
    // first in any table built from it).
    let is =
        |id: u32, name: &str| standard.lookup(name) == Some(id) && table.lookup(name) == Some(id);
    let boolean = is(*last, "STATE")
        || is(*last, "AUTO")
        || match (count, ids) {
            (1, [only, _]) => is(only, "OUTPUT") || is(only, "INPUT"),
            (2, [a, b]) => is(a, "INITIATE") && is(b, "CONTINUOUS"),
            _ => false,
        };
    if !boolean {
        return;
    }
    if let Some(first) = params.first_mut()
        && let Param::Character(value) = first
    {
        let number = match value.as_str() {
            "ON" => "1",
            "OFF" => "0",
            _ => return,
        };
        if let Some(d) = Decimal::parse(number) {
            *first = Param::Number(d, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Message {
        parse(text, keywords::standard())
    }

    fn units(text: &str) -> Vec<Unit> {
        match p(text) {
            Message::Units(units) => units,
            Message::Raw(raw) => panic!("`{raw}` did not parse"),
        }
    }

    #[test]
    fn headers_and_parameters() {
        let u = units(":SOUR1:VOLT:LEV 5.0 V, MAX ; *OPC?");
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].params.len(), 2);
        assert!(matches!(&u[0].params[0], Param::Number(_, Some(unit)) if unit == "V"));
        assert!(matches!(&u[1].header, Header::Common { name, query: true } if name == "OPC"));
    }

    #[test]
    fn malformed_messages_stay_raw() {
        for text in [
            "VOLT:",
            "VOLT 5,",
            "\"unterminated",
            "VOLT \"a",
            "*",
            "VOLT #3ab",
            ":",
            "VOLT;;",
            "VOLT (@1",
        ] {
            assert_eq!(p(text), Message::Raw(text.to_owned()), "{text}");
        }
    }

    #[test]
    fn suffix_rules() {
        let t = keywords::standard();
        assert_eq!(keyword("OUTP", false, t), keyword("OUTPUT1", false, t));
        assert_ne!(keyword("OUTP", false, t), keyword("OUTP2", false, t));
        assert_eq!(keyword("RS232", false, t), keyword("rs232", false, t));
        assert_ne!(keyword("RS232", false, t), keyword("RS", false, t));
        assert_eq!(keyword("CHAN1", false, t), Keyword::Other("CHAN1".into()));
        assert_ne!(keyword("OUTP01", false, t), keyword("OUTP1", false, t));
        assert_eq!(keyword("TRIG", true, t), keyword("TRIGGER", true, t));
        assert_ne!(keyword("TRIG", false, t), keyword("TRIGGER", false, t));
    }

    #[test]
    fn expressions_are_tidied() {
        assert_eq!(tidy_expression("( @1, 2 )"), "(@1,2)");
        assert_eq!(tidy_expression("(@1 2)"), "(@1 2)");
    }

    #[test]
    fn booleans_of_standard_keywords() {
        let on = units("OUTP ON");
        assert_eq!(on, units("OUTP 1"));
        assert_eq!(units("OUTP:STATE OFF"), units("OUTPut:STATe 0"));
        assert_ne!(units("OUTP:STAT OFF"), units("OUTP:STATE 0"));
        assert_ne!(units("VOLT:MODE ON"), units("VOLT:MODE 1"));
    }
}
