//! Where and how a file is malformed, with the offending line quoted rustc-style.

use std::fmt;
use std::path::PathBuf;

/// Where and how a session, bench config or recording is malformed.
///
/// `Display` reads `<what> \`path:line:column\` is malformed: <message>`, then the offending
/// line with a caret under the column, then what to do next.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Malformed {
    /// What the file is (`session`, `bench config`, `recording`).
    pub what: &'static str,
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
    /// What was wrong.
    pub message: String,
    /// The offending line with a caret under the column (may be empty).
    pub snippet: String,
    /// What to do next (may be empty).
    pub hint: String,
}

impl Malformed {
    /// A malformed file at `line:column`, quoting that line of `text`.
    pub fn in_text(
        what: &'static str,
        path: impl Into<PathBuf>,
        text: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Malformed {
        let line_text = text.lines().nth(line.saturating_sub(1));
        Malformed::at_line(what, path, line, column, line_text, message, hint)
    }

    /// A malformed file at `line:column`, quoting `line_text` (`None`: no snippet), for
    /// readers that stream and do not hold the whole text.
    pub fn at_line(
        what: &'static str,
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        line_text: Option<&str>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Malformed {
        Malformed {
            what,
            path: path.into(),
            line,
            column,
            message: message.into(),
            snippet: line_text.map_or_else(String::new, |t| snippet(t, line, column)),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}:{}:{}` is malformed: {}",
            self.what,
            self.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        if !self.hint.is_empty() {
            write!(f, "\n{}", self.hint)?;
        }
        Ok(())
    }
}

/// yaml_serde and serde_json append " at line L column C" to their messages; errors print
/// the location themselves, so it is cut off.
pub fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(pos) => message[..pos].to_owned(),
        None => message.to_owned(),
    }
}

/// The offending line with its number and a caret under `column`, rustc style.
fn snippet(content: &str, line: usize, column: usize) -> String {
    let content: String = content
        .trim_end_matches(['\n', '\r'])
        .chars()
        .take(200)
        .collect();
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let caret_pad = " ".repeat(column.saturating_sub(1).min(content.chars().count()));
    format!("{pad} |\n{number} | {content}\n{pad} | {caret_pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_column() {
        let s = snippet("bb: [", 2, 5);
        assert_eq!(s, "  |\n2 | bb: [\n  |     ^");
    }

    #[test]
    fn display_has_location_snippet_and_hint() {
        let m = Malformed::in_text("session", "s.yaml", "a: 1\nb: [", 2, 4, "bad", "fix it");
        assert_eq!(
            m.to_string(),
            "session `s.yaml:2:4` is malformed: bad\n  |\n2 | b: [\n  |    ^\nfix it"
        );
    }

    #[test]
    fn strip_location_cuts_the_suffix() {
        assert_eq!(
            strip_location("expected `,` at line 3 column 7"),
            "expected `,`"
        );
        assert_eq!(strip_location("eof"), "eof");
    }
}
