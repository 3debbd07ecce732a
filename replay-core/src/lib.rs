//! The runtime of **replay**, a record-and-replay test harness for lab instruments.
//!
//! Record a test against live SCPI instruments once, on the bench; replay it everywhere
//! else from the recorded session file (the *cassette*), with every deviation reported.
//!
//! ```no_run
//! use replay_core::Bench;
//!
//! # async fn demo() -> replay_core::Result<()> {
//! // On the bench: talk to the instruments of bench.yaml and record every exchange.
//! let bench = Bench::record("bench.yaml", "sessions/psu.yaml").await?;
//! let psu = bench.instrument("psu")?;
//! psu.write("VOLT 5.0, (@1)").await?;
//! let volts: String = psu.query("MEAS:VOLT? (@1)").await?;
//! bench.finish().await?; // writes sessions/psu.yaml atomically
//!
//! // In CI: the same calls, answered from the session; a changed command is an error.
//! let bench = Bench::replay("sessions/psu.yaml").await?;
//! let psu = bench.instrument("psu")?;
//! psu.write("VOLT 5.0, (@1)").await?;
//! assert_eq!(psu.query("MEAS:VOLT? (@1)").await?, volts);
//! bench.finish().await?; // fails if recorded interactions were never replayed
//! # Ok(()) }
//! ```
//!
//! Most users depend on `replay-harness`, which re-exports this crate and adds the
//! `#[recorded_test]` attribute and a custom test harness.
//!
//! # Session files
//!
//! YAML in PyTestLab's layout (`alias: {profile, log: [{type, command, response,
//! timestamp}]}`), so PyTestLab sessions replay unchanged. Additive keys carry what
//! PyTestLab loses: `response_base64` (exact bytes of a binary block), `error` and
//! `error_message` (a timeout or i/o failure seen while recording).
//!
//! # Known limitations
//!
//! - Matching is exact (type and command, byte for byte), PyTestLab's rule, unless
//!   `matching = "scpi"` is chosen ([`MatchConfig`], see `docs/matching.md`); the replayer
//!   asks a [`Matcher`], so other rules plug in through [`ReplayOptions::matcher`].
//! - Built-in transports: raw SCPI sockets (`TCPIP[n]::host::port::SOCKET`), serial
//!   (`ASRL<device>::INSTR`, feature `serial`), VXI-11 (`TCPIP[n]::host[,port][::inst0]::INSTR`)
//!   and HiSLIP (`TCPIP[n]::host::hislip0[,port]::INSTR`); see `docs/transports.md`. USBTMC
//!   and GPIB need a [`Transport`] of your own ([`RecordOptions::connector`]).
//! - Replay answers instantly unless [`Timing::Virtual`] or [`Timing::Realtime`] is
//!   chosen (see `docs/timing.md`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod bench;
mod block;
mod config;
pub mod diff;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod instrument;
mod matching;
mod outcome;
mod recorder;
mod regex_error;
mod replayer;
pub mod report;
mod safety;
#[doc(hidden)]
pub use safety::__bench as __redact;
#[cfg(feature = "serve")]
pub mod serve;
pub mod session;
#[cfg(feature = "sim")]
pub mod sim;
pub mod timing;
pub mod transport;

pub use address::Address;
pub use bench::{Bench, Mode};
pub use config::{BenchConfig, DEFAULT_TIMEOUT, InstrumentConfig, Terminators};
pub use error::{Error, Malformed, Result};
pub use instrument::Instrument;
pub use matching::{ExactMatcher, MatchConfig, Matcher, Request, Rule, ScpiMatcher};
pub use recorder::{ConnectFn, RecordOptions};
pub use replayer::ReplayOptions;
pub use safety::{Limit, RedactRule, Refusal};
pub use timing::Timing;
pub use transport::{DEFAULT_MAX_RESPONSE, Transport};

/// The Rust blocks of `docs/transports.md` (they use the `serve` feature).
#[cfg(all(doctest, feature = "serve"))]
#[doc = include_str!("../../docs/transports.md")]
struct TransportsGuideDoctests;

/// Compiles and runs the Rust examples of `docs/simulation.md`.
#[cfg(all(doctest, feature = "sim"))]
#[doc = include_str!("../../docs/simulation.md")]
struct SimulationGuideDoctests;

/// The code blocks of `docs/bench-safety.md`, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/bench-safety.md")]
struct BenchSafetyDoctests;
