//! End to end: a user with only a pyvisa-sim device file records a `#[recorded_test]`
//! suite against it (`RECORD=1 cargo test`, no server, no hardware), deletes the file, and
//! replays the suite offline; a changed command is still caught.

use replay_tests::scratch::{CargoOutput, ScratchCrate};

const TESTS: &str = r#"
use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn psu_output_follows_setpoint(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    assert!(psu.query("*IDN?").await?.starts_with("Keysight Technologies,EDU36311A"));
    let volts = std::env::var("SCRATCH_VOLTS").unwrap_or_else(|_| "5.0".to_owned());
    psu.write(&format!("VOLT {volts}, (@1)")).await?;
    psu.write("OUTP ON, (@1)").await?;
    let read: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse().unwrap();
    assert!((read - 5.0).abs() < 1e-9, "read {read}");
    assert_eq!(psu.query("SYST:ERR?").await?, "+0,\"No error\"");
    Ok(())
}

#[recorded_test]
async fn out_of_range_is_an_instrument_error(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 45.0, (@2)").await?;
    assert_eq!(psu.query("SYST:ERR?").await?, "-113,\"Undefined header\"");
    assert_eq!(psu.query("MEAS:VOLT? (@2)").await?, "+0.00000000E+00");
    Ok(())
}
"#;

fn passed(out: &CargoOutput) {
    assert!(out.status.success(), "expected success\n{out}");
}

#[test]
fn a_pyvisa_sim_file_is_enough_to_record_and_replay_a_suite() {
    let krate = ScratchCrate::new("simlab").unwrap();
    krate.write("tests/psu.rs", TESTS).unwrap();
    let device = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("devices/psu.yaml"),
    )
    .unwrap();
    krate.write("devices/psu.yaml", &device).unwrap();
    krate
        .write(
            "bench.yaml",
            "instruments:\n  psu:\n    address: \"sim:devices/psu.yaml#TCPIP::psu.local::INSTR\"\n    timeout: 1.0\n",
        )
        .unwrap();

    let out = krate.cargo_test().env("RECORD", "1").run().unwrap();
    passed(&out);
    let cassette = String::from_utf8(
        krate
            .read("sessions/psu/psu_output_follows_setpoint.yaml")
            .expect("the recording wrote a cassette"),
    )
    .unwrap();
    assert!(cassette.contains("command: MEAS:VOLT? (@1)"), "{cassette}");
    assert!(cassette.contains("+5.00000000E+00"), "{cassette}");

    // Offline: the device file is gone; the cassettes answer.
    std::fs::remove_dir_all(krate.path().join("devices")).unwrap();
    let out = krate.cargo_test().run().unwrap();
    passed(&out);
    assert!(out.all().contains("2 passed"), "{out}");

    // A changed setpoint is a replay mismatch, not a silent pass.
    let out = krate
        .cargo_test()
        .env("SCRATCH_VOLTS", "3.0")
        .arg("psu_output_follows_setpoint")
        .run()
        .unwrap();
    assert_eq!(out.status.code(), Some(101), "{out}");
    assert!(out.all().contains("VOLT 3.0, (@1)"), "{out}");
}
