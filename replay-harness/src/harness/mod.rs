//! replay's custom test harness: one libtest-mimic trial per `#[recorded_test]` of a
//! `harness = false` target, paired with its cassette, with orphaned and missing cassettes
//! decided at list time, snapshot-style regression reports and an end-of-run summary.

#[cfg(feature = "custom-harness")]
mod plan;
mod redact;
#[cfg(feature = "custom-harness")]
mod run;
pub(crate) mod snapshot;

#[cfg(feature = "custom-harness")]
pub use plan::HarnessTarget;
#[cfg(feature = "custom-harness")]
pub use run::main;
pub use snapshot::BenchExt;
