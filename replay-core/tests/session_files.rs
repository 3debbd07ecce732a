//! Session files: PyTestLab compatibility, the writer's stability, atomic writes and errors.

use std::path::PathBuf;

use replay_core::session::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, Session, parse_session,
    read_session, render_session, write_session,
};
use replay_core::{Bench, Error};

fn sessions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sessions/pytestlab")
}

fn interaction(
    kind: InteractionKind,
    command: &str,
    response: Option<&str>,
    t: f64,
) -> Interaction {
    let mut interaction = Interaction::new(kind, command, t);
    interaction.response = response.map(Into::into);
    interaction
}

fn sample() -> Session {
    let payload: Vec<u8> = (0..=255u8).collect();
    let block = replay_core::transport::encode_block(&payload);
    let mut raw = interaction(InteractionKind::QueryRaw, ":WAV:DATA?", None, 0.5);
    raw.response = Some(String::from_utf8_lossy(&block).into_owned());
    raw.binary = Some(block);
    let mut hang = interaction(InteractionKind::Query, "SYST:HANG?", None, 0.75);
    hang.error = Some(RecordedError::timed_out(std::time::Duration::from_millis(
        500,
    )));
    Session::new(vec![
        (
            "psu".into(),
            InstrumentLog::new(
                Some("keysight/EDU36311A".into()),
                vec![
                    interaction(
                        InteractionKind::Query,
                        "*IDN?",
                        Some("Keysight Technologies,EDU36311A,CN61130056,K-01.08.03"),
                        0.029241,
                    ),
                    interaction(InteractionKind::Write, "VOLT 5.0, (@1)", None, 0.713654),
                    interaction(
                        InteractionKind::Query,
                        "MEAS:VOLT? (@1)",
                        Some("+4.99918100E+00"),
                        1.614894,
                    ),
                    interaction(
                        InteractionKind::Query,
                        ":SYSTem:ERRor?",
                        Some("+0,\"No error\""),
                        1.7,
                    ),
                    interaction(
                        InteractionKind::Query,
                        "MEAS:CURR? (@1)",
                        Some("0.050028"),
                        1.8,
                    ),
                ],
            ),
        ),
        ("scope".into(), InstrumentLog::new(None, vec![raw, hang])),
    ])
}

#[test]
fn pytestlab_session_reads_as_written() {
    let session = read_session(sessions_dir().join("psu_session.yaml")).unwrap();
    let psu = session.instrument("psu").unwrap();
    assert_eq!(psu.profile.as_deref(), Some("keysight/EDU36311A"));
    assert_eq!(psu.log.len(), 14);
    assert_eq!(psu.log[1].command, ":SYSTem:ERRor?");
    assert_eq!(psu.log[1].response.as_deref(), Some("+0,\"No error\""));
    assert_eq!(
        psu.log[8].response.as_deref(),
        Some("1.499663"),
        "quoted numbers stay text"
    );
    assert_eq!(psu.log[0].timestamp, 0.0011925800000085474);
}

#[tokio::test]
async fn pytestlab_query_raw_returns_its_string_bytes() {
    let bench = Bench::replay(sessions_dir().join("scope_dmm_session.yaml"))
        .await
        .unwrap();
    let scope = bench.instrument("scope").unwrap();
    scope.query("*IDN?").await.unwrap();
    scope.write(":TIMebase:SCALe 0.001").await.unwrap();
    scope.write(":WAVeform:FORMat BYTE").await.unwrap();
    let raw = scope.query_binary(":WAVeform:DATA?").await.unwrap();
    assert_eq!(
        raw, b"#240 !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFG",
        "header included, as PyTestLab does"
    );
    assert_eq!(scope.query("MEAS:VPP? CHAN1").await.unwrap(), "+280E-03");
    let dmm = bench.instrument("dmm").unwrap();
    dmm.query("*IDN?").await.unwrap();
    dmm.write("CONF:VOLT:DC 10").await.unwrap();
    assert_eq!(dmm.query("READ?").await.unwrap(), "+4.99931870E+00");
    bench.finish().await.unwrap();
}

#[test]
fn writer_output_is_stable_and_pytestlab_shaped() {
    let text = render_session(&sample());
    assert_eq!(text, render_session(&sample()), "same session, same bytes");
    let expected_start = "\
psu:
  profile: keysight/EDU36311A
  log:
  - type: query
    command: '*IDN?'
    response: Keysight Technologies,EDU36311A,CN61130056,K-01.08.03
    timestamp: 0.029241
  - type: write
    command: VOLT 5.0, (@1)
    timestamp: 0.713654
";
    assert!(text.starts_with(expected_start), "{text}");
    assert!(
        text.contains("    response: '+4.99918100E+00'\n")
            || text.contains("    response: +4.99918100E+00\n"),
        "{text}"
    );
    assert!(text.contains("    response_base64: "), "{text}");
    assert!(
        text.contains("    error: timeout\n    error_message: no answer within 0.5 s\n"),
        "{text}"
    );
    let back = parse_session("x.yaml", &text).unwrap();
    assert_eq!(back, sample(), "round trip, binary byte-exact");
}

#[cfg(unix)]
#[test]
fn identical_file_is_not_rewritten_and_writes_are_atomic() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/s.yaml");
    write_session(&path, &sample()).unwrap();
    let inode = |p: &std::path::Path| std::fs::metadata(p).unwrap().ino();
    let first = inode(&path);
    // Same bytes: the file is left alone, not replaced by a rename.
    write_session(&path, &sample()).unwrap();
    assert_eq!(inode(&path), first);
    // Other bytes: a new file is renamed into place (atomic), not the old one rewritten.
    std::fs::write(&path, "{}\n").unwrap();
    write_session(&path, &sample()).unwrap();
    assert_ne!(inode(&path), first);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["s.yaml"]);
}

#[test]
fn malformed_sessions_point_at_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "psu:\n  log:\n  - type: query\n    command: [unclosed\n",
            ":4:",
            "command: [unclosed",
        ),
        (
            "psu:\n  log:\n  - type: query\n    command: '*IDN?'\n    timestamp: soon\n",
            ":5:",
            "timestamp: soon",
        ),
        (
            "psu:\n  log:\n  - command: '*IDN?'\n",
            ":3:",
            "missing field `type`",
        ),
        (
            "psu:\n  log:\n  - type: query_raw\n    command: X\n    response_base64: '!!!'\n",
            ":5:",
            "not valid base64",
        ),
        ("- just\n- a list\n", ":1:", "instrument alias"),
        ("", ":1:1", "empty"),
    ];
    for (text, position, needle) in cases {
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, text).unwrap();
        let err = read_session(&path).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("session `{}", path.display())),
            "{msg}"
        );
        assert!(msg.contains(position), "{position} in {msg}");
        assert!(msg.contains(needle), "{needle} in {msg}");
        assert!(msg.contains("re-record it on the bench"), "{msg}");
    }
    let path = dir.path().join("binary.yaml");
    std::fs::write(&path, b"psu:\n  log: \xff\xfe\n").unwrap();
    let msg = read_session(&path).unwrap_err().to_string();
    assert!(msg.contains("binary.yaml:2:8"), "{msg}");
    assert!(msg.contains("not valid UTF-8"), "{msg}");
}

#[tokio::test]
async fn missing_session_says_how_to_record() {
    let err = Bench::replay("does/not/exist.yaml")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("session `does/not/exist.yaml` does not exist"),
        "{err}"
    );
    assert!(err.contains("RECORD=1"), "{err}");
}

/// The mode `File::create` gives a new file here (0o666 less the umask; 0o644 usually).
#[cfg(unix)]
fn mode_of_a_new_file(dir: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    let probe = dir.join("probe");
    std::fs::File::create(&probe).unwrap();
    let mode = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    std::fs::remove_file(probe).unwrap();
    mode
}

#[cfg(unix)]
#[test]
fn written_files_get_normal_permissions_and_keep_existing_ones() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let expected = mode_of_a_new_file(dir.path());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    let new = dir.path().join("new.yaml");
    write_session(&new, &sample()).unwrap();
    assert_eq!(mode(&new), expected, "not the temp file's owner-only 0o600");

    let existing = dir.path().join("existing.yaml");
    std::fs::write(&existing, "{}\n").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_session(&existing, &sample()).unwrap();
    assert_ne!(std::fs::read_to_string(&existing).unwrap(), "{}\n");
    assert_eq!(mode(&existing), 0o640);
}
