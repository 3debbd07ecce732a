//! What a user reads when a regular expression (a `redact` pattern, a `/regex/` match
//! pattern) does not compile.
//!
//! regex-lite's errors are one fragment without a position; the syntax it leaves out of the
//! `regex` crate's gets a hint saying what to write instead.

/// regex-lite's message, plus what to write instead where regex-lite lacks a feature.
pub(crate) fn describe(error: &regex_lite::Error) -> String {
    let message = error.to_string();
    let hint = if message.contains("Unicode character classes") {
        " (`\\p{…}`, `\\P{…}`); list the characters instead, e.g. `[A-Za-zÀ-ÿ]`"
    } else if message.contains("intersection")
        || message.contains("difference")
        || message.contains("nested character classes")
    {
        "; write the class as one union of characters and ranges, e.g. `[a-z0-9]`"
    } else if message.contains("look-around") || message.contains("backreferences") {
        "; match the surrounding text and keep it with a capture group (`$1`) in the replacement"
    } else {
        ""
    };
    format!("{message}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(pattern: &str) -> String {
        describe(&regex_lite::Regex::new(pattern).unwrap_err())
    }

    #[test]
    fn errors_name_the_problem_and_what_to_write() {
        assert_eq!(error("("), "found open group without closing ')'");
        // regex-lite says "not supported" already: the hint says what to write instead.
        assert_eq!(
            error(r"\p{L}"),
            "Unicode character classes are not supported (`\\p{…}`, `\\P{…}`); list the characters instead, e.g. `[A-Za-zÀ-ÿ]`"
        );
        assert!(
            error("[a-z&&[^aeiou]]").contains("one union"),
            "{}",
            error("[a-z&&[^aeiou]]")
        );
        assert!(
            error(r"(a)\1").contains("capture group (`$1`)"),
            "{}",
            error(r"(a)\1")
        );
    }
}
