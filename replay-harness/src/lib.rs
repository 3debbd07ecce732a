//! **replay-harness**: record-and-replay tests for lab instruments, in one dev-dependency.
//!
//! Re-exports the instrument API of [`replay_core`] and adds the [`recorded_test`] attribute:
//! one `async fn` that talks to the bench live with `RECORD=1` and replays from its cassette
//! everywhere else.
//!
//! ```no_run
//! use replay_harness::{recorded_test, Bench};
//!
//! #[recorded_test]
//! async fn psu_output_follows_setpoint(bench: &Bench) -> replay_harness::TestResult {
//!     let psu = bench.instrument("psu")?;
//!     psu.write("VOLT 5.0, (@1)").await?;
//!     psu.write("OUTP ON, (@1)").await?;
//!     let volts: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
//!     assert!((volts - 5.0).abs() < 0.05);
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! - `cargo test` replays every test from `sessions/<target>/<module path>/<fn>.yaml`.
//! - `RECORD=1 cargo test` records them against the instruments of `bench.yaml`;
//!   `RECORD=missing` records only the tests that have no cassette yet.
//! - `.config/replay.toml` (`sessions = "sessions"`) points the packages of a workspace at
//!   one shared sessions root.
//!
//! See [`recorded_test`] for the arguments, the modes and the paths.
//!
//! # Known limitations
//!
//! - Each test runs on its own current-thread tokio runtime: `tokio::spawn` works, but
//!   spawned tasks only make progress while the test body awaits.
//! - The cassette path and the re-record command are derived from `module_path!()`,
//!   `file!()` and cargo's environment at compile time; a test target whose source files
//!   live outside the package's `tests/`, `src/`, `examples/` or `benches/` gets the
//!   generic `cargo test` command in its reports.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the harness's own unit tests use `#[recorded_test]`, which names `::replay_harness`.
extern crate self as replay_harness;

mod harness;
mod registry;
mod runtime;

// What a test calls, so users add one dev-dependency: the instrument API of `replay-core`.
pub use replay_core::{
    Address, Bench, BenchConfig, ConnectFn, DEFAULT_TIMEOUT, Error, ExactMatcher, Instrument,
    InstrumentConfig, MatchConfig, Matcher, Mode, RecordOptions, ReplayOptions, Request, Result,
    Rule, ScpiMatcher, Terminators, Timing, Transport, diff, report, session, transport,
};

/// The attribute that turns an `async fn(&Bench)` into a recorded test.
///
/// ```no_run
/// use replay_harness::{recorded_test, Bench};
///
/// #[recorded_test(session = "psu/ramp.yaml", bench = "benches/lab2.yaml")]
/// async fn psu_ramp(bench: &Bench) {
///     let psu = bench.instrument("psu").unwrap();
///     psu.write("VOLT:RAMP ON").await.unwrap();
/// }
/// # fn main() {}
/// ```
///
/// The function must be `async`, take exactly one `&Bench` and return `()` or
/// `Result<(), E>` with `E: Debug` (use [`TestResult`] to `?` any error). The attribute keeps
/// the body as a private function and emits an ordinary `#[test]` with the original name,
/// which builds a current-thread tokio runtime, opens the bench and runs the body; it also
/// registers the test so that replay's custom harness finds it in a `harness = false`
/// target.
///
/// # Arguments
///
/// - `session = "dir/name.yaml"`: the cassette, relative to the sessions root (default
///   `<module path, :: as />/<fn>.yaml`). Must stay inside the root: no `..`, not absolute.
/// - `bench = "benches/lab2.yaml"`: the bench config, relative to the package root (default
///   `bench.yaml`). `REPLAY_BENCH` overrides both. Only record mode reads it.
///
/// # Modes (`RECORD`)
///
/// | `RECORD`        | what happens |
/// |-----------------|--------------|
/// | unset, `0`      | replay from the cassette; a missing cassette fails with the command that records it |
/// | `1`, `all`      | record every test against the live bench |
/// | `missing`       | record the tests that have no cassette, replay the others |
///
/// Any other value fails every test with the list of valid values. Under `CI` nothing is
/// recorded unless `RECORD` says so. A cassette is written (atomically) only when the test
/// passed; after a re-record a summary of what changed against the previous cassette is
/// printed.
pub use replay_macros::recorded_test;

pub use harness::BenchExt;

// The README's code blocks compile as doctests: what a new user pastes must build.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// What a test file imports: `use replay_harness::prelude::*;` brings the attribute,
/// [`Bench`], [`BenchExt`] (for `bench.snapshot(…)`) and [`TestResult`].
pub mod prelude {
    pub use crate::{Bench, BenchExt, TestResult, recorded_test};
}

/// The `main` of a `harness = false` test target: runs every `#[recorded_test]` of the
/// target with replay's harness. Needs the `custom-harness` feature:
///
/// ```toml
/// [dev-dependencies]
/// replay-harness = { path = "../replay/replay-harness", features = ["custom-harness"] }
///
/// [[test]]
/// name = "lab"
/// harness = false
/// ```
/// ```no_run
/// // tests/lab.rs
/// use replay_harness::prelude::*;
///
/// #[recorded_test]
/// async fn idn_is_keysight(bench: &Bench) -> replay_harness::TestResult {
///     let idn = bench.instrument("psu")?.query("*IDN?").await?;
///     assert!(idn.starts_with("Keysight"));
///     bench.snapshot("idn", &idn);
///     Ok(())
/// }
///
/// replay_harness::main!();
/// ```
///
/// One trial per test, named exactly as libtest names it (so `--exact`, filters and
/// `cargo nextest run`, `--partition` included, work). Decided at list time:
///
/// - a test without a cassette is listed *ignored* outside CI (the end-of-run summary
///   shows the command that records it) and fails under `CI`;
/// - a cassette under the target's sessions folder that no test records is an *orphan*:
///   a failing trial named after the file.
///
/// A replay mismatch prints the recorded sequence against what the test did, in insta's
/// layout; a re-record that changed a cassette prints a diff of the changed responses and
/// flags numeric drift beyond `REPLAY_DIFF_TOLERANCE` (default `0.001`, 0.1 %). When
/// `GITHUB_STEP_SUMMARY` is set the summary is also appended there as Markdown.
#[cfg(feature = "custom-harness")]
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::__private::harness_main($crate::__private::HarnessTarget {
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                package: ::core::env!("CARGO_PKG_NAME"),
                crate_name: ::core::env!("CARGO_CRATE_NAME"),
                file: ::core::file!(),
            })
        }
    };
}

/// Without the `custom-harness` feature: a compile error that says how to turn it on.
#[cfg(not(feature = "custom-harness"))]
#[macro_export]
macro_rules! main {
    () => {
        ::core::compile_error!(
            "`replay_harness::main!()` needs replay's custom harness, which is off by default: \
             add `features = [\"custom-harness\"]` to the `replay-harness` dev-dependency in \
             Cargo.toml (or drop `harness = false` and `main!()` to run the tests under libtest)"
        );
        // So that the error above is the only one (no "`main` function not found").
        fn main() {}
    };
}

/// Defines a test's [`__private::TestDef`] (what `#[recorded_test]` expands to) and, with
/// the `custom-harness` feature, registers it for the harness. Not an API.
#[cfg(feature = "custom-harness")]
#[doc(hidden)]
#[macro_export]
macro_rules! __recorded_test_def {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $def:expr;) => {
        $(#[$meta])*
        #[::replay_harness::__private::linkme::distributed_slice(::replay_harness::__private::TESTS)]
        #[linkme(crate = ::replay_harness::__private::linkme)]
        static $name: $ty = $def;
    };
}

/// Defines a test's [`__private::TestDef`] (what `#[recorded_test]` expands to). Not an API.
#[cfg(not(feature = "custom-harness"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __recorded_test_def {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $def:expr;) => {
        $(#[$meta])*
        static $name: $ty = $def;
    };
}

/// What a test body returns: `Ok(())`, or any error boxed, so it can use `?` on anything
/// (`TestResult<T>` for a helper that returns a value).
///
/// Not to be confused with [`Result`] (= `replay_core::Result`), whose error is the
/// runtime's [`Error`].
pub type TestResult<T = (), E = Box<dyn std::error::Error + Send + Sync>> =
    std::result::Result<T, E>;

/// The runtime's internals for this crate's own integration tests (`tests/recorded_runtime.rs`
/// drives `run_test_with` end to end), behind the internal feature `__test`, which only
/// this crate's dev-dependency on itself turns on. Not an API.
#[cfg(feature = "__test")]
#[doc(hidden)]
pub mod __test {
    pub use crate::runtime::{Env, FailureKind, Outcome, RunOptions, panic_message, run_test_with};
}

// The guide is compiled as doctests too: every example a user pastes builds.
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
struct GuideDoctests;

#[doc(hidden)]
pub mod __private {
    //! What `#[recorded_test]` expansions and `main!()` name, and nothing else. Not a public
    //! API: it changes without notice.

    #[cfg(feature = "custom-harness")]
    pub use linkme;

    pub use crate::__recorded_test_def as recorded_test_def;
    #[cfg(feature = "custom-harness")]
    pub use crate::harness::{HarnessTarget, main as harness_main};
    #[cfg(feature = "custom-harness")]
    pub use crate::registry::TESTS;
    pub use crate::registry::{BodyFuture, TestDef, TestRules};
    pub use crate::runtime::describe::{
        Describe, DescribeDebug, DescribeDisplay, DescribeDynError, DescribeError, TestReturn,
    };

    /// Runs one test from its `#[test]` wrapper: panics with the failure message when it
    /// fails, resumes a panic of the body, prints the re-record summary when it recorded.
    /// The failure's location is the caller's: the user's test, not this library.
    #[track_caller]
    pub fn run_as_libtest(def: &TestDef) {
        crate::runtime::run_as_libtest(def)
    }
}

#[cfg(doctest)]
#[doc = include_str!("../../docs/matching.md")]
struct MatchingGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../docs/timing.md")]
struct TimingGuideDoctests;
