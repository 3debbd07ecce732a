//! `replay diff` options for cassettes (`--tolerance`, `--timestamps`, `--format json`) and
//! `replay textconv`, the git diff driver, run as the real binary (and through real git).

mod cli_support;

use std::process::Command;

use cli_support::*;
use serde_json::Value;

#[test]
fn drift_is_judged_against_the_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    cassette(dir.path(), "old.yaml", "+5.00000000E+00");
    cassette(dir.path(), "new.yaml", "+5.02000000E+00");
    let out = replay(dir.path(), &["diff", "old.yaml", "new.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("cassette diff: 1 response changed (1 drifted beyond 0.1%)"),
        "{text}"
    );
    assert!(
        text.contains("│- query  MEAS:VOLT? (@1)  → +5.00000000E+00"),
        "{text}"
    );
    assert!(
        text.contains(
            "│+ query  MEAS:VOLT? (@1)  → +5.02000000E+00   (drift +0.4% beyond tolerance)"
        ),
        "{text}"
    );
    let out = replay(
        dir.path(),
        &["diff", "old.yaml", "new.yaml", "--tolerance", "0.01"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("cassette diff: 1 response changed (1 drifted within 1%)"),
        "{}",
        stdout(&out)
    );
    let out = replay(
        dir.path(),
        &["diff", "old.yaml", "new.yaml", "--format", "json"],
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let change = &v["instruments"][0]["changes"][0];
    assert_eq!(change["change"], "response_changed");
    assert_eq!(change["drift"]["beyond_tolerance"], true);

    let out = replay(
        dir.path(),
        &["diff", "old.yaml", "new.yaml", "--tolerance", "lots"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected a relative tolerance such as `0.001`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn timestamps_are_ignored_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let old = cassette(dir.path(), "old.yaml", "+5.0E+00");
    let text = std::fs::read_to_string(&old).unwrap();
    std::fs::write(
        dir.path().join("later.yaml"),
        text.replace("timestamp: 0.5", "timestamp: 0.75"),
    )
    .unwrap();
    let out = replay(dir.path(), &["diff", "old.yaml", "later.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("no semantic difference (only timestamps differ)"),
        "{}",
        stdout(&out)
    );
    let out = replay(
        dir.path(),
        &["diff", "old.yaml", "later.yaml", "--timestamps"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("1 timestamp changed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn textconv_prints_one_line_per_interaction() {
    let dir = tempfile::tempdir().unwrap();
    cassette(dir.path(), "c.yaml", "+5.0E+00");
    let out = replay(dir.path(), &["textconv", "c.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "psu (keysight/EDU36311A)\n  1  query  *IDN?  → Keysight Technologies,EDU36311A,CN1,1.0\n  2  write  VOLT 5.0, (@1)\n  3  query  MEAS:VOLT? (@1)  → +5.0E+00\ndmm\n  1  query  READ?  → +1.0E+00\n"
    );
    let out = replay(dir.path(), &["textconv", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The recipe of docs/guide.md ("`git diff` on cassettes (a textconv driver)"):
/// `.gitattributes` + `diff.replay.textconv`.
#[test]
fn git_diff_through_the_textconv_driver_is_semantic() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    git(&["init", "-q"]);
    git(&[
        "config",
        "diff.replay.textconv",
        &format!("{} textconv", env!("CARGO_BIN_EXE_replay")),
    ]);
    std::fs::write(dir.path().join(".gitattributes"), "*.yaml diff=replay\n").unwrap();
    let path = cassette(dir.path(), "c.yaml", "+5.0E+00");
    git(&["add", "."]);
    git(&["commit", "-qm", "recorded"]);

    // A re-record that only moved timestamps: git diff shows nothing.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("timestamp: 0.5", "timestamp: 0.9")).unwrap();
    assert_eq!(git(&["diff", "--no-color"]), "");

    // A drifted reading: one line, the interaction's, changes.
    cassette(dir.path(), "c.yaml", "+5.1E+00");
    let diff = git(&["diff", "--no-color"]);
    assert!(
        diff.contains("-  3  query  MEAS:VOLT? (@1)  → +5.0E+00"),
        "{diff}"
    );
    assert!(
        diff.contains("+  3  query  MEAS:VOLT? (@1)  → +5.1E+00"),
        "{diff}"
    );
    assert!(!diff.contains("timestamp"), "{diff}");
}
