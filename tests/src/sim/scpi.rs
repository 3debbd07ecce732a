//! SCPI program messages: splitting a line into commands, headers, and mnemonic matching.
//!
//! The rules are the ones real instruments apply (IEEE 488.2 / SCPI-99):
//! - headers are case-insensitive and accept the short form (the upper-case part of the
//!   mnemonic, `VOLT`) or the long form (`VOLTAGE`), never anything in between;
//! - a leading `:` makes a header absolute; nodes in `[brackets]` may be omitted;
//! - several commands may share one line, separated by `;`; a command without a leading
//!   `:` after a compound one is first tried relative to the previous command's path;
//! - a header ending in `?` is a query.

/// One command of a program message, parsed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Command<'a> {
    /// Header nodes, upper case, without `:` and without the trailing `?`.
    pub(crate) nodes: Vec<String>,
    /// The header ended in `?`.
    pub(crate) query: bool,
    /// The header started with `:`.
    pub(crate) absolute: bool,
    /// A common command (`*IDN?`, `*RST`).
    pub(crate) common: bool,
    /// The parameters, split on top-level commas and trimmed (empty when none).
    pub(crate) params: Vec<&'a str>,
}

/// Why a command could not even be parsed (reported as `-1xx` errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyntaxError {
    /// An empty node (`VOLT::LEV`), a stray character in a header.
    BadHeader,
    /// An unterminated string or channel list.
    BadParameter,
}

/// Splits one line (terminator already removed) into its `;`-separated commands.
///
/// Semicolons inside quoted strings and channel lists are not separators. Empty commands
/// (`*RST;;*CLS`, a trailing `;`) are dropped.
pub(crate) fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';') if depth == 0 => {
                out.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(line[start..].trim());
    out.retain(|c| !c.is_empty());
    out
}

/// Parses one command (`:VOLT 5.0, (@1)`, `*IDN?`, `MEAS:VOLT? (@1:3)`).
pub(crate) fn parse_command(text: &str) -> Result<Command<'_>, SyntaxError> {
    let text = text.trim();
    let (header, rest) = match text.find(|c: char| c.is_ascii_whitespace()) {
        Some(pos) => (&text[..pos], text[pos..].trim()),
        None => (text, ""),
    };
    let (header, query) = match header.strip_suffix('?') {
        Some(h) => (h, true),
        None => (header, false),
    };
    let params = split_params(rest)?;
    if let Some(name) = header.strip_prefix('*') {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SyntaxError::BadHeader);
        }
        return Ok(Command {
            nodes: vec![format!("*{}", name.to_ascii_uppercase())],
            query,
            absolute: true,
            common: true,
            params,
        });
    }
    let (header, absolute) = match header.strip_prefix(':') {
        Some(h) => (h, true),
        None => (header, false),
    };
    let nodes: Vec<String> = header.split(':').map(str::to_ascii_uppercase).collect();
    let valid = |n: &String| {
        !n.is_empty()
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && n.starts_with(|c: char| c.is_ascii_alphabetic())
    };
    if !nodes.iter().all(valid) {
        return Err(SyntaxError::BadHeader);
    }
    Ok(Command {
        nodes,
        query,
        absolute,
        common: false,
        params,
    })
}

/// Splits a parameter list on top-level commas (not inside quotes or parentheses).
pub(crate) fn split_params(text: &str) -> Result<Vec<&str>, SyntaxError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.checked_sub(1).ok_or(SyntaxError::BadParameter)?,
            (None, ',') if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if quote.is_some() || depth != 0 {
        return Err(SyntaxError::BadParameter);
    }
    out.push(text[start..].trim());
    Ok(out)
}

impl Command<'_> {
    /// Whether the header matches `pattern`, written as nodes separated by `:` with
    /// optional nodes in brackets and the short form in upper case:
    /// `[SOURce]:VOLTage:[LEVel]:[IMMediate]:[AMPLitude]`.
    ///
    /// The query flag is not part of the match; callers check [`Command::query`].
    pub(crate) fn is(&self, pattern: &str) -> bool {
        let pattern: Vec<(&str, bool)> = pattern
            .split(':')
            .map(
                |node| match node.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
                    Some(inner) => (inner, true),
                    None => (node, false),
                },
            )
            .collect();
        matches_nodes(&pattern, &self.nodes)
    }

    /// The same command with `prefix` nodes put in front of its header (the SCPI
    /// relative-path rule for `;`-separated commands).
    pub(crate) fn with_prefix(&self, prefix: &[String]) -> Self {
        let mut nodes = prefix.to_vec();
        nodes.extend(self.nodes.iter().cloned());
        Command {
            nodes,
            query: self.query,
            absolute: true,
            common: false,
            params: self.params.clone(),
        }
    }
}

fn matches_nodes(pattern: &[(&str, bool)], nodes: &[String]) -> bool {
    match (pattern.split_first(), nodes.split_first()) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some(((mnemonic, optional), rest)), _) => {
            let here = nodes.split_first().is_some_and(|(node, tail)| {
                mnemonic_matches(mnemonic, node) && matches_nodes(rest, tail)
            });
            here || (*optional && matches_nodes(rest, nodes))
        }
    }
}

/// `VOLTage` matches `VOLT` and `VOLTAGE` (input already upper case).
pub(crate) fn mnemonic_matches(mnemonic: &str, input: &str) -> bool {
    let short: String = mnemonic
        .chars()
        .take_while(|c| !c.is_ascii_lowercase())
        .collect();
    input == short || input.eq_ignore_ascii_case(mnemonic)
}

/// Parses a mnemonic with a numeric suffix, such as `CHAN2` / `CHANnel2` for `CHANnel`;
/// returns the suffix.
pub(crate) fn suffixed(mnemonic: &str, input: &str) -> Option<u32> {
    let input = input.trim().to_ascii_uppercase();
    let split = input.find(|c: char| c.is_ascii_digit())?;
    let (name, digits) = input.split_at(split);
    if !mnemonic_matches(mnemonic, name) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_strings_and_lists() {
        assert_eq!(
            split_commands("VOLT 5, (@1);OUTP ON;;*OPC?; "),
            ["VOLT 5, (@1)", "OUTP ON", "*OPC?"]
        );
        assert_eq!(
            split_commands("DISP:TEXT \"a;b\";*CLS"),
            ["DISP:TEXT \"a;b\"", "*CLS"]
        );
        assert!(split_commands("  ").is_empty());
    }

    #[test]
    fn parses_headers_and_params() {
        let c = parse_command(":meas:volt? (@1,2)").unwrap();
        assert_eq!(c.nodes, ["MEAS", "VOLT"]);
        assert!(c.query && c.absolute && !c.common);
        assert_eq!(c.params, ["(@1,2)"]);

        let c = parse_command("VOLT 5.0, (@1)").unwrap();
        assert_eq!(c.params, ["5.0", "(@1)"]);
        assert!(!c.query && !c.absolute);

        let c = parse_command("*idn?").unwrap();
        assert_eq!(c.nodes, ["*IDN"]);
        assert!(c.common && c.query && c.params.is_empty());

        assert_eq!(parse_command("VOLT::LEV 1"), Err(SyntaxError::BadHeader));
        assert_eq!(parse_command("VOLT 1, (@1"), Err(SyntaxError::BadParameter));
        assert_eq!(parse_command("*"), Err(SyntaxError::BadHeader));
    }

    #[test]
    fn short_and_long_forms_only() {
        assert!(mnemonic_matches("VOLTage", "VOLT"));
        assert!(mnemonic_matches("VOLTage", "VOLTAGE"));
        assert!(!mnemonic_matches("VOLTage", "VOLTA"));
        assert!(!mnemonic_matches("VOLTage", "VOL"));
        assert!(mnemonic_matches("VPP", "VPP"));
    }

    #[test]
    fn optional_nodes() {
        let pattern = "[SOURce]:VOLTage:[LEVel]:[IMMediate]:[AMPLitude]";
        for header in [
            "VOLT 1",
            "volt:lev 1",
            "SOUR:VOLT:LEV:IMM:AMPL 1",
            "source:voltage:immediate 1",
        ] {
            assert!(parse_command(header).unwrap().is(pattern), "{header}");
        }
        for header in ["CURR 1", "VOLT:FOO 1", "SOUR 1", "LEV:VOLT 1"] {
            assert!(!parse_command(header).unwrap().is(pattern), "{header}");
        }
        assert!(
            parse_command(":SYSTem:ERRor?")
                .unwrap()
                .is("SYSTem:ERRor:[NEXT]")
        );
        assert!(parse_command("OUTP:STAT ON").unwrap().is("OUTPut:[STATe]"));
    }

    #[test]
    fn relative_prefix() {
        let c = parse_command("CURR?").unwrap();
        let prefixed = c.with_prefix(&["MEAS".to_owned()]);
        assert_eq!(prefixed.nodes, ["MEAS", "CURR"]);
        assert!(prefixed.query);
    }

    #[test]
    fn numeric_suffixes() {
        assert_eq!(suffixed("CHANnel", "CHAN1"), Some(1));
        assert_eq!(suffixed("CHANnel", "channel4"), Some(4));
        assert_eq!(suffixed("CHANnel", "CHA1"), None);
        assert_eq!(suffixed("CHANnel", "CHAN"), None);
    }
}
