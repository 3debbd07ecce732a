//! Making text printable on one line, the one way every report, diff and table shows
//! commands, responses and event data.

/// Makes text printable on one line: control characters become visible (`\n`, `\r`, `\t`,
/// `\u{1b}`) and `\` is doubled, so a literal backslash-n differs from a newline.
/// Everything else, quotes included, is left as it is: SCPI responses are full of `"`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Cuts `text` to at most `max` characters, the last one an `…` when anything was cut.
/// Does not escape: call [`escape`] first for text that may hold control characters.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        cut.push('…');
    }
    cut
}

/// `text` as a YAML double-quoted scalar: `"` and `\` escaped, and every character YAML
/// does not allow as it is (control characters, DEL, C1 controls, line and paragraph
/// separators, byte-order mark) written as an escape sequence. Non-ASCII text stays as it
/// is. The escapes used are also JSON's, so the result is a JSON string literal too.
pub fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_controls_visible_and_doubles_backslashes() {
        assert_eq!(
            escape("a\nb\r\t\u{1b}[31m\\n\"q\""),
            "a\\nb\\r\\t\\u{1b}[31m\\\\n\"q\""
        );
    }

    #[test]
    fn shorten_counts_characters_and_saturates() {
        assert_eq!(shorten("ééééé", 3), "éé…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abc", 0), "");
    }

    #[test]
    fn yaml_quoted_escapes_quotes_backslashes_and_controls() {
        assert_eq!(
            yaml_quoted("bench.snapshot(\"idn\")"),
            r#""bench.snapshot(\"idn\")""#
        );
        assert_eq!(yaml_quoted(r"C:\dir"), r#""C:\\dir""#);
        assert_eq!(yaml_quoted("a\nb\r\tc"), r#""a\nb\r\tc""#);
        assert_eq!(
            yaml_quoted("\u{0}\u{8}\u{c}\u{1b}\u{7f}\u{85}\u{2028}\u{feff}"),
            r#""\u0000\b\f\u001b\u007f\u0085\u2028\ufeff""#
        );
        assert_eq!(yaml_quoted("Ω µA 5 °C"), "\"Ω µA 5 °C\"");
    }
}
