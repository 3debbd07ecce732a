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
}
