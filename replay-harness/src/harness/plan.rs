//! What the harness lists, decided before anything runs: nextest runs each test in its own
//! process and only sees the list and the exit codes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::registry::{BodyFuture, TESTS, TestDef};
use crate::runtime::{Env, OrphanPolicy, TestPaths, is_ci, relative_to};

/// The test target a harness runs, captured by [`main!`](crate::main) at its call site.
#[derive(Clone, Copy, Debug)]
pub struct HarnessTarget {
    /// `env!("CARGO_MANIFEST_DIR")` of the target's package.
    pub manifest_dir: &'static str,
    /// `env!("CARGO_PKG_NAME")`.
    pub package: &'static str,
    /// `env!("CARGO_CRATE_NAME")` of the target (`lab`).
    pub crate_name: &'static str,
    /// `file!()` of the `main!()` call.
    pub file: &'static str,
}

/// What the harness does with one registered test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Runs (replays or records, as `RECORD` says). A test without a cassette runs too,
    /// and fails with the command that records it: the same rule as under libtest and
    /// nextest, so a never-recorded test is never green.
    Run,
    /// `#[ignore]` on the test itself.
    UserIgnored(Option<&'static str>),
}

/// One registered test, planned.
#[derive(Debug)]
pub(crate) struct PlannedTest {
    pub(crate) def: &'static TestDef,
    /// The trial name: the test path, exactly as libtest would list it.
    pub(crate) name: String,
    /// `Err`: an invalid `session = "…"` or config; the run reports it.
    pub(crate) paths: Result<TestPaths, String>,
    pub(crate) status: Status,
}

/// A cassette under the target's sessions folder that no test records.
#[derive(Debug)]
pub(crate) struct Orphan {
    /// The trial name: the path as shown, without leading `../` (with a shared sessions
    /// root, the path from the workspace root: `sessions/<package>/<target>/x.yaml`).
    pub(crate) name: String,
    /// The path as shown (relative to the current directory when close to it).
    pub(crate) shown: String,
    /// Whether it fails the run (`REPLAY_ORPHANS=fail`, the default) or is only listed in
    /// the summary (`warn`).
    pub(crate) fails: bool,
}

/// Everything the harness lists.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) tests: Vec<PlannedTest>,
    pub(crate) orphans: Vec<Orphan>,
    /// Whether `CI` counts as set.
    pub(crate) ci: bool,
}

fn probe_body(_: &crate::Bench) -> BodyFuture<'_> {
    Box::pin(async { Ok(()) })
}

impl HarnessTarget {
    /// The folder where the target's tests keep their cassettes by default
    /// (`<sessions root>/<crate name>`), resolved by the runtime's own path rule.
    pub(crate) fn sessions_dir(&self, env: &Env) -> Result<PathBuf, String> {
        let probe = TestDef {
            name: "probe",
            module_path: self.crate_name,
            session: None,
            bench: None,
            manifest_dir: self.manifest_dir,
            package: self.package,
            crate_name: self.crate_name,
            file: self.file,
            line: 0,
            ignored: false,
            ignore_reason: None,
            rules: crate::registry::TestRules::NONE,
            body: probe_body,
        };
        let paths = TestPaths::resolve(&probe, env)?;
        Ok(paths
            .cassette
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default())
    }
}

/// Plans the target's tests: registered tests of this crate, their status, and orphans.
pub(crate) fn plan(target: &HarnessTarget, env: &Env, base: Option<&Path>) -> Plan {
    plan_tests(target, TESTS.iter(), env, base)
}

pub(crate) fn plan_tests<'a>(
    target: &HarnessTarget,
    defs: impl Iterator<Item = &'static TestDef> + 'a,
    env: &Env,
    base: Option<&Path>,
) -> Plan {
    let ci = is_ci(env.ci.as_deref());
    let mut tests: Vec<PlannedTest> = defs
        .filter(|def| def.crate_name == target.crate_name)
        .map(|def| {
            let paths = TestPaths::resolve(def, env);
            let status = if def.ignored {
                Status::UserIgnored(def.ignore_reason)
            } else {
                Status::Run
            };
            PlannedTest {
                def,
                name: def.test_name(),
                paths,
                status,
            }
        })
        .collect();
    tests.sort_by(|a, b| a.name.cmp(&b.name));

    let show = |p: &Path| match base {
        Some(base) => relative_to(p, base),
        None => p.to_owned(),
    };
    let sessions_dir = target.sessions_dir(env).ok();
    // An invalid REPLAY_ORPHANS stops the harness before anything runs.
    let fails = env.orphan_policy().unwrap_or_default() == OrphanPolicy::Fail;
    let mut orphans = Vec::new();
    if let Some(dir) = &sessions_dir {
        let claimed: BTreeSet<&Path> = tests
            .iter()
            .filter_map(|t| t.paths.as_ref().ok())
            .map(|p| p.cassette.as_path())
            .collect();
        let mut found = Vec::new();
        collect_cassettes(dir, &mut found);
        found.sort();
        for path in found {
            if !claimed.contains(path.as_path()) {
                let shown = slash(&show(&path));
                let name = shown.trim_start_matches("../").to_owned();
                orphans.push(Orphan { name, shown, fails });
            }
        }
    }
    Plan { tests, orphans, ci }
}

/// Cassette files (`.yaml`, `.yml`) under `dir`, recursively; hidden entries skipped
/// (atomic writes leave `.replay-*.tmp` only on a crash).
fn collect_cassettes(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_cassettes(&path, out),
            Ok(_)
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                ) =>
            {
                out.push(path)
            }
            _ => {}
        }
    }
}

/// A path with `/` separators, for trial names that read the same on every platform.
fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn target(root: &Path) -> HarnessTarget {
        HarnessTarget {
            manifest_dir: leak(root.display().to_string()),
            package: "lab-pkg",
            crate_name: "lab",
            file: "tests/lab.rs",
        }
    }

    fn def(
        root: &Path,
        module_path: &'static str,
        name: &'static str,
        session: Option<&'static str>,
    ) -> &'static TestDef {
        Box::leak(Box::new(TestDef {
            name,
            module_path,
            session,
            bench: None,
            manifest_dir: leak(root.display().to_string()),
            package: "lab-pkg",
            crate_name: module_path.split("::").next().unwrap_or(module_path),
            file: "tests/lab.rs",
            line: 1,
            ignored: false,
            ignore_reason: None,
            rules: crate::registry::TestRules::NONE,
            body: probe_body,
        }))
    }

    fn env(record: Option<&str>, ci: Option<&str>) -> Env {
        Env {
            record: record.map(Into::into),
            ci: ci.map(Into::into),
            ..Env::default()
        }
    }

    fn touch(root: &Path, relative: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "{}\n").unwrap();
    }

    #[test]
    fn missing_cassettes_run_and_fail_like_under_libtest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "sessions/lab/psu/ramp.yaml");
        let defs = [
            def(root, "lab::psu", "ramp", None),
            def(root, "lab", "idn", None),
            // Another target's test linked into the same binary: not ours.
            def(root, "other", "idn", None),
        ];
        let statuses = |e: &Env| {
            plan_tests(&target(root), defs.iter().copied(), e, None)
                .tests
                .into_iter()
                .map(|t| (t.name, t.status))
                .collect::<Vec<_>>()
        };
        // Never ignored (a never-recorded test must not look green): it runs, and the
        // runtime fails it with the command that records it.
        assert_eq!(
            statuses(&env(None, None)),
            [
                ("idn".to_owned(), Status::Run),
                ("psu::ramp".to_owned(), Status::Run)
            ]
        );
        assert_eq!(
            statuses(&env(None, Some("true"))),
            [
                ("idn".to_owned(), Status::Run),
                ("psu::ramp".to_owned(), Status::Run)
            ]
        );
        assert_eq!(
            statuses(&env(Some("missing"), None)),
            [
                ("idn".to_owned(), Status::Run),
                ("psu::ramp".to_owned(), Status::Run)
            ]
        );
    }

    #[test]
    fn orphans_are_cassettes_no_test_records() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "sessions/lab/psu/ramp.yaml");
        touch(root, "sessions/lab/psu/ramp@ramp.snap");
        touch(root, "sessions/lab/custom.yaml");
        touch(root, "sessions/lab/old/gone.yml");
        touch(root, "sessions/lab/.replay-crash.tmp.yaml");
        touch(root, "sessions/other/not_ours.yaml");
        let defs = [
            def(root, "lab::psu", "ramp", None),
            def(root, "lab", "custom_place", Some("lab/custom.yaml")),
        ];
        let plan = plan_tests(
            &target(root),
            defs.iter().copied(),
            &env(None, None),
            Some(root),
        );
        let orphans: Vec<&str> = plan.orphans.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(orphans, ["sessions/lab/old/gone.yml"]);
        assert!(plan.orphans[0].fails);

        // A test compiled out (`#[cfg(feature = …)]`) leaves its cassette orphaned: with
        // REPLAY_ORPHANS=warn it is still listed, but does not fail the run.
        let warn = Env {
            orphans: Some("warn".into()),
            ..Env::default()
        };
        let plan = plan_tests(&target(root), defs[..1].iter().copied(), &warn, Some(root));
        let orphans: Vec<(&str, bool)> = plan
            .orphans
            .iter()
            .map(|o| (o.name.as_str(), o.fails))
            .collect();
        assert_eq!(
            orphans,
            [
                ("sessions/lab/custom.yaml", false),
                ("sessions/lab/old/gone.yml", false)
            ]
        );
    }

    #[test]
    fn user_ignored_tests_stay_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let ignored = Box::leak(Box::new(TestDef {
            ignored: true,
            ignore_reason: Some("needs the scope"),
            rules: crate::registry::TestRules::NONE,
            ..*def(root, "lab", "scope_only", None)
        }));
        let plan = plan_tests(
            &target(root),
            std::iter::once(&*ignored),
            &env(None, None),
            None,
        );
        assert_eq!(
            plan.tests[0].status,
            Status::UserIgnored(Some("needs the scope"))
        );
    }
}
