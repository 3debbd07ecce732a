//! Scratch crates for end-to-end tests: a throwaway package in a temp dir, depending on
//! this checkout's `replay-harness`, driven by `cargo test` as a subprocess.
//!
//! Every scratch crate is its own workspace (`[workspace]`), starts from this workspace's
//! `Cargo.lock` (so no dependency is resolved or fetched: cargo runs `--offline`) and builds
//! into one shared target directory under `CARGO_TARGET_TMPDIR`, so the dependencies compile
//! once for every scratch crate of every run.
//!
//! ```no_run
//! use replay_tests::scratch::ScratchCrate;
//!
//! let krate = ScratchCrate::new("lab")?;
//! krate.write("tests/bench.rs", "#[test] fn t() {}")?;
//! let out = krate.cargo_test().arg("--test").arg("bench").run()?;
//! assert!(out.status.success(), "{}", out.stderr);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The workspace this crate belongs to (the checkout under test).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Variables of the developer's shell or CI that change what a scratch run does or prints;
/// [`scrub_env`] removes them. A test that wants one sets it explicitly.
pub const SCRUBBED_VARS: &[&str] = &[
    "RECORD",
    "CI",
    "REPLAY_BENCH",
    "REPLAY_DIFF_TOLERANCE",
    "REPLAY_ORPHANS",
    "REPLAY_LOG",
    "REPLAY_SPEED",
    "GITHUB_STEP_SUMMARY",
    "INSTA_UPDATE",
    "INSTA_FORCE_PASS",
    "CLICOLOR_FORCE",
    "CARGO_TERM_COLOR",
    "RUSTFLAGS",
    "NEXTEST_PROFILE",
];

/// Removes [`SCRUBBED_VARS`] from `command` and pins the variables whose ambient value
/// would change the output: no colour (`NO_COLOR=1`), no backtraces (`RUST_BACKTRACE=0`).
pub fn scrub_env(command: &mut Command) -> &mut Command {
    for name in SCRUBBED_VARS {
        command.env_remove(name);
    }
    command.env("NO_COLOR", "1").env("RUST_BACKTRACE", "0")
}

/// The target directory every scratch crate builds into.
pub fn shared_target_dir() -> PathBuf {
    match std::env::var_os("REPLAY_SCRATCH_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_target_dir().join("e2e-scratch"),
    }
}

fn workspace_target_dir() -> PathBuf {
    // `CARGO_TARGET_DIR` of the outer build when set, else `<workspace>/target`.
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A throwaway package in a temp dir.
#[derive(Debug)]
pub struct ScratchCrate {
    dir: tempfile::TempDir,
    name: String,
}

impl ScratchCrate {
    /// A package called `name` with a `Cargo.toml` that dev-depends on `replay-harness`
    /// (by path) and an empty `src/lib.rs`.
    pub fn new(name: &str) -> io::Result<ScratchCrate> {
        let dir = tempfile::Builder::new()
            .prefix("replay-scratch-")
            .tempdir()?;
        let harness = workspace_root().join("replay-harness");
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nreplay-harness = {{ path = {harness:?} }}\n\n\
             [workspace]\n"
        );
        let krate = ScratchCrate {
            dir,
            name: name.to_owned(),
        };
        krate.write("Cargo.toml", &manifest)?;
        krate.write("src/lib.rs", "")?;
        let lock = workspace_root().join("Cargo.lock");
        if lock.exists() {
            std::fs::copy(lock, krate.path().join("Cargo.lock"))?;
        }
        Ok(krate)
    }

    /// The package root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `contents` to `relative` (parent directories created).
    pub fn write(&self, relative: &str, contents: &str) -> io::Result<()> {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, contents)
    }

    /// Reads `relative`'s bytes, `None` when it does not exist.
    pub fn read(&self, relative: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path().join(relative)).ok()
    }

    /// `cargo test --offline` in this package, with `RECORD`, `CI` and `REPLAY_BENCH`
    /// removed from the environment (add them back with [`CargoTest::env`]).
    pub fn cargo_test(&self) -> CargoTest<'_> {
        CargoTest {
            krate: self,
            command: &["test", "--offline", "--quiet"],
            args: Vec::new(),
            env: BTreeMap::new(),
        }
    }

    /// `cargo nextest run --offline --color never --no-fail-fast` in this package, in the
    /// same scrubbed environment as [`ScratchCrate::cargo_test`] (needs `cargo-nextest`).
    pub fn nextest(&self) -> CargoTest<'_> {
        CargoTest {
            command: &[
                "nextest",
                "run",
                "--offline",
                "--color",
                "never",
                "--no-fail-fast",
            ],
            ..self.cargo_test()
        }
    }
}

/// A `cargo test` (or `cargo nextest run`) invocation being built.
#[derive(Debug)]
pub struct CargoTest<'a> {
    krate: &'a ScratchCrate,
    command: &'static [&'static str],
    args: Vec<OsString>,
    env: BTreeMap<String, String>,
}

impl CargoTest<'_> {
    /// Adds an argument (`--test`, a filter, `--` …).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Runs it and collects its output, in a scrubbed environment ([`scrub_env`]).
    pub fn run(self) -> io::Result<CargoOutput> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(self.command)
            .args(&self.args)
            .current_dir(self.krate.path())
            .env("CARGO_TARGET_DIR", shared_target_dir());
        scrub_env(&mut command);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let output = command.output()?;
        Ok(CargoOutput {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// What a `cargo test` run printed.
#[derive(Debug)]
pub struct CargoOutput {
    /// The exit status (`101` when a test failed).
    pub status: ExitStatus,
    /// libtest's report (failure messages included).
    pub stdout: String,
    /// cargo's messages and what tests wrote to stderr past the capture.
    pub stderr: String,
}

impl CargoOutput {
    /// stdout then stderr, for assertions that do not care which.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for CargoOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_runs_ignore_the_ambient_environment() {
        let mut command = Command::new("true");
        scrub_env(&mut command);
        let envs: BTreeMap<String, Option<String>> = command
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        for name in [
            "GITHUB_STEP_SUMMARY",
            "REPLAY_DIFF_TOLERANCE",
            "INSTA_UPDATE",
            "INSTA_FORCE_PASS",
            "CLICOLOR_FORCE",
            "REPLAY_BENCH",
            "RECORD",
            "CI",
        ] {
            assert_eq!(envs.get(name), Some(&None), "{name} is not removed");
        }
        assert_eq!(envs["NO_COLOR"].as_deref(), Some("1"));
        assert_eq!(envs["RUST_BACKTRACE"].as_deref(), Some("0"));
    }
}
