//! A cassette as plain lines for `git diff` (a textconv filter): one line per interaction,
//! timestamps left out, so a re-record that only moved timestamps shows no change.

use std::fmt::Write as _;

use crate::report::{Detail, escape, outcome};
use crate::session::Session;

/// Renders `session` as one line per interaction, without timestamps.
///
/// ```text
/// psu (keysight/EDU36311A)
///     1  query      *IDN?  → Keysight Technologies,EDU36311A,CN61130056,K-01.08.03
///     2  write      VOLT 5.0, (@1)
///     3  query_raw  :WAV:DATA?  → ‹binary block, 1010 bytes, fnv1a 5d3f0c6a9e1b2c47›
/// ```
///
/// Responses are shown in full (control characters escaped); a binary block by its size
/// and a hash of its bytes, so a changed byte changes the line.
pub fn session_text(session: &Session) -> String {
    let mut out = String::new();
    for (alias, log) in &session.instruments {
        match &log.profile {
            Some(profile) => {
                let _ = writeln!(out, "{alias} ({profile})");
            }
            None => {
                let _ = writeln!(out, "{alias}");
            }
        }
        let kind_width = log
            .log
            .iter()
            .map(|i| i.kind.as_str().chars().count())
            .max()
            .unwrap_or(0);
        let num_width = log.log.len().to_string().len();
        for (k, i) in log.log.iter().enumerate() {
            let mut line = format!(
                "  {:>num_width$}  {:<kind_width$}  {}",
                k + 1,
                i.kind.as_str(),
                escape(&i.command)
            );
            if let Some(outcome) = outcome(i, Detail::Full) {
                line.push_str("  → ");
                line.push_str(&outcome);
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::parse_session;

    const CASSETTE: &str = "psu:\n  profile: keysight/EDU36311A\n  log:\n  - type: query\n    command: '*IDN?'\n    response: Keysight\n    timestamp: 0.1\n  - type: write\n    command: VOLT 5.0, (@1)\n    timestamp: 0.2\n";

    #[test]
    fn one_line_per_interaction_without_timestamps() {
        let session = parse_session("a.yaml", CASSETTE).unwrap();
        assert_eq!(
            session_text(&session),
            "psu (keysight/EDU36311A)\n  1  query  *IDN?  → Keysight\n  2  write  VOLT 5.0, (@1)\n"
        );
        let later = parse_session("b.yaml", &CASSETTE.replace("0.2", "0.9")).unwrap();
        assert_eq!(session_text(&session), session_text(&later));
    }

    #[test]
    fn binary_blocks_change_their_line_when_a_byte_changes() {
        let mut session = parse_session("a.yaml", CASSETTE).unwrap();
        session.instruments[0].1.log[0].binary = Some(b"#13abc".to_vec());
        let before = session_text(&session);
        session.instruments[0].1.log[0].binary = Some(b"#13abd".to_vec());
        let after = session_text(&session);
        assert!(
            before.contains("‹binary block, 6 bytes, fnv1a "),
            "{before}"
        );
        assert_ne!(before, after);
    }
}
