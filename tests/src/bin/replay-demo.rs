//! The quick-start demo: record a small suite against a simulated bench, stop the
//! simulator, replay the suite offline, then replay a deliberately changed test and show
//! the mismatch report.
//!
//! The power supply and the multimeter are pyvisa-sim device files (`tests/devices/*.yaml`)
//! run in-process through `sim:` addresses; the oscilloscope, whose binary waveform blocks
//! the format cannot express, is the hand-written simulator served over loopback TCP.
//!
//! ```text
//! cargo run -p replay-tests --bin replay-demo [-- --dir <DIR>]
//! ```

use std::error::Error as StdError;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;

use clap::Parser;
use replay_harness::{Bench, Error};
use replay_tests::SimBench;

type BoxError = Box<dyn StdError + Send + Sync>;
type Procedure =
    for<'a> fn(&'a Bench, Variant) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + 'a>>;

/// Record a suite on the simulated bench, replay it offline, and catch a deviation.
#[derive(Parser)]
#[command(name = "replay-demo")]
struct Args {
    /// Where to write the bench config and the cassettes (default: target/replay-demo).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Which version of a procedure to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The procedure as recorded.
    Original,
    /// The procedure after someone changed a setpoint.
    Changed,
}

/// PyTestLab's drivers poll the error queue after every command; so do these procedures.
async fn checked(inst: &replay_harness::Instrument, command: &str) -> Result<(), BoxError> {
    inst.write(command).await?;
    let err = inst.query("SYST:ERR?").await?;
    if !err.starts_with("+0,") {
        return Err(format!("`{command}` raised `{err}` on `{}`", inst.alias()).into());
    }
    Ok(())
}

fn idn_and_reset(
    bench: &Bench,
    _: Variant,
) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + '_>> {
    Box::pin(async move {
        for alias in ["psu", "dmm", "scope"] {
            let inst = bench.instrument(alias)?;
            let idn = inst.query("*IDN?").await?;
            if !idn.to_ascii_lowercase().starts_with("keysight") {
                return Err(format!("unexpected identity `{idn}` for `{alias}`").into());
            }
            checked(&inst, "*RST").await?;
        }
        Ok(())
    })
}

fn psu_output_follows_setpoint(
    bench: &Bench,
    variant: Variant,
) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + '_>> {
    Box::pin(async move {
        let psu = bench.instrument("psu")?;
        let dmm = bench.instrument("dmm")?;
        psu.query("*IDN?").await?;
        let volts = if variant == Variant::Original {
            "5.0"
        } else {
            "3.0"
        };
        checked(&psu, &format!("VOLT {volts}, (@1)")).await?;
        checked(&psu, "CURR 0.5, (@1)").await?;
        checked(&psu, "OUTP ON, (@1)").await?;
        let measured: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
        checked(&dmm, "CONF:VOLT:DC 10").await?;
        let dmm_volts: f64 = dmm.query("READ?").await?.trim().parse()?;
        if (measured - dmm_volts).abs() > 0.05 {
            return Err(format!("psu reads {measured} V but the dmm reads {dmm_volts} V").into());
        }
        checked(&psu, "OUTP OFF, (@1)").await?;
        Ok(())
    })
}

fn scope_waveform_capture(
    bench: &Bench,
    _: Variant,
) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + '_>> {
    Box::pin(async move {
        let scope = bench.instrument("scope")?;
        checked(&scope, ":WAV:SOUR CHAN1").await?;
        checked(&scope, ":WAV:FORM BYTE").await?;
        checked(&scope, ":WAV:POIN 1000").await?;
        let block = scope.query_binary(":WAV:DATA?").await?;
        if block.len() != 1000
            || block[..256]
                .iter()
                .enumerate()
                .any(|(i, &b)| usize::from(b) != i)
        {
            return Err(format!("unexpected waveform block of {} bytes", block.len()).into());
        }
        let vpp = scope.query(":MEAS:VPP? CHAN1").await?;
        if vpp.trim().parse::<f64>()? <= 0.0 {
            return Err(format!("unexpected Vpp `{vpp}`").into());
        }
        Ok(())
    })
}

const SUITE: [(&str, Procedure); 3] = [
    ("idn_and_reset", idn_and_reset),
    ("psu_output_follows_setpoint", psu_output_follows_setpoint),
    ("scope_waveform_capture", scope_waveform_capture),
];

/// The pyvisa-sim device files of the demo (committed in `tests/devices/`).
const DEVICE_FILES: [(&str, &str); 2] = [
    ("psu.yaml", include_str!("../../devices/psu.yaml")),
    ("dmm.yaml", include_str!("../../devices/dmm.yaml")),
];

/// Alias, `sim:` address (relative to the bench config) and profile of each device file.
const SIM_ADDRESSES: [(&str, &str, &str); 2] = [
    (
        "psu",
        "sim:devices/psu.yaml#TCPIP::psu.local::INSTR",
        "keysight/EDU36311A",
    ),
    (
        "dmm",
        "sim:devices/dmm.yaml#TCPIP::dmm.local::INSTR",
        "keysight/34465A",
    ),
];

/// `13 interactions (psu 10, dmm 3)`: per instrument too, since a mismatch report counts
/// one instrument's log (`#2 of 10`).
fn interactions(bench: &Bench) -> String {
    let session = bench.session();
    let total = session.len();
    let mut text = format!(
        "{total} {}",
        if total == 1 {
            "interaction"
        } else {
            "interactions"
        }
    );
    let per: Vec<String> = session
        .aliases()
        .filter_map(|alias| Some(format!("{alias} {}", session.instrument(alias)?.log.len())))
        .collect();
    if per.len() > 1 {
        text.push_str(&format!(" ({})", per.join(", ")));
    }
    text
}

fn cassette(dir: &Path, name: &str) -> PathBuf {
    dir.join("sessions").join(format!("{name}.yaml"))
}

fn rerecord(name: &str) -> String {
    format!(
        "cargo run -p replay-tests --bin replay-demo   (re-records `{name}` against the simulated bench)"
    )
}

async fn run(dir: &Path) -> Result<(), BoxError> {
    if dir.join("sessions").exists() {
        std::fs::remove_dir_all(dir.join("sessions"))?;
    }
    std::fs::create_dir_all(dir)?;

    // The power supply and the multimeter: pyvisa-sim device files, next to the config.
    let devices = dir.join("devices");
    std::fs::create_dir_all(&devices)?;
    for (file, text) in DEVICE_FILES {
        std::fs::write(devices.join(file), text)?;
    }
    // The oscilloscope: the hand-written simulator, over loopback TCP.
    let sim = SimBench::builder().scope("scope").seed(7).start().await?;
    let config = dir.join("bench.yaml");
    let mut yaml = sim.config_yaml();
    for (alias, address, profile) in SIM_ADDRESSES {
        yaml.push_str(&format!(
            "  {alias}:\n    address: \"{address}\"\n    profile: {profile}\n"
        ));
    }
    std::fs::write(&config, yaml)?;
    println!("1. a simulated bench:");
    for (alias, address, _) in SIM_ADDRESSES {
        println!("   {alias:<6} {address}   (pyvisa-sim device file, in-process)");
    }
    println!(
        "   scope  {}   (hand-written simulator: binary waveform blocks)",
        sim.address("scope")
    );
    println!("   bench config: {}", config.display());

    println!(
        "\n2. recording {} tests against the live (simulated) instruments",
        SUITE.len()
    );
    for (name, procedure) in SUITE {
        let path = cassette(dir, name);
        let bench = Bench::record(&config, &path).await?;
        procedure(&bench, Variant::Original)
            .await
            .map_err(|e| format!("recording `{name}` failed: {e}"))?;
        bench.finish().await?;
        println!(
            "   ✓ {name:<30} {} → {}",
            interactions(&bench),
            path.display()
        );
    }

    let connections = sim.accepted_connections();
    sim.shutdown().await;
    std::fs::remove_dir_all(&devices)?;
    println!(
        "\n3. stopped the scope simulator ({connections} connections served) and deleted the device files; nothing is left to answer"
    );

    println!("\n4. replaying the suite offline, from the cassettes");
    for (name, procedure) in SUITE {
        let options = replay_harness::ReplayOptions::default().rerecord_command(rerecord(name));
        let bench = Bench::replay_with(cassette(dir, name), options).await?;
        procedure(&bench, Variant::Original).await?;
        bench.finish().await?;
        println!("   ✓ {name:<30} {} replayed", interactions(&bench));
    }

    println!(
        "\n5. replaying a changed test: `psu_output_follows_setpoint` now sets 3.0 V instead of 5.0 V"
    );
    let name = "psu_output_follows_setpoint";
    let options = replay_harness::ReplayOptions::default().rerecord_command(rerecord(name));
    let bench = Bench::replay_with(cassette(dir, name), options).await?;
    let outcome = psu_output_follows_setpoint(&bench, Variant::Changed).await;
    match outcome.as_ref().map_err(|e| e.downcast_ref::<Error>()) {
        Err(Some(err @ Error::Mismatch(_))) => {
            println!("   ✓ the deviation was caught:\n");
            for line in err.to_string().lines() {
                println!("   {line}");
            }
        }
        Err(_) => {
            return Err(format!(
                "the changed test failed in an unexpected way: {}",
                outcome.unwrap_err()
            )
            .into());
        }
        Ok(()) => {
            return Err(
                "the changed test replayed without a mismatch: the deviation was NOT caught".into(),
            );
        }
    }

    println!(
        "\nDone. The cassettes are in {}; open one to see the format.",
        dir.join("sessions").display()
    );
    println!("Next, run every test (what CI runs):\n    cargo test --workspace");
    Ok(())
}

/// `target/replay-demo` in the workspace, shown relative to the current directory.
fn default_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let dir = workspace.join("target").join("replay-demo");
    match std::env::current_dir() {
        Ok(cwd) => dir.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(dir),
        Err(_) => dir,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dir = args.dir.unwrap_or_else(default_dir);
    println!("replay demo: record on a simulated bench, replay offline, catch a deviation\n");
    match run(&dir).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::FAILURE
        }
    }
}
