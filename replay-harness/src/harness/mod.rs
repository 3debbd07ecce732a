//! replay's custom test harness: one libtest-mimic trial per `#[recorded_test]` of a
//! `harness = false` target, paired with its cassette, with orphaned and missing cassettes
//! decided at list time, snapshot-style regression reports and an end-of-run summary.

mod plan;
mod run;
pub(crate) mod snapshot;

pub use plan::HarnessTarget;
pub use run::main;
pub use snapshot::BenchExt;
