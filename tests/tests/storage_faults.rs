//! Storage that fails under the writer: a full disk (simulated with `RLIMIT_FSIZE`, so a
//! write fails with "File too large" exactly where ENOSPC would) and a read-only sessions
//! directory (the writer runs as `nobody`: root ignores permissions). Both give a clear error
//! naming the cassette, and lose nothing: the previous cassette stays byte for byte, no temp
//! file is left.
//!
//! The writers are this test binary started again with `REPLAY_STORAGE_CHILD` set.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

use replay_harness::session::{InteractionKind, Session, read_session, write_session};

const CHILD_VAR: &str = "REPLAY_STORAGE_CHILD";

const PREVIOUS: &str = "psu:\n  log:\n  - type: query\n    command: '*IDN?'\n    response: previous\n    timestamp: 0.0\n";

fn big_session() -> Session {
    let mut session = read_session_text(PREVIOUS);
    let log = &mut session.instruments[0].1.log;
    for i in 0..20_000 {
        let mut interaction = log[0].clone();
        interaction.kind = InteractionKind::Write;
        interaction.command = format!("VOLT {i}.0, (@1)");
        interaction.response = None;
        log.push(interaction);
    }
    session
}

fn read_session_text(text: &str) -> Session {
    replay_harness::session::parse_session("previous.yaml", text).unwrap()
}

/// The writer: writes a big cassette over the one at `REPLAY_STORAGE_CHILD` and prints the
/// error, if any, as the last line.
#[test]
fn child() {
    let Ok(path) = std::env::var(CHILD_VAR) else {
        return;
    };
    match write_session(&path, &big_session()) {
        Ok(()) => println!("RESULT ok"),
        Err(e) => println!("RESULT {e:?}"),
    }
}

fn run_child(prefix: &[&str], path: &Path) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(prefix[0]);
    command
        .args(&prefix[1..])
        .arg(exe)
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, path);
    let output = command.output().expect("the writer starts");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn prepare() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let path = sessions.join("kept.yaml");
    std::fs::write(&path, PREVIOUS).unwrap();
    (dir, path)
}

fn assert_nothing_lost(path: &Path) {
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        PREVIOUS,
        "the previous cassette is kept"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "kept.yaml")
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "nothing left behind: {leftovers:?}");
}

#[test]
fn full_disk_is_a_clear_error_and_loses_nothing() {
    let (_dir, path) = prepare();
    // 64 KiB of file size allowed; the cassette is larger. SIGXFSZ ignored, so the write
    // fails with EFBIG instead of killing the writer.
    let shell = "trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"";
    let out = run_child(&["bash", "-c", shell], &path);
    let result = out
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(result.contains("failed to write session"), "{result}");
    assert!(result.contains("kept.yaml"), "names the cassette: {result}");
    assert!(out.contains("caused by:"), "{out}");
    assert!(out.contains("File too large"), "{out}");
    assert_nothing_lost(&path);
}

#[test]
fn read_only_sessions_directory_is_a_clear_error_and_loses_nothing() {
    let (dir, path) = prepare();
    use std::os::unix::fs::PermissionsExt as _;
    let sessions = path.parent().unwrap();
    std::fs::set_permissions(sessions, std::fs::Permissions::from_mode(0o555)).unwrap();
    // The temp dir itself must be reachable by `nobody`.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = if nix_is_root() {
        run_child(
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            &path,
        )
    } else {
        run_child(&["env"], &path)
    };
    std::fs::set_permissions(sessions, std::fs::Permissions::from_mode(0o755)).unwrap();
    let result = out
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(result.contains("failed to write session"), "{result}");
    assert!(out.contains("Permission denied"), "{out}");
    assert_nothing_lost(&path);
    // And the same cassette is still readable.
    assert_eq!(read_session(&path).unwrap().len(), 1);
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
