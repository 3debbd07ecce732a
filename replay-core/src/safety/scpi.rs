//! The small part of SCPI that safety limits need: headers of program message units,
//! their first parameter, and a conservative header comparison.
//!
//! Limits err on the side of refusing: a header that might address the limited setting is
//! taken to address it. (Replay matching, where a false "same" hides a change, is stricter
//! and lives in its own module.)

/// Nodes that SCPI instruments commonly treat as optional (default) nodes of a setting:
/// `[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]`.
const DEFAULT_NODES: [(&str, &str); 4] = [
    ("SOUR", "SOURCE"),
    ("LEV", "LEVEL"),
    ("IMM", "IMMEDIATE"),
    ("AMPL", "AMPLITUDE"),
];

/// One node of a limit's header, from its SCPI notation (`SOURce2`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LimitNode {
    /// Upper-case short form (`SOUR`); equal to `long` when the notation does not say.
    short: String,
    /// Upper-case long form (`SOURCE`).
    long: String,
    /// Whether the notation gave the short form (mixed case).
    notation: bool,
    /// `None`: every suffix (every channel).
    suffix: Option<u32>,
    /// A default node without suffix (or written `[NODE]`): may be absent from a command.
    optional: bool,
}

/// One node of a command header (`SOUR2` → `SOUR`, `Some(2)`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CommandNode {
    name: String,
    suffix: Option<u32>,
}

impl CommandNode {
    fn is_default(&self) -> bool {
        DEFAULT_NODES
            .iter()
            .any(|(short, long)| self.name == *short || self.name == *long)
    }
}

/// A setting found in a message: its full header and its first parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Setting {
    pub(crate) header: Vec<CommandNode>,
    pub(crate) value: String,
}

/// Parses a limit's header (`SOURce:VOLTage`, `[SOURce]:CURRent`, `OUTPut2:VOLTage`).
pub(crate) fn limit_nodes(command: &str) -> Result<Vec<LimitNode>, String> {
    let invalid = |why: &str| {
        format!(
            "the limit `command` `{command}` is not a SCPI header: {why}; write it in SCPI notation such as `SOURce:VOLTage`"
        )
    };
    let header = command.trim().trim_start_matches(':');
    if header.is_empty() {
        return Err(invalid("it is empty"));
    }
    if header.contains('?') {
        return Err(invalid("limits apply to settings, so leave out the `?`"));
    }
    let mut nodes = Vec::new();
    for part in header.split(':') {
        let (bracketed, part) = match part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            Some(inner) => (true, inner),
            None => (false, part),
        };
        let letters_end = part
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(part.len());
        let (letters, digits) = part.split_at(letters_end);
        if letters.is_empty() {
            return Err(invalid(&format!("node `{part}` has no letters")));
        }
        let suffix = if digits.is_empty() {
            None
        } else {
            Some(
                digits
                    .parse::<u32>()
                    .map_err(|_| invalid(&format!("node `{part}` ends in `{digits}`")))?,
            )
        };
        let upper_len = letters
            .find(|c: char| c.is_ascii_lowercase())
            .unwrap_or(letters.len());
        let notation = upper_len > 0 && upper_len < letters.len();
        if notation && letters[upper_len..].chars().any(|c| c.is_ascii_uppercase()) {
            return Err(invalid(&format!(
                "in node `{letters}` the short form (capitals) must come first"
            )));
        }
        let long = letters.to_ascii_uppercase();
        let short = if notation {
            letters[..upper_len].to_owned()
        } else {
            long.clone()
        };
        let optional = suffix.is_none()
            && (bracketed
                || DEFAULT_NODES
                    .iter()
                    .any(|(s, l)| long == *l || (!notation && long == *s)));
        nodes.push(LimitNode {
            short,
            long,
            notation,
            suffix,
            optional,
        });
    }
    Ok(nodes)
}

fn node_matches(limit: &LimitNode, node: &CommandNode) -> bool {
    let name = &node.name;
    let name_matches = if limit.notation {
        *name == limit.short || *name == limit.long
    } else {
        // No notation: accept either form of the other (`VOLT` covers `VOLTAGE`).
        name.len() >= 3 && (limit.long.starts_with(name.as_str()) || name.starts_with(&limit.long))
    };
    let suffix_matches = match limit.suffix {
        None => true,
        Some(n) => node.suffix.unwrap_or(1) == n,
    };
    name_matches && suffix_matches
}

/// Whether a command header may address the setting a limit's header names: nodes equal
/// in long or short form, default nodes optional on either side.
pub(crate) fn header_matches(limit: &[LimitNode], header: &[CommandNode]) -> bool {
    // reach[i][j]: the first i limit nodes account for the first j command nodes.
    let (n, m) = (limit.len(), header.len());
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[0][0] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reach[i][j] {
                continue;
            }
            if i < n && j < m && node_matches(&limit[i], &header[j]) {
                reach[i + 1][j + 1] = true;
            }
            if i < n && limit[i].optional {
                reach[i + 1][j] = true;
            }
            if j < m && header[j].is_default() {
                reach[i][j + 1] = true;
            }
        }
    }
    reach[n][m]
}

/// The settings (non-query, non-common units) of a message, with headers made absolute
/// as SCPI's compound-message rule says (`SOUR:VOLT 5;CURR 1` sets `SOUR:CURR`).
pub(crate) fn settings(message: &str) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut path: Vec<CommandNode> = Vec::new();
    for unit in split_outside_quotes(message, ';') {
        let unit = unit.trim();
        if unit.is_empty() || unit.starts_with('*') {
            continue;
        }
        let (absolute, unit) = match unit.strip_prefix(':') {
            Some(rest) => (true, rest),
            None => (false, unit),
        };
        let header_end = unit
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(unit.len());
        let (header_text, params) = unit.split_at(header_end);
        let nodes: Vec<CommandNode> = header_text.split(':').map(command_node).collect();
        let mut header = if absolute || path.is_empty() {
            Vec::new()
        } else {
            path[..path.len() - 1].to_vec()
        };
        header.extend(nodes);
        path.clone_from(&header);
        if header_text.contains('?') {
            continue;
        }
        let value = split_outside_quotes(params, ',')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        out.push(Setting { header, value });
    }
    out
}

fn command_node(text: &str) -> CommandNode {
    let text = text.trim();
    let letters_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (letters, rest) = text.split_at(letters_end);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    CommandNode {
        name: letters.to_ascii_uppercase(),
        suffix: digits.parse().ok(),
    }
}

/// Splits at `separator` outside `"…"` and `'…'` strings and `(…)` lists.
fn split_outside_quotes(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let (mut quote, mut depth, mut start) = (None, 0usize, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, c) if c == separator && depth == 0 => {
                pieces.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

/// A decimal numeric parameter with an optional unit, in the base unit (`500 mV` → 0.5).
/// `None` for anything else (`MAX`, `DEF`, `#H1F`, `NaN`, an unknown unit).
pub(crate) fn numeric_value(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mantissa_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if !text[mantissa_start..i].bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    // An exponent (`E+03`), only if digits follow: `7 E` is not one.
    let mut j = i;
    while bytes.get(j) == Some(&b' ') {
        j += 1;
    }
    if matches!(bytes.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        while bytes.get(k) == Some(&b' ') {
            k += 1;
        }
        if matches!(bytes.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if bytes.get(k).is_some_and(u8::is_ascii_digit) {
            while bytes.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            i = k;
        }
    }
    let number: String = text[..i].chars().filter(|c| *c != ' ').collect();
    let value: f64 = number.parse().ok()?;
    let factor = unit_factor(text[i..].trim())?;
    let value = value * factor;
    value.is_finite().then_some(value)
}

/// The multiplier of a SCPI suffix unit (`MV` → 1e-3; `MHZ` and `MOHM` are mega).
fn unit_factor(unit: &str) -> Option<f64> {
    if unit.is_empty() {
        return Some(1.0);
    }
    let unit = unit.to_ascii_uppercase();
    for base in ["OHM", "HZ", "V", "A", "W", "S"] {
        let Some(prefix) = unit.strip_suffix(base) else {
            continue;
        };
        let mega_m = base == "HZ" || base == "OHM";
        return match prefix {
            "" => Some(1.0),
            "T" => Some(1e12),
            "G" => Some(1e9),
            "MA" => Some(1e6),
            "K" => Some(1e3),
            "M" if mega_m => Some(1e6),
            "M" => Some(1e-3),
            "U" => Some(1e-6),
            "N" => Some(1e-9),
            "P" => Some(1e-12),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_units() {
        assert_eq!(numeric_value("7"), Some(7.0));
        assert_eq!(numeric_value("+5.000E+00"), Some(5.0));
        assert_eq!(numeric_value("500E-2"), Some(5.0));
        assert_eq!(numeric_value(".5"), Some(0.5));
        assert_eq!(numeric_value("500 mV"), Some(0.5));
        assert_eq!(numeric_value("1.5KV"), Some(1500.0));
        assert_eq!(numeric_value("2 MHZ"), Some(2e6));
        assert_eq!(numeric_value("2 MA"), Some(0.002));
        for not_a_number in [
            "MAX",
            "DEF",
            "",
            "NaN",
            "inf",
            "#H1F",
            "7 furlongs",
            "1e999",
            ".",
        ] {
            assert_eq!(numeric_value(not_a_number), None, "{not_a_number}");
        }
    }

    #[test]
    fn compound_messages_follow_the_path_rule() {
        let s = settings("SOUR:VOLT 5;CURR 1;:OUTP ON;*OPC?;MEAS:VOLT?");
        let headers: Vec<Vec<String>> = s
            .iter()
            .map(|s| s.header.iter().map(|n| n.name.clone()).collect())
            .collect();
        assert_eq!(
            headers,
            [vec!["SOUR", "VOLT"], vec!["SOUR", "CURR"], vec!["OUTP"]]
        );
        assert_eq!(s[0].value, "5");
        let quoted = settings("DISP:TEXT 'a;b', 2;VOLT 3");
        assert_eq!(quoted.len(), 2);
        assert_eq!(quoted[0].value, "'a;b'");
    }

    #[test]
    fn notation_gives_both_forms() {
        let nodes = limit_nodes("[SOURce]:VOLTage:PROTection").unwrap();
        let header =
            |text: &str| -> Vec<CommandNode> { settings(&format!("{text} 1"))[0].header.clone() };
        assert!(header_matches(&nodes, &header("VOLT:PROT")));
        assert!(header_matches(&nodes, &header("SOURCE:VOLTAGE:PROTECTION")));
        assert!(!header_matches(&nodes, &header("VOLT")));
        assert!(!header_matches(&nodes, &header("VOLTA:PROT")));
        let plain = limit_nodes("VOLT").unwrap();
        assert!(header_matches(&plain, &header("VOLTAGE")));
        assert!(!header_matches(&plain, &header("CURR")));
        assert!(limit_nodes("VOLtAGE").is_err());
    }
}
