//! The `sim:<file.yaml>#<resource>` bench address: recording against a pyvisa-sim device
//! in-process, then replaying the cassette.

use replay_core::session::read_session;
use replay_core::{Bench, Error};

const PSU: &str = r#"
spec: "1.1"
devices:
  psu:
    eom:
      TCPIP INSTR: {q: "\n", r: "\n"}
    error:
      error_queue:
        - q: "SYST:ERR?"
          default: '0,"No error"'
          command_error: '-100,"Command error"'
    dialogues:
      - q: "*IDN?"
        r: "ACME,PSU-3000,SN0001,1.0"
    properties:
      voltage:
        default: 0.0
        getter: {q: "VOLT?", r: "{:.3f}"}
        setter: {q: "VOLT {:f}"}
        specs: {type: float, min: 0, max: 30}
      broken:
        default: 0
        getter: {q: "BROKEN?", r: "{:d}"}
resources:
  TCPIP::psu.local::INSTR:
    device: psu
  ASRL1::INSTR:
    device: psu
"#;

fn bench_config(dir: &std::path::Path, address: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("devices")).unwrap();
    std::fs::write(dir.join("devices/psu.yaml"), PSU).unwrap();
    let config = dir.join("bench.yaml");
    std::fs::write(
        &config,
        format!("instruments:\n  psu:\n    address: \"{address}\"\n    timeout: 0.2\n"),
    )
    .unwrap();
    config
}

#[tokio::test]
async fn records_against_a_simulated_device_and_replays_offline() {
    let dir = tempfile::tempdir().unwrap();
    // The device file is relative to the bench config's directory, not to the process.
    let config = bench_config(
        dir.path(),
        "sim:devices/psu.yaml#TCPIP0::psu.local::inst0::INSTR",
    );
    let session = dir.path().join("sessions/psu.yaml");

    let bench = Bench::record(&config, &session).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(
        psu.query("*IDN?").await.unwrap(),
        "ACME,PSU-3000,SN0001,1.0"
    );
    psu.write("VOLT 12.5").await.unwrap();
    assert_eq!(psu.query("VOLT?").await.unwrap(), "12.500");
    // Out of range: rejected, the error queued, the value kept.
    psu.write("VOLT 31.0").await.unwrap();
    assert_eq!(
        psu.query("SYST:ERR?").await.unwrap(),
        "-100,\"Command error\""
    );
    // A write the device does not answer, queried: the bench's timeout, recorded.
    let err = psu.query("VOLT 1.0").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    // The state survives the reconnect that follows a timeout.
    assert_eq!(psu.query("VOLT?").await.unwrap(), "1.000");
    // pyvisa-sim raises on a getter whose template does not fit the value: an i/o error.
    let err = psu.query("BROKEN?").await.unwrap_err();
    assert!(
        format!("{err:?}").contains("Unknown format code 'd' for object of type 'str'"),
        "{err:?}"
    );
    bench.finish().await.unwrap();

    let recorded = read_session(&session).unwrap();
    let log = &recorded.instruments[0].1.log;
    let commands: Vec<&str> = log.iter().map(|i| i.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "*IDN?",
            "VOLT 12.5",
            "VOLT?",
            "VOLT 31.0",
            "SYST:ERR?",
            "VOLT 1.0",
            "VOLT?",
            "BROKEN?"
        ]
    );
    assert_eq!(log[2].response.as_deref(), Some("12.500"));
    assert!(log[5].error.is_some(), "the timeout is recorded");

    // Offline: the cassette answers, the device file is not needed.
    std::fs::remove_dir_all(dir.path().join("devices")).unwrap();
    let bench = Bench::replay(&session).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(
        psu.query("*IDN?").await.unwrap(),
        "ACME,PSU-3000,SN0001,1.0"
    );
    psu.write("VOLT 12.5").await.unwrap();
    assert_eq!(psu.query("VOLT?").await.unwrap(), "12.500");
}

#[tokio::test]
async fn each_bench_starts_from_the_file_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), "sim:devices/psu.yaml#TCPIP::psu.local::INSTR");
    for round in 0..2 {
        let session = dir.path().join(format!("s{round}.yaml"));
        let bench = Bench::record(&config, &session).await.unwrap();
        let psu = bench.instrument("psu").unwrap();
        assert_eq!(psu.query("VOLT?").await.unwrap(), "0.000", "round {round}");
        psu.write("VOLT 20.0").await.unwrap();
        bench.finish().await.unwrap();
    }
}

#[tokio::test]
async fn a_bad_device_file_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), "sim:devices/psu.yaml#TCPIP::psu.local::INSTR");
    std::fs::write(
        dir.path().join("devices/psu.yaml"),
        PSU.replace("type: float, min: 0", "type: double, min: 0"),
    )
    .unwrap();
    // Every address is checked when the bench opens, before any test command is sent.
    let err = Bench::record(&config, dir.path().join("s.yaml"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("psu.yaml:17:"), "{err}");
    assert!(err.contains("properties.voltage"), "{err}");
    assert!(err.contains("invalid property type `double`"), "{err}");
}

#[tokio::test]
async fn an_unknown_resource_lists_the_file_s_resources() {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), "sim:devices/psu.yaml#GPIB::9::INSTR");
    let err = Bench::record(&config, dir.path().join("s.yaml"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`GPIB::9::INSTR`"), "{err}");
    assert!(
        err.contains("`TCPIP::psu.local::INSTR`, `ASRL1::INSTR`"),
        "{err}"
    );

    let config = bench_config(dir.path(), "sim:devices/psu.yaml");
    let err = Bench::record(&config, dir.path().join("t.yaml"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("name one after `#`"), "{err}");
}
