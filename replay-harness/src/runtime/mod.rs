//! The runtime behind `#[recorded_test]`: environment, paths, running one test.

mod config;
pub(crate) mod describe;
mod log;
mod mode;
mod paths;
mod run;

pub use config::{CONFIG_FILE, ReplayConfig};
pub use log::{LOG_VAR, parse_log_level};
pub use mode::{
    Env, ORPHANS_VAR, OrphanPolicy, RECORD_VALUES, RecordMode, TOLERANCE_VAR, color_enabled, is_ci,
    parse_tolerance,
};
pub use paths::{TestPaths, rerecord_command, target_selector};
// The custom harness shows paths the way test reports do.
pub(crate) use paths::relative_to;
pub use run::{
    FailureKind, Outcome, RunOptions, change_summary, panic_message, run_as_libtest, run_test,
    run_test_with,
};
