//! Test support for replay's own end-to-end suites: a simulated SCPI instrument bench
//! served over real loopback TCP.
//!
//! ```
//! use replay_tests::sim::SimBench;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sim = SimBench::builder().psu("psu").seed(42).start().await?;
//! let dir = tempfile::tempdir()?;
//! sim.write_config(dir.path().join("bench.yaml"))?; // address: TCPIP0::127.0.0.1::<port>::SOCKET
//!
//! let bench = replay_harness::Bench::record(dir.path().join("bench.yaml"), dir.path().join("s.yaml")).await?;
//! let psu = bench.instrument("psu")?;
//! psu.write("VOLT 5.0, (@1);OUTP ON, (@1)").await?;
//! let volts: f64 = psu.query("MEAS:VOLT? (@1)").await?.parse()?;
//! assert!((volts - 5.0).abs() < 0.01);
//! bench.finish().await?;
//! sim.shutdown().await; // listeners and connections closed: replay must work offline
//! # Ok(()) }
//! ```
//!
//! # The simulated instruments
//!
//! Every instrument parses SCPI as real ones do: case-insensitive headers in short or
//! long form (`VOLT`, `voltage`), an optional leading `:`, optional nodes
//! (`[SOURce:]VOLTage[:LEVel]`), several commands on one line separated by `;` (with
//! the SCPI relative path: `MEAS:VOLT?;CURR?` asks `MEAS:CURR?`; the responses to one
//! line's queries come back joined by `;`), channel lists `(@1)`, `(@1,3)`, `(@1:3)`,
//! and `MIN`/`MAX`/`DEF` for numbers. Commands end with LF or CRLF; answers end with
//! the configured terminator.
//!
//! Common to all models:
//!
//! | command | answer |
//! |---|---|
//! | `*IDN?` | the model's identity ([`sim::PSU_IDN`], [`sim::DMM_IDN`], [`sim::SCOPE_IDN`]) |
//! | `*RST`, `*CLS`, `*OPC`, `*WAI` | reset settings; clear the error queue |
//! | `*OPC?`, `*TST?`, `*ESR?`, `*STB?` | `1`, `+0`, event status register, status byte |
//! | `SYST:ERR?` (`:SYSTem:ERRor[:NEXT]?`) | oldest queued error, FIFO: `-113,"Undefined header"`, … `+0,"No error"` when empty |
//! | `SYST:ERR:COUN?`, `SYST:VERS?` | queue length (`+2`), `1999.0` |
//! | **`SYST:HANG?`** | **never answers** (a known query, for timeout tests) |
//!
//! An unknown command queues `-113,"Undefined header"` and aborts the rest of its line;
//! an unknown *query* therefore **never answers**, and the connection stays open. Other
//! errors: `-102` syntax, `-104` data type, `-108` parameter not allowed, `-109` missing
//! parameter, `-222` data out of range (the setting is unchanged), `-224` illegal
//! parameter value, `-350` queue overflow (20 entries).
//!
//! **psu** (Keysight EDU36311A, 3 channels; without a channel list commands act on the
//! channel chosen by `INST CH<n>` / `INST:NSEL <n>`, channel 1 at power-on):
//! `VOLT <v>[, (@ch)]`, `VOLT? [MIN|MAX,][(@ch)]`, `CURR <a>[, (@ch)]`, `CURR?`,
//! `OUTP[:STAT] ON|OFF|1|0[, (@ch)]`, `OUTP? [(@ch)]` (`1`/`0`), `MEAS:VOLT? [(@ch)]`,
//! `MEAS:CURR? [(@ch)]`. Limits: CH1 6.18 V / 5.15 A, CH2–3 30.9 V / 1.03 A. Each
//! output drives a fixed load (CH1 30 Ω, CH2–3 100 Ω): with the output on,
//! `MEAS:VOLT?` is the setpoint and `MEAS:CURR?` is V/R, unless V/R exceeds `CURR`, in
//! which case the current is the limit and the voltage limit×R; with the output off
//! both read exactly 0. Numbers read like `+4.99918100E+00`; several channels answer
//! comma-separated.
//!
//! **dmm** (Keysight 34470A, DC volts; its input is wired to channel 1 of the bench's
//! first psu, 0 V without one): `CONF:VOLT:DC [range|AUTO|MIN|MAX|DEF[, res]]`,
//! `CONF?`, `MEAS:VOLT:DC? [range]`, `READ?`, `INIT` + `FETC?`, `VOLT:RANG <r>` / `?`.
//! Ranges 0.1 V–1000 V; beyond 120 % of a fixed range it reads `+9.90000000E+37`.
//!
//! **scope** (Keysight DSOX1204G; each input carries a fixed sine: CHAN1 280 mVpp
//! 1 kHz, CHAN2 1 Vpp 2 kHz, CHAN3 3.3 Vpp 500 Hz, CHAN4 5 Vpp 10 kHz):
//! `:TIM:SCAL <s>` / `?` (`+1.000E-03`), `:WAV:SOUR CHAN<n>` / `?`, `:WAV:FORM BYTE` /
//! `?` (only BYTE), `:WAV:POIN <n>` / `?` (1–62500, 1000 at power-on), `:WAV:PRE?`,
//! `:WAV:DATA?` → an IEEE 488.2 block `#<n><len><payload>` and the terminator, whose
//! payload holds `:WAV:POIN` bytes: a ramp `0x00..=0xFF` over the first 256 points
//! (so every byte value, `\n`, `\r` and `#` included, appears once the block has 256
//! points), then the sine; `:MEAS:VPP? [CHAN<n>]` (`+280E-03`), `:RUN`, `:STOP`,
//! `:SINGle`, `:DIG [CHAN<n>]`, `:AUToscale`.
//!
//! # Determinism
//!
//! Without a seed readings are exact. With [`sim::SimBenchBuilder::seed`], each
//! instrument draws gaussian-like noise from its own stream (the seed mixed with the
//! alias), advanced once per reading, and `*RST` starts the stream over: the same seed
//! and the same commands since the last `*RST` (or since start) give the same bytes. So
//! re-recording an unchanged procedure against a fresh bench changes nothing but
//! timestamps, and a test that begins with `*RST` records the same cassette whether it
//! runs alone or after others on a long-running bench (`sim-bench`). State and noise
//! are shared by every connection to one instrument: tests that share a bench must not
//! run concurrently against the same instrument.
//!
//! # Known limitations
//!
//! Only raw sockets (no VXI-11/HiSLIP), only the commands above, no SCPI units
//! (`5 V`, `100 mV`), no status-enable registers, BYTE waveforms only.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod scratch;
pub mod sim;

pub use sim::{SimBench, SimBenchBuilder, SimInstrument};
