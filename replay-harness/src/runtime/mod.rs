//! The runtime behind `#[recorded_test]`: environment, paths, running one test.

pub(crate) mod collect;
mod config;
pub(crate) mod describe;
mod lock;
mod log;
mod mode;
mod paths;
mod rules;
mod run;
pub(crate) mod summary;

pub(crate) use log::{LOG_VAR, parse_log_level};
#[cfg(feature = "custom-harness")]
pub use mode::{Env, OrphanPolicy, color_enabled, is_ci};
#[cfg(feature = "custom-harness")]
pub use paths::TestPaths;
// The custom harness shows paths the way test reports do.
#[cfg(feature = "custom-harness")]
pub(crate) use paths::relative_to;
pub use run::{FailureKind, Outcome, panic_message, run_as_libtest};
#[cfg(feature = "custom-harness")]
pub use run::{RunOptions, run_test_with};
