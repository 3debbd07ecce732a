//! The end-of-run summary: on the terminal, and as Markdown for `GITHUB_STEP_SUMMARY`.
//!
//! # One GitHub step summary per run
//!
//! A run is one `cargo test` (several test binaries, one after another) or one
//! `cargo nextest run` (one process per test). No single process sees the whole run, so
//! each one adds what it saw to a ledger shared by the run and rewrites the run's section
//! of the summary file from the ledger:
//!
//! - the run's key is nextest's `NEXTEST_RUN_ID`, else the parent process id (the `cargo`
//!   that runs the test binaries);
//! - the ledger is a text file in the temporary directory, named after the summary file
//!   and the key; a process appends one entry (its tally, a line per record) under an
//!   exclusive file lock;
//! - the section starts with a marker line `<!-- replay run KEY -->`; everything from the
//!   marker on is replaced, everything before it (earlier steps' output) is kept.
//!
//! GitHub reads the file when the step ends, so it shows the last rewrite: one summary,
//! with the totals of every process of the run, also when everything passed.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

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
    if tally.unchanged > 0 {
        parts.push(format!(
            "{} re-recorded unchanged (file kept)",
            tally.unchanged
        ));
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
    let clean = tally.regressions.is_empty()
        && tally.snapshots.is_empty()
        && tally.orphans.is_empty()
        && tally.missing.is_empty()
        && tally.failures.is_empty();
    if clean && tally.recorded == 0 && tally.replayed > 0 {
        parts.push("all matching".to_owned());
    }
    format!("replay: {}", parts.join(", "))
}

/// The terminal summary.
#[cfg(feature = "custom-harness")]
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
            "failed until recorded"
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
    if tally.waited > 0 {
        let _ = writeln!(
            out,
            "\n{} waited for the bench while another test recorded on it (recordings on one bench never overlap)",
            plural(tally.waited, "recording", "recordings")
        );
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

/// The run this process belongs to: `NEXTEST_RUN_ID`, else the parent process (`cargo`).
pub(crate) fn run_key() -> String {
    if let Some(id) = std::env::var("NEXTEST_RUN_ID")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return format!("nextest-{id}");
    }
    #[cfg(unix)]
    let parent = std::os::unix::process::parent_id();
    #[cfg(not(unix))]
    let parent = std::process::id();
    format!("cargo-{parent}")
}

/// Adds `tally` to the run's ledger and rewrites the run's section of `GITHUB_STEP_SUMMARY`
/// when it is set; a failure is a warning on stderr (a summary never fails a test).
pub(crate) fn publish_to_github(tally: &Tally) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let path = PathBuf::from(path);
    if let Err(e) = publish(&path, &run_key(), tally) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "warning: could not write the replay summary to `GITHUB_STEP_SUMMARY` ({}): {e}",
            path.display()
        );
    }
}

/// The ledger of the run `key` writing to the summary file `summary`.
fn ledger_path(summary: &Path, key: &str) -> PathBuf {
    let summary = std::path::absolute(summary).unwrap_or_else(|_| summary.to_owned());
    let hash = super::lock::fnv1a(&format!("{}\n{key}", summary.display()));
    std::env::temp_dir().join(format!("replay-summary-{hash:016x}.ledger"))
}

/// See the module documentation.
pub(crate) fn publish(summary: &Path, key: &str, tally: &Tally) -> std::io::Result<()> {
    let mut ledger = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(ledger_path(summary, key))?;
    ledger.lock()?;
    ledger.write_all(tally.to_ledger().as_bytes())?;
    ledger.rewind()?;
    let mut text = String::new();
    ledger.read_to_string(&mut text)?;
    let mut total = Tally::default();
    for other in Tally::from_ledger(&text) {
        total.merge(other);
    }
    let marker = format!("<!-- replay run {key} -->");
    let before = match std::fs::read_to_string(summary) {
        Ok(existing) => match existing.find(&marker) {
            Some(at) => existing[..at].to_owned(),
            None => existing,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut out = before;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&marker);
    out.push('\n');
    out.push_str(&markdown(&total));
    // Under the ledger's lock: no other process of the run writes meanwhile.
    std::fs::write(summary, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::collect::{Missing, PendingSnapshot, Regression};

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
    fn ledger_entries_round_trip_and_unreadable_ones_are_skipped() {
        let mut awkward = tally();
        awkward.recorded = 2;
        awkward.unchanged = 1;
        awkward.waited = 4;
        awkward.rerecorded = vec![crate::runtime::collect::Rerecorded {
            cassette: "sessions/lab/a\tb.yaml".into(),
            summary: "1 interaction changed".into(),
            drifted: true,
        }];
        awkward.failures = vec![
            ("a".into(), "tally 1".into()),
            ("b".into(), "line\ntally 1\n\\t not a tab\r".into()),
        ];
        let mut ledger = awkward.to_ledger();
        ledger.push_str("tally 2\ncounts\t1\t1\t1\t1\nfuture\tx\n");
        ledger.push_str(&tally().to_ledger());
        ledger.push_str("tally 1\ncounts\t1\t1\t1\t1\norphan\tbad\\escape\n");
        ledger.push_str("tally 1\ncounts\t1\t1\t1\n");
        let read = Tally::from_ledger(&ledger);
        assert_eq!(read, [awkward, tally()], "{ledger}");
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
            out.contains("missing cassettes (failed until recorded)"),
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
    }

    #[test]
    fn one_github_summary_per_run_whatever_the_processes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").unwrap();
        let key = format!("test-{}", std::process::id());
        // Three processes of one run (nextest: one per test), each with its own tally.
        let passed = Tally {
            replayed: 2,
            ..Tally::default()
        };
        publish(&path, &key, &passed).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(
            first.starts_with(&format!(
                "earlier step\n<!-- replay run {key} -->\n### replay — 2 sessions replayed, all matching\n"
            )),
            "{first}"
        );
        publish(&path, &key, &passed).unwrap();
        publish(&path, &key, &tally()).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written.matches("### replay").count(), 1, "{written}");
        assert!(
            written.contains("### replay — 7 sessions replayed, 1 regression"),
            "{written}"
        );
        assert!(written.starts_with("earlier step\n"), "{written}");
        // Another run (another key) gets its own summary below.
        publish(&path, &format!("{key}-2"), &passed).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written.matches("### replay").count(), 2, "{written}");
        let _ = std::fs::remove_file(ledger_path(&path, &key));
        let _ = std::fs::remove_file(ledger_path(&path, &format!("{key}-2")));
    }
}
