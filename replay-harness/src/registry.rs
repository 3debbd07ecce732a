//! The registry of `#[recorded_test]` functions.
//!
//! Every `#[recorded_test]` defines one [`TestDef`], which its `#[test]` wrapper runs. With the
//! `custom-harness` feature the definition is also added to the `TESTS` distributed slice
//! (linkme), so the harness of a `harness = false` target (where `#[test]` items are
//! compiled out) finds every test of the target without the user listing them. Run one with
//! `runtime::run_test_with`, which returns an
//! `runtime::Outcome`.
//!
//! Not part of the public API: reach it through [`crate::__private`].

use std::future::Future;
use std::pin::Pin;

use crate::Bench;

/// What a test body resolves to: `Ok(())`, or the failure message the test produced
/// (the error it returned, formatted in full).
pub type BodyResult = std::result::Result<(), String>;

/// The future a test body returns; it borrows the bench for its whole run.
pub type BodyFuture<'a> = Pin<Box<dyn Future<Output = BodyResult> + 'a>>;

/// Runs a test's body against a bench: `fn(&Bench) -> BodyFuture<'_>`.
pub type BodyFn = for<'a> fn(&'a Bench) -> BodyFuture<'a>;

/// One `#[recorded_test]`, as registered by the attribute.
///
/// All fields are filled by the macro expansion from `module_path!()`, `file!()`, `env!(…)` and
/// the attribute's arguments, so they describe the *test target*, not replay-harness.
#[derive(Clone, Copy)]
pub struct TestDef {
    /// The test function's name (`psu_ramp`).
    pub name: &'static str,
    /// `module_path!()` at the test: starts with the target's crate name (`bench::psu`).
    pub module_path: &'static str,
    /// `session = "…"`: the cassette path, relative to the sessions root.
    pub session: Option<&'static str>,
    /// `bench = "…"`: the bench config, relative to the package root.
    pub bench: Option<&'static str>,
    /// `env!("CARGO_MANIFEST_DIR")`: the package root.
    pub manifest_dir: &'static str,
    /// `env!("CARGO_PKG_NAME")`: the package name (`my-lab-tests`).
    pub package: &'static str,
    /// `env!("CARGO_CRATE_NAME")`: the test target's crate name as rustc sees it (`my_lab`).
    pub crate_name: &'static str,
    /// `file!()` of the test function.
    pub file: &'static str,
    /// `line!()` of the test function.
    pub line: u32,
    /// Whether the function carries `#[ignore]`.
    pub ignored: bool,
    /// The reason of `#[ignore = "…"]`, if given.
    pub ignore_reason: Option<&'static str>,
    /// The attribute's matching and timing arguments.
    pub rules: TestRules,
    /// Runs the body against a bench.
    pub body: BodyFn,
}

/// `matching = "…"`, `tolerance = …`, `keywords = […]`, `ignore = […]`,
/// `repeatable = […]`, `timing = "…"` as written on the attribute (values checked by the
/// macro; patterns and keywords checked when the test runs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestRules {
    /// `matching = "exact" | "scpi"`.
    pub matching: Option<&'static str>,
    /// `tolerance = 1e-6`.
    pub tolerance: Option<f64>,
    /// `keywords = ["CHANnel"]`.
    pub keywords: &'static [&'static str],
    /// `ignore = ["SYST:ERR?"]`.
    pub ignore: &'static [&'static str],
    /// `repeatable = ["*IDN?"]`.
    pub repeatable: &'static [&'static str],
    /// `timing = "instant" | "virtual" | "realtime"`.
    pub timing: Option<&'static str>,
}

impl TestRules {
    /// No arguments: the workspace defaults apply.
    pub const NONE: TestRules = TestRules {
        matching: None,
        tolerance: None,
        keywords: &[],
        ignore: &[],
        repeatable: &[],
        timing: None,
    };
}

impl TestDef {
    /// The test's name as libtest and nextest list it: the module path without the crate
    /// name, then the function (`psu::ramp_up`, or `ramp_up` at the top level).
    pub fn test_name(&self) -> String {
        match self.module_path.split_once("::") {
            Some((_, rest)) => format!("{rest}::{}", self.name),
            None => self.name.to_owned(),
        }
    }
}

impl std::fmt::Debug for TestDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDef")
            .field("name", &self.name)
            .field("module_path", &self.module_path)
            .field("session", &self.session)
            .field("bench", &self.bench)
            .field("manifest_dir", &self.manifest_dir)
            .field("package", &self.package)
            .field("crate_name", &self.crate_name)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("ignored", &self.ignored)
            .field("ignore_reason", &self.ignore_reason)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// Every `#[recorded_test]` linked into the current binary, in no particular order.
#[cfg(feature = "custom-harness")]
#[linkme::distributed_slice]
pub static TESTS: [TestDef];
