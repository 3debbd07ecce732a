//! Replay reports: mismatches and unused interactions, in insta's layout.

use std::fmt;
use std::path::PathBuf;

use crate::session::{Interaction, InteractionKind};
pub(crate) use replay_support::table::{Row, bold, render_rows, windows};
pub(crate) use replay_support::text::{escape, shorten};

/// How many recorded interactions a report shows before the divergence.
const CONTEXT_BEFORE: usize = 3;
/// How many it shows after.
const CONTEXT_AFTER: usize = 1;
/// The note on the line where a replay first diverged.
const FIRST_DIVERGENCE: &str = "← first divergence";
/// How many skipped (removed?) interactions a report shows before a gap.
const REMOVED_SHOWN: usize = 4;
/// How many unused interactions a report lists per instrument.
const UNUSED_SHOWN: usize = 5;

/// The default re-record advice when the caller did not give a command.
pub(crate) const DEFAULT_RERECORD: &str =
    "RECORD=1 cargo test <test path> -- --exact   (or `Bench::record` with the bench config)";

/// A replay deviation: the test did something other than what the session recorded next.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MismatchReport {
    /// The instrument alias.
    pub alias: String,
    /// The session file.
    pub session: PathBuf,
    /// 1-based position of the interaction the test attempted.
    pub position: usize,
    /// Number of interactions recorded for this instrument.
    pub total: usize,
    /// What the session recorded at `position` (`None`: the test ran past the end).
    pub expected: Option<Interaction>,
    /// What the test did.
    pub actual_kind: InteractionKind,
    /// The command the test sent.
    pub actual_command: String,
    /// Recorded interactions around the divergence: (1-based position, interaction).
    pub context: Vec<(usize, Interaction)>,
    /// Where the recording has the interaction the test made, later in the log (1-based):
    /// the interactions from `position` up to it were not made (removed from the test?).
    pub recorded_later: Option<usize>,
    /// The command that re-records the session.
    pub rerecord: String,
    /// The matching rules in force (`scpi, ignore [SYST:ERR?]`).
    pub rule: String,
    /// Why the rule found the command different (`numbers differ (parameter 1)`), when it
    /// can say.
    pub reason: Option<String>,
}

impl MismatchReport {
    /// Names the rules in force and why they did not match.
    pub(crate) fn set_rule(&mut self, rule: String, reason: Option<String>) {
        self.rule = rule;
        self.reason = reason;
    }

    /// Builds a report for a deviation at 0-based `index` of `log`; `later` is the 0-based
    /// index past `index` where the log has what the test made, if it does.
    #[expect(clippy::too_many_arguments, reason = "one internal constructor")]
    pub(crate) fn new(
        alias: &str,
        session: PathBuf,
        log: &[Interaction],
        index: usize,
        later: Option<usize>,
        actual_kind: InteractionKind,
        actual_command: &str,
        rerecord: &str,
    ) -> MismatchReport {
        let later = later.filter(|&q| q > index && q < log.len());
        let shown: Vec<usize> = match later {
            None => windows([index], log.len(), CONTEXT_BEFORE, CONTEXT_AFTER)
                .pop()
                .unwrap_or_default()
                .collect(),
            // Many skipped interactions: the first few and the last one, with a gap between.
            Some(last) => (index.saturating_sub(CONTEXT_BEFORE)
                ..(last + 1 + CONTEXT_AFTER).min(log.len()))
                .filter(|&i| i < index + REMOVED_SHOWN || i + 1 >= last)
                .collect(),
        };
        MismatchReport {
            alias: alias.to_owned(),
            session,
            position: index + 1,
            total: log.len(),
            expected: log.get(index).cloned(),
            actual_kind,
            actual_command: actual_command.to_owned(),
            context: shown.into_iter().map(|i| (i + 1, log[i].clone())).collect(),
            recorded_later: later.map(|q| q + 1),
            rerecord: rerecord.to_owned(),
            rule: "exact".to_owned(),
            reason: None,
        }
    }

    /// Whether the test ran past the end of the recorded log.
    pub fn past_end(&self) -> bool {
        self.expected.is_none()
    }
}

/// How much of a recorded outcome [`outcome`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    /// One short line for a report table: long text cut with `…`, a block by its size.
    Short,
    /// Everything that tells two outcomes apart (textconv): full text, a block's size and
    /// a hash of its bytes.
    Full,
}

/// How many characters of a response or error message a [`Detail::Short`] outcome shows.
const SHORT_OUTCOME: usize = 48;

/// A one-line rendering of a recorded outcome (response, block or error): the one path
/// every report, diff and textconv line takes, so a recorded error message is escaped
/// like a response everywhere.
pub(crate) fn outcome(i: &Interaction, detail: Detail) -> Option<String> {
    let fit = |text: String| match detail {
        Detail::Short => shorten(&text, SHORT_OUTCOME),
        Detail::Full => text,
    };
    if let Some(err) = &i.error {
        return Some(format!(
            "⚠ {}: {}",
            escape(err.kind.as_str()),
            fit(escape(&err.message))
        ));
    }
    if let Some(bytes) = &i.binary {
        return Some(match detail {
            Detail::Short => format!("‹binary block, {} bytes›", bytes.len()),
            Detail::Full => format!(
                "‹binary block, {} bytes, fnv1a {:016x}›",
                bytes.len(),
                fnv1a(bytes)
            ),
        });
    }
    i.response.as_deref().map(|r| fit(escape(r)))
}

/// 64-bit FNV-1a: a stable, dependency-free fingerprint of a binary payload.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A row showing a recorded interaction.
pub(crate) fn row(old: Option<usize>, new: Option<usize>, sign: char, i: &Interaction) -> Row {
    Row {
        old,
        new,
        sign,
        kind: i.kind.to_string(),
        command: escape(&i.command),
        response: outcome(i, Detail::Short),
        ..Row::default()
    }
}

impl fmt::Display for MismatchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expected {
            Some(_) => writeln!(
                f,
                "replay mismatch on `{}` at interaction #{} of {}",
                self.alias, self.position, self.total
            )?,
            None => writeln!(
                f,
                "replay ran past the end of `{}`'s log: the test made interaction #{}, the session recorded {}",
                self.alias, self.position, self.total
            )?,
        }
        writeln!(f, "  session: {}", self.session.display())?;
        if let Some(later) = self.recorded_later {
            self.fmt_removed(f, later)?;
            writeln!(
                f,
                "the test sent `{}`, which the session recorded at #{later}: was something removed before it?",
                escape(&self.actual_command)
            )?;
            self.fmt_rule(f)?;
            let skipped = later - self.position;
            writeln!(
                f,
                "{} recorded from #{} on {} not made (`-` lines); if {} removed from the test on purpose,",
                if skipped == 1 {
                    "the interaction"
                } else {
                    "the interactions"
                },
                self.position,
                if skipped == 1 { "was" } else { "were" },
                if skipped == 1 { "it was" } else { "they were" },
            )?;
            writeln!(f, "re-record it on the bench:")?;
            return write!(f, "    {}", self.rerecord);
        }
        let mut rows = Vec::new();
        for (pos, i) in &self.context {
            match (*pos).cmp(&self.position) {
                std::cmp::Ordering::Less => rows.push(row(Some(*pos), Some(*pos), ' ', i)),
                std::cmp::Ordering::Equal => {
                    let mut recorded = row(Some(*pos), None, '-', i);
                    recorded.note = Some(FIRST_DIVERGENCE.to_owned());
                    rows.push(recorded);
                    rows.push(self.actual_row());
                }
                std::cmp::Ordering::Greater => rows.push(row(Some(*pos), None, ' ', i)),
            }
        }
        if self.expected.is_none() {
            let mut actual = self.actual_row();
            actual.note = Some(FIRST_DIVERGENCE.to_owned());
            rows.push(actual);
        }
        render_rows(f, &rows, false)?;
        let actual = escape(&self.actual_command);
        match &self.expected {
            Some(exp) if exp.kind != self.actual_kind && exp.command == self.actual_command => {
                writeln!(
                    f,
                    "the test made a {} of `{actual}` where the session recorded a {}",
                    self.actual_kind, exp.kind
                )?
            }
            Some(exp) if exp.kind != self.actual_kind => writeln!(
                f,
                "the test made a {} of `{actual}` where the session recorded a {} of `{}`",
                self.actual_kind,
                exp.kind,
                escape(&exp.command)
            )?,
            Some(exp) => writeln!(
                f,
                "the test sent `{actual}` where the session recorded `{}` (a changed command, or one inserted before it)",
                escape(&exp.command)
            )?,
            None => writeln!(
                f,
                "the test sent `{actual}` after the last recorded interaction of `{}`",
                self.alias
            )?,
        }
        self.fmt_rule(f)?;
        writeln!(f, "to accept the new behaviour, re-record it on the bench:")?;
        write!(f, "    {}", self.rerecord)
    }
}

impl MismatchReport {
    /// The body when the test skipped recorded interactions: they are `-` lines, the one it
    /// made lines up with its recording at `later` (1-based).
    /// The matching rule in force, and why it found the command different when it can say.
    fn fmt_rule(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.reason, &self.expected) {
            (Some(reason), Some(exp)) if exp.kind == self.actual_kind => writeln!(
                f,
                "matching rule `{}`: `{}` vs recorded `{}`: {reason}",
                self.rule,
                escape(&self.actual_command),
                escape(&exp.command)
            ),
            (Some(reason), _) => writeln!(f, "matching rule `{}`: {reason}", self.rule),
            (None, _) => writeln!(f, "matching rule `{}`", self.rule),
        }
    }

    fn fmt_removed(&self, f: &mut fmt::Formatter<'_>, later: usize) -> fmt::Result {
        // Recorded position → position in the test: shifted by what was skipped.
        let skipped = later - self.position;
        let mut rows = Vec::new();
        let mut previous: Option<usize> = None;
        for (pos, i) in &self.context {
            if previous.is_some_and(|p| p + 1 != *pos) {
                rows.push(Row::gap());
            }
            previous = Some(*pos);
            let row = match (*pos).cmp(&self.position) {
                std::cmp::Ordering::Less => row(Some(*pos), Some(*pos), ' ', i),
                _ if *pos < later => {
                    let mut removed = row(Some(*pos), None, '-', i);
                    if *pos == self.position {
                        removed.note = Some(FIRST_DIVERGENCE.to_owned());
                    }
                    removed
                }
                std::cmp::Ordering::Equal | std::cmp::Ordering::Greater if *pos == later => {
                    let mut sent = row(Some(*pos), Some(self.position), ' ', i);
                    sent.note = Some(format!("← sent by the test as #{}", self.position));
                    sent
                }
                _ => row(Some(*pos), Some(*pos - skipped), ' ', i),
            };
            rows.push(row);
        }
        render_rows(f, &rows, false)
    }

    fn actual_row(&self) -> Row {
        Row {
            old: None,
            new: Some(self.position),
            sign: '+',
            kind: self.actual_kind.to_string(),
            command: escape(&self.actual_command),
            ..Row::default()
        }
    }
}

/// Recorded interactions that a finished replay never reached.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UnusedReport {
    /// The session file.
    pub session: PathBuf,
    /// Per instrument: alias, total recorded, and the unused interactions (1-based position).
    pub instruments: Vec<UnusedInstrument>,
    /// The command that re-records the session.
    pub rerecord: String,
}

/// The unused tail of one instrument's log.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UnusedInstrument {
    /// The alias.
    pub alias: String,
    /// Interactions recorded.
    pub total: usize,
    /// Interactions replayed.
    pub used: usize,
    /// The first few unused interactions: (1-based position, interaction).
    pub first: Vec<(usize, Interaction)>,
}

impl UnusedInstrument {
    /// The unused interactions at 0-based `positions` (sorted) of `log`.
    pub(crate) fn at(alias: &str, log: &[Interaction], positions: &[usize]) -> UnusedInstrument {
        UnusedInstrument {
            alias: alias.to_owned(),
            total: log.len(),
            used: log.len() - positions.len(),
            first: positions
                .iter()
                .take(UNUSED_SHOWN)
                .map(|&i| (i + 1, log[i].clone()))
                .collect(),
        }
    }

    #[cfg(test)]
    pub(crate) fn new(alias: &str, log: &[Interaction], used: usize) -> UnusedInstrument {
        UnusedInstrument {
            alias: alias.to_owned(),
            total: log.len(),
            used,
            first: log[used..]
                .iter()
                .take(UNUSED_SHOWN)
                .enumerate()
                .map(|(k, i)| (used + k + 1, i.clone()))
                .collect(),
        }
    }
}

impl fmt::Display for UnusedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unused: usize = self.instruments.iter().map(|i| i.total - i.used).sum();
        writeln!(
            f,
            "{unused} recorded interaction{} never replayed",
            if unused == 1 { " was" } else { "s were" }
        )?;
        writeln!(f, "  session: {}", self.session.display())?;
        let mut rows = Vec::new();
        let mut tails = Vec::new();
        for inst in &self.instruments {
            for (pos, i) in &inst.first {
                let mut r = row(Some(*pos), None, '-', i);
                r.kind = format!("{} {}", inst.alias, r.kind);
                rows.push(r);
            }
            let left = inst.total - inst.used - inst.first.len();
            if left > 0 {
                tails.push(format!("… and {left} more on `{}`", inst.alias));
            }
        }
        render_rows(f, &rows, false)?;
        for tail in tails {
            writeln!(f, "{tail}")?;
        }
        let summary: Vec<String> = self
            .instruments
            .iter()
            .map(|i| format!("`{}` stopped at #{} of {}", i.alias, i.used, i.total))
            .collect();
        writeln!(f, "the test ended early: {}", summary.join(", "))?;
        writeln!(f, "if it no longer does these, re-record it on the bench:")?;
        write!(f, "    {}", self.rerecord)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(kind: InteractionKind, cmd: &str, resp: Option<&str>) -> Interaction {
        Interaction {
            kind,
            command: cmd.into(),
            response: resp.map(Into::into),
            binary: None,
            error: None,
            timestamp: 0.0,
        }
    }

    fn log() -> Vec<Interaction> {
        use InteractionKind::*;
        vec![
            i(
                Query,
                "*IDN?",
                Some("Keysight Technologies,EDU36311A,CN61130056,K-01.08.03"),
            ),
            i(Write, "OUTP ON, (@1)", None),
            i(Write, "VOLT 5.0, (@1)", None),
            i(Query, "MEAS:VOLT? (@1)", Some("+4.99918100E+00")),
            i(Write, "OUTP OFF", None),
        ]
    }

    #[test]
    fn mismatch_layout() {
        let r = MismatchReport::new(
            "psu",
            "sessions/bench/x.yaml".into(),
            &log(),
            2,
            None,
            InteractionKind::Write,
            "VOLT 3.0, (@1)",
            "RECORD=1 cargo test --test bench x",
        );
        let text = r.to_string();
        let expected = "\
replay mismatch on `psu` at interaction #3 of 5
  session: sessions/bench/x.yaml
─────────┬────────────────────────────────────────────────────────────────────────────
   1   1 │  query  *IDN?            → Keysight Technologies,EDU36311A,CN61130056,K-01…
   2   2 │  write  OUTP ON, (@1)
   3     │- write  VOLT 5.0, (@1)   ← first divergence
       3 │+ write  VOLT 3.0, (@1)
   4     │  query  MEAS:VOLT? (@1)  → +4.99918100E+00
─────────┴────────────────────────────────────────────────────────────────────────────
the test sent `VOLT 3.0, (@1)` where the session recorded `VOLT 5.0, (@1)` (a changed command, or one inserted before it)
matching rule `exact`
to accept the new behaviour, re-record it on the bench:
    RECORD=1 cargo test --test bench x";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_removed_command_is_a_minus_line_and_the_sent_one_lines_up() {
        // The test no longer sends `VOLT 5.0, (@1)` (#3): it sends `MEAS:VOLT? (@1)`, which
        // the session recorded at #4.
        let r = MismatchReport::new(
            "psu",
            "sessions/bench/x.yaml".into(),
            &log(),
            2,
            Some(3),
            InteractionKind::Query,
            "MEAS:VOLT? (@1)",
            "RECORD=1 cargo test --test bench x",
        );
        let text = r.to_string();
        let expected = "\
replay mismatch on `psu` at interaction #3 of 5
  session: sessions/bench/x.yaml
─────────┬────────────────────────────────────────────────────────────────────────────
   1   1 │  query  *IDN?            → Keysight Technologies,EDU36311A,CN61130056,K-01…
   2   2 │  write  OUTP ON, (@1)
   3     │- write  VOLT 5.0, (@1)   ← first divergence
   4   3 │  query  MEAS:VOLT? (@1)  → +4.99918100E+00   ← sent by the test as #3
   5   4 │  write  OUTP OFF
─────────┴────────────────────────────────────────────────────────────────────────────
the test sent `MEAS:VOLT? (@1)`, which the session recorded at #4: was something removed before it?
matching rule `exact`
the interaction recorded from #3 on was not made (`-` lines); if it was removed from the test on purpose,
re-record it on the bench:
    RECORD=1 cargo test --test bench x";
        assert_eq!(text, expected);
        assert_eq!(r.recorded_later, Some(4));
    }

    #[test]
    fn many_removed_commands_are_shortened_with_a_gap() {
        let mut log = log();
        for n in 0..10 {
            log.insert(2, i(InteractionKind::Write, &format!("STEP {n}"), None));
        }
        let r = MismatchReport::new(
            "psu",
            "s.yaml".into(),
            &log,
            2,
            Some(13),
            InteractionKind::Query,
            "MEAS:VOLT? (@1)",
            "x",
        );
        let text = r.to_string();
        assert!(text.contains("recorded at #14"), "{text}");
        assert_eq!(text.matches("│- ").count(), 5, "{text}");
        assert!(text.contains("  14   3 │  query  MEAS:VOLT?"), "{text}");
    }

    #[test]
    fn type_mismatch_names_both_kinds() {
        let r = MismatchReport::new(
            "psu",
            "s.yaml".into(),
            &log(),
            1,
            None,
            InteractionKind::Query,
            "OUTP ON, (@1)",
            "x",
        );
        assert!(r.to_string().contains(
            "the test made a query of `OUTP ON, (@1)` where the session recorded a write"
        ));
    }

    #[test]
    fn past_end_layout() {
        let r = MismatchReport::new(
            "psu",
            "s.yaml".into(),
            &log(),
            5,
            None,
            InteractionKind::Query,
            "SYST:ERR?",
            "x",
        );
        let text = r.to_string();
        assert!(text.starts_with("replay ran past the end of `psu`'s log: the test made interaction #6, the session recorded 5"), "{text}");
        assert!(
            text.contains("       6 │+ query  SYST:ERR?   ← first divergence"),
            "{text}"
        );
        assert!(text.contains("   5   5 │  write  OUTP OFF"), "{text}");
    }

    #[test]
    fn unused_lists_first_few() {
        let r = UnusedReport {
            session: "s.yaml".into(),
            instruments: vec![UnusedInstrument::new("psu", &log(), 3)],
            rerecord: "RECORD=1 cargo test x".into(),
        };
        let text = r.to_string();
        assert!(
            text.starts_with("2 recorded interactions were never replayed"),
            "{text}"
        );
        assert!(
            text.contains("   4     │- psu query  MEAS:VOLT? (@1)"),
            "{text}"
        );
        assert!(text.contains("`psu` stopped at #3 of 5"), "{text}");
    }

    #[test]
    fn escape_shows_controls_doubles_backslashes_and_keeps_quotes() {
        assert_eq!(escape("a\nb\tc\r\u{1b}"), "a\\nb\\tc\\r\\u{1b}");
        // A literal backslash-n is not shown like a newline.
        assert_eq!(escape("a\\nb"), "a\\\\nb");
        assert_ne!(escape("a\\nb"), escape("a\nb"));
        assert_eq!(
            escape("\"Undefined header\" it's"),
            "\"Undefined header\" it's"
        );
    }

    #[test]
    fn a_recorded_error_message_is_escaped_in_reports_as_in_textconv() {
        let mut hang = i(InteractionKind::Query, "MEAS:VOLT?", None);
        hang.error = Some(crate::session::RecordedError::new(
            crate::session::RecordedErrorKind::Io,
            "reset\n\u{1b}[31mby peer",
        ));
        let log = vec![hang];
        let report = MismatchReport::new(
            "psu",
            "s.yaml".into(),
            &log,
            0,
            None,
            InteractionKind::Query,
            "MEAS:CURR?",
            "x",
        )
        .to_string();
        let unused = UnusedReport {
            session: "s.yaml".into(),
            instruments: vec![UnusedInstrument::new("psu", &log, 0)],
            rerecord: "x".into(),
        }
        .to_string();
        let session = crate::session::Session {
            instruments: vec![(
                "psu".into(),
                crate::session::InstrumentLog::new(None, log.clone()),
            )],
        };
        let textconv = crate::diff::session_text(&session);
        for text in [&report, &unused, &textconv] {
            assert!(!text.contains('\u{1b}'), "{text}");
            assert!(text.contains("⚠ io: reset\\n\\u{1b}[31mby peer"), "{text}");
        }
        // Every table line of the report stays one line.
        assert_eq!(report.lines().filter(|l| l.contains("by peer")).count(), 1);
    }

    #[test]
    fn shorten_cuts_with_an_ellipsis_and_never_panics() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abcd", 4), "abcd");
        assert_eq!(shorten("é—ü", 2), "é…");
        assert_eq!(shorten("abc", 1), "…");
        assert_eq!(shorten("abc", 0), "");
    }
}
