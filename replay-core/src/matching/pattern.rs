//! `ignore` and `repeatable` patterns: a SCPI command (`SYST:ERR?`), compared SCPI-aware,
//! or a regular expression between slashes (`/^SYST:ERR/`).

use super::keywords::KeywordTable;
use super::parse::{Header, Message, Unit, parse};

/// One compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// A header, with parameters only if the pattern gives them.
    Scpi(Unit),
    /// Matched against the whole command (`is_match`: anchor it with `^…$` to match all of it).
    Regex(regex_lite::Regex),
}

impl Pattern {
    /// Compiles `source`: `/regex/`, or one SCPI command (header, optional parameters).
    pub fn new(source: &str, table: &KeywordTable) -> Result<Pattern, String> {
        let trimmed = source.trim();
        let kind = if let Some(re) = trimmed
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
        {
            Kind::Regex(regex_lite::Regex::new(re).map_err(|e| {
                format!(
                    "pattern `{source}` is not a valid regular expression: {}",
                    crate::regex_error::describe(&e)
                )
            })?)
        } else {
            match parse(trimmed, table) {
                Message::Units(mut units) if units.len() == 1 => Kind::Scpi(units.remove(0)),
                _ => {
                    return Err(format!(
                        "pattern `{source}` is not one SCPI command; write a header such as `SYST:ERR?`, or a regular expression between slashes such as `/^SYST:ERR/`"
                    ));
                }
            }
        };
        Ok(Pattern {
            source: source.to_owned(),
            kind,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `command` can match at all, from its bytes alone (no parsing): a query
    /// pattern needs a `?` in the command, a common-command pattern a `*`. `false` only
    /// when [`Pattern::matches`] is `false`.
    pub fn may_match(&self, command: &str) -> bool {
        let header = match &self.kind {
            Kind::Regex(_) => return true,
            Kind::Scpi(unit) => &unit.header,
        };
        // A parsed header is a query only after a `?`, and common only after a `*`; a
        // match needs the pattern's header.
        let (query, common) = match header {
            Header::Common { query, .. } => (*query, true),
            Header::Tree { query, .. } => (*query, false),
        };
        (!query || command.contains('?')) && (!common || command.contains('*'))
    }

    /// Whether `command` matches: the same header (SCPI-aware) and, when the pattern has
    /// parameters, the same parameters; or the regular expression finds a match.
    pub fn matches(&self, command: &str, table: &KeywordTable) -> bool {
        match &self.kind {
            Kind::Regex(re) => re.is_match(command),
            Kind::Scpi(pattern) => match parse(command, table) {
                Message::Units(units) if units.len() == 1 => {
                    let unit = &units[0];
                    if pattern.params.is_empty() {
                        unit.header == pattern.header
                    } else {
                        // Equal units are exactly what `compare_messages` accepts without
                        // a tolerance.
                        *unit == *pattern
                    }
                }
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::keywords;

    fn m(pattern: &str, command: &str) -> bool {
        let t = keywords::standard();
        Pattern::new(pattern, t).unwrap().matches(command, t)
    }

    #[test]
    fn scpi_patterns() {
        assert!(m("SYST:ERR?", "SYSTem:ERRor?"));
        assert!(m("SYST:ERR?", ":syst:err?"));
        assert!(!m("SYST:ERR?", "SYST:ERR:NEXT?"));
        assert!(!m("SYST:ERR?", "SYST:ERR"));
        assert!(!m("SYST:ERR?", "SYST:ERR?;*OPC?"));
        assert!(m("*IDN?", "*idn?"));
        assert!(m("VOLT", "VOLT 5"));
        assert!(m("VOLT 5", "VOLTage 5.0"));
        assert!(!m("VOLT 5", "VOLT 6"));
    }

    #[test]
    fn may_match_never_rules_out_a_match() {
        let t = keywords::standard();
        for (pattern, command, may) in [
            ("SYST:ERR?", "syst:err?", true),
            ("SYST:ERR?", "SYST:ERR", false),
            ("SYST:ERR?", "VOLT 5", false),
            ("*IDN?", "*idn?", true),
            ("*IDN?", "IDN?", false),
            ("*RST", "VOLT 5", false),
            ("VOLT", "VOLT 5", true),
            ("/^volt/", "VOLT 5", true),
        ] {
            let p = Pattern::new(pattern, t).unwrap();
            assert_eq!(p.may_match(command), may, "{pattern} / {command}");
            assert!(p.may_match(command) || !p.matches(command, t));
        }
    }

    #[test]
    fn regex_patterns() {
        assert!(m("/^SYST:ERR/", "SYST:ERR?"));
        assert!(!m("/^SYST:ERR/", "syst:err?"));
        assert!(m("/(?i)^syst(em)?:err(or)?\\?$/", "SYSTEM:ERROR?"));
    }

    #[test]
    fn bad_patterns() {
        let t = keywords::standard();
        let e = Pattern::new("/(/", t).unwrap_err();
        assert_eq!(
            e,
            "pattern `/(/` is not a valid regular expression: found open group without closing ')'"
        );
        let e = Pattern::new(r"/^\p{Lu}/", t).unwrap_err();
        assert!(e.contains("list the characters"), "{e}");
        let e = Pattern::new("SYST:ERR?;*OPC?", t).unwrap_err();
        assert!(e.contains("not one SCPI command"), "{e}");
        assert!(Pattern::new("", t).is_err());
    }
}
