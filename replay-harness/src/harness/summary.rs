//! The end-of-run summary: on the terminal, and as Markdown for `GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::collect::Tally;

use crate::runtime::describe::plural;

/// The headline: `replay: 12 sessions replayed, 1 regression, 1 orphan, 2 missing`.
fn headline(tally: &Tally) -> String {
    let mut parts = vec![plural(
        tally.replayed,
        "session replayed",
        "sessions replayed",
    )];
    if tally.recorded > 0 {
        parts.push(format!("{} recorded", tally.recorded));
    }
    if !tally.rerecorded.is_empty() {
        parts.push(format!(
            "{} changed by the re-record",
            tally.rerecorded.len()
        ));
    }
    for (n, one, many) in [
        (tally.regressions.len(), "regression", "regressions"),
        (
            tally.snapshots.len(),
            "snapshot changed",
            "snapshots changed",
        ),
        (tally.orphans.len(), "orphan", "orphans"),
        (tally.missing.len(), "missing", "missing"),
        (tally.failures.len(), "other failure", "other failures"),
    ] {
        if n > 0 {
            parts.push(plural(n, one, many));
        }
    }
    format!("replay: {}", parts.join(", "))
}

/// The terminal summary.
pub(crate) fn text(tally: &Tally, ci: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", headline(tally));
    if !tally.regressions.is_empty() {
        let _ = writeln!(
            out,
            "\nregressions: the test no longer does what its cassette recorded (diff above).\nif the change is intended, re-record on the bench:"
        );
        for r in &tally.regressions {
            let _ = writeln!(out, "    {}", r.rerecord);
        }
    }
    if !tally.snapshots.is_empty() {
        let _ = writeln!(out, "\nchanged snapshots (measured outcomes):");
        for s in &tally.snapshots {
            let _ = writeln!(out, "    {}  {}", s.test, s.snapshot);
        }
        let _ = writeln!(out, "review them:\n    cargo insta review");
    }
    if !tally.orphans.is_empty() {
        let _ = writeln!(
            out,
            "\norphaned cassettes: no test records them; delete them, or restore their tests:"
        );
        for o in &tally.orphans {
            let _ = writeln!(out, "    git rm {o}");
        }
    }
    if !tally.missing.is_empty() {
        let state = if ci {
            "failed: CI is set, nothing is recorded implicitly"
        } else {
            "ignored until recorded"
        };
        let _ = writeln!(
            out,
            "\nmissing cassettes ({state}); record them on the bench:"
        );
        let width = tally
            .missing
            .iter()
            .map(|m| m.record.len())
            .max()
            .unwrap_or(0);
        for m in &tally.missing {
            let _ = writeln!(out, "    {:<width$}  # {}", m.record, m.cassette);
        }
        if tally.missing.len() > 1 {
            let _ = writeln!(out, "or all at once:\n    RECORD=missing cargo test");
        }
    }
    if !tally.rerecorded.is_empty() {
        let _ = writeln!(
            out,
            "\nre-recorded cassettes that changed (review before committing):"
        );
        for r in &tally.rerecorded {
            let flag = if r.drifted {
                "  ⚠ drift beyond tolerance"
            } else {
                ""
            };
            let _ = writeln!(out, "    {}: {}{flag}", r.cassette, r.summary);
        }
    }
    if !tally.failures.is_empty() {
        let _ = writeln!(out, "\nother failures (see their messages above):");
        for (test, line) in &tally.failures {
            let _ = writeln!(out, "    {test}: {line}");
        }
    }
    out.trim_end().to_owned()
}

/// The summary as GitHub-flavoured Markdown.
pub(crate) fn markdown(tally: &Tally) -> String {
    let code = |s: &str| format!("`{}`", s.replace('`', "'"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {}\n",
        headline(tally).replacen("replay: ", "replay — ", 1)
    );
    let mut table = Vec::new();
    for r in &tally.regressions {
        table.push((
            "regression",
            code(&r.test),
            format!("re-record if intended: {}", code(&r.rerecord)),
        ));
    }
    for s in &tally.snapshots {
        table.push((
            "snapshot changed",
            code(&s.test),
            format!("{} — `cargo insta review`", code(&s.snapshot)),
        ));
    }
    for o in &tally.orphans {
        table.push((
            "orphan",
            code(o),
            format!("{} or restore its test", code(&format!("git rm {o}"))),
        ));
    }
    for m in &tally.missing {
        table.push((
            "missing",
            code(&m.test),
            format!("record it: {}", code(&m.record)),
        ));
    }
    for r in &tally.rerecorded {
        let what = if r.drifted {
            "re-recorded ⚠ drift"
        } else {
            "re-recorded"
        };
        table.push((what, code(&r.cassette), r.summary.replace('|', "\\|")));
    }
    for (test, line) in &tally.failures {
        table.push(("failed", code(test), line.replace('|', "\\|")));
    }
    if !table.is_empty() {
        let _ = writeln!(out, "| | test / file | what to do |\n|---|---|---|");
        for (what, who, todo) in table {
            let _ = writeln!(out, "| {what} | {who} | {todo} |");
        }
    }
    out
}

/// Appends the Markdown summary to `path` (the file `GITHUB_STEP_SUMMARY` names).
pub(crate) fn append_markdown(path: &Path, tally: &Tally) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{}", markdown(tally))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::collect::{Missing, PendingSnapshot, Regression};

    fn tally() -> Tally {
        Tally {
            replayed: 3,
            regressions: vec![Regression {
                test: "psu::ramp".into(),
                rerecord: "RECORD=1 cargo test --test lab psu::ramp -- --exact".into(),
            }],
            missing: vec![Missing {
                test: "dmm_reads".into(),
                cassette: "sessions/lab/dmm_reads.yaml".into(),
                record: "RECORD=1 cargo test --test lab dmm_reads -- --exact".into(),
            }],
            orphans: vec!["sessions/lab/old.yaml".into()],
            snapshots: vec![PendingSnapshot {
                test: "idn".into(),
                snapshot: "sessions/lab/idn@idn.snap".into(),
            }],
            ..Tally::default()
        }
    }

    #[test]
    fn quiet_when_everything_passed() {
        let t = Tally {
            replayed: 4,
            ..Tally::default()
        };
        assert!(t.is_quiet());
        assert!(!tally().is_quiet());
    }

    #[test]
    fn terminal_summary_says_what_to_do() {
        let out = text(&tally(), false);
        assert!(
            out.starts_with("\nreplay: 3 sessions replayed, 1 regression, 1 snapshot changed, 1 orphan, 1 missing"),
            "{out}"
        );
        assert!(
            out.contains("    RECORD=1 cargo test --test lab psu::ramp -- --exact\n"),
            "{out}"
        );
        assert!(out.contains("    git rm sessions/lab/old.yaml\n"), "{out}");
        assert!(
            out.contains("missing cassettes (ignored until recorded)"),
            "{out}"
        );
        assert!(
            out.contains(
                "RECORD=1 cargo test --test lab dmm_reads -- --exact  # sessions/lab/dmm_reads.yaml"
            ),
            "{out}"
        );
        assert!(out.contains("cargo insta review"), "{out}");
        assert!(text(&tally(), true).contains("failed: CI is set"));
    }

    #[test]
    fn markdown_is_a_table() {
        let md = markdown(&tally());
        assert!(md.starts_with("### replay — 3 sessions replayed"), "{md}");
        assert!(
            md.contains("| | test / file | what to do |\n|---|---|---|\n"),
            "{md}"
        );
        assert!(
            md.contains("| orphan | `sessions/lab/old.yaml` | `git rm sessions/lab/old.yaml` or restore its test |"),
            "{md}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").unwrap();
        append_markdown(&path, &tally()).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with("earlier step\n### replay"), "{written}");
    }
}
