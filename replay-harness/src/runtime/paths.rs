//! Where a test's cassette and bench config live, and the command that re-records it.
//!
//! - Sessions root: `<package>/sessions`, or `<shared root>/<package name>` when
//!   `.config/replay.toml` sets `sessions`.
//! - Cassette: `<sessions root>/<module path, :: as />/<fn>.yaml`. The module path starts
//!   with the target's crate name (`tests/my-lab.rs` → `my_lab`), so every target has its
//!   own directory. `session = "…"` replaces the part after the sessions root.
//! - Bench config: `REPLAY_BENCH` (relative to the package root, or absolute), else
//!   `bench = "…"` (relative to the package root), else `<package>/bench.yaml`.

use std::path::{Component, Path, PathBuf};

use super::config::ReplayConfig;
use super::mode::Env;
use crate::registry::TestDef;

/// The file the bench config is read from when nothing overrides it.
pub const DEFAULT_BENCH: &str = "bench.yaml";
/// The sessions directory of a package without a shared root.
pub const DEFAULT_SESSIONS: &str = "sessions";

/// Everything a test run needs to know about files.
#[derive(Clone, Debug, PartialEq)]
pub struct TestPaths {
    /// The cassette (absolute).
    pub cassette: PathBuf,
    /// The bench config (absolute); only record mode reads it.
    pub bench: PathBuf,
    /// `RECORD=1 cargo test --test <target> <name> -- --exact`.
    pub rerecord: String,
}

impl TestPaths {
    /// Resolves the paths of `def`.
    pub fn resolve(def: &TestDef, env: &Env) -> Result<TestPaths, String> {
        let package_root = Path::new(def.manifest_dir);
        let config = ReplayConfig::find(package_root)?;
        TestPaths::resolve_with(def, env, config.as_ref())
    }

    /// Resolves the paths of `def` with an already found `.config/replay.toml`.
    pub fn resolve_with(
        def: &TestDef,
        env: &Env,
        config: Option<&ReplayConfig>,
    ) -> Result<TestPaths, String> {
        let package_root = Path::new(def.manifest_dir);
        let sessions_root = match config.and_then(|c| c.sessions.as_ref()) {
            Some(shared) => shared.join(def.package),
            None => package_root.join(DEFAULT_SESSIONS),
        };
        let cassette = match def.session {
            Some(session) => sessions_root.join(confined(session, "session", "the sessions root")?),
            None => {
                let mut path = sessions_root;
                for segment in def.module_path.split("::") {
                    path.push(segment);
                }
                path.push(format!("{}.yaml", def.name));
                path
            }
        };
        let bench = match (&env.bench, def.bench) {
            (Some(var), _) => package_root.join(var),
            (None, Some(bench)) => package_root.join(confined(bench, "bench", "the package root")?),
            (None, None) => package_root.join(DEFAULT_BENCH),
        };
        Ok(TestPaths {
            cassette,
            bench,
            rerecord: rerecord_command(def),
        })
    }
}

/// Checks that `path` (from `argument = "…"`) stays inside the root it is relative to.
pub fn confined(path: &str, argument: &str, root: &str) -> Result<PathBuf, String> {
    let p = Path::new(path);
    if path.is_empty() {
        return Err(format!("`{argument} = \"\"` is empty; give a file path"));
    }
    for component in p.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "`{argument} = \"{path}\"` leaves {root} with `..`; use a path inside it"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{argument} = \"{path}\"` is absolute; use a path relative to {root}"
                ));
            }
        }
    }
    Ok(p.to_owned())
}

/// The cargo target that holds the test, as a command-line selector (`--test bench`).
pub fn target_selector(def: &TestDef) -> String {
    let components: Vec<&str> = Path::new(def.file)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let stem = |s: &str| s.strip_suffix(".rs").unwrap_or(s).to_owned();
    let is_crate = |s: &str| stem(s).replace('-', "_") == def.crate_name;
    // Search from the end: the package may itself live in a directory called `tests`.
    for i in (0..components.len().saturating_sub(1)).rev() {
        let (dir, next) = (components[i], components[i + 1]);
        if !is_crate(next) {
            continue;
        }
        let kind = match dir {
            "tests" => "--test",
            "examples" => "--example",
            "benches" => "--bench",
            "bin" if i > 0 && components[i - 1] == "src" => "--bin",
            _ => continue,
        };
        return format!("{kind} {}", stem(next));
    }
    let package_root = Path::new(def.manifest_dir);
    if def.package.replace('-', "_") == def.crate_name {
        // The binary's own root file: its tests are in the binary even when a library exists.
        if components.ends_with(&["src", "main.rs"]) {
            return format!("--bin {}", def.package);
        }
        if package_root.join("src/lib.rs").exists() || !package_root.join("src/main.rs").exists() {
            return "--lib".to_owned();
        }
        return format!("--bin {}", def.package);
    }
    format!("--test {}", def.crate_name)
}

/// `RECORD=1 cargo test --test <target> <test name> -- --exact`: the test name is the path
/// libtest gives it (module path within the target, then the function), matched exactly
/// so that re-recording `idn` leaves `idn_is_keysight` alone.
pub fn rerecord_command(def: &TestDef) -> String {
    format!(
        "RECORD=1 cargo test {} {} -- --exact",
        target_selector(def),
        def.test_name()
    )
}

/// `path` relative to `base` when that is shorter to read (`sessions/x.yaml`,
/// `../sessions/x.yaml`); `path` itself otherwise. Both must be absolute.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    if !path.is_absolute() || !base.is_absolute() {
        return path.to_owned();
    }
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    // Only the root in common: the absolute path reads better.
    if common <= 1 {
        return path.to_owned();
    }
    let ups = base_parts.len() - common;
    if ups > 2 {
        return path.to_owned();
    }
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    for part in &path_parts[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::BodyFuture;

    fn body(_: &crate::Bench) -> BodyFuture<'_> {
        Box::pin(async { Ok(()) })
    }

    fn def(module_path: &'static str, file: &'static str, crate_name: &'static str) -> TestDef {
        TestDef {
            name: "psu_ramp",
            module_path,
            session: None,
            bench: None,
            manifest_dir: "/ws/lab",
            package: "my-lab",
            crate_name,
            file,
            line: 1,
            ignored: false,
            ignore_reason: None,
            rules: crate::registry::TestRules::NONE,
            body,
        }
    }

    #[test]
    fn default_cassette_follows_module_path() {
        let d = def("my_lab::psu", "tests/my-lab/psu.rs", "my_lab");
        let p = TestPaths::resolve_with(&d, &Env::default(), None).unwrap();
        assert_eq!(
            p.cassette,
            PathBuf::from("/ws/lab/sessions/my_lab/psu/psu_ramp.yaml")
        );
        assert_eq!(p.bench, PathBuf::from("/ws/lab/bench.yaml"));
        assert_eq!(
            p.rerecord,
            "RECORD=1 cargo test --test my-lab psu::psu_ramp -- --exact"
        );
    }

    #[test]
    fn shared_root_adds_the_package() {
        let d = def("bench", "lab/tests/bench.rs", "bench");
        let cfg = ReplayConfig {
            path: "/ws/.config/replay.toml".into(),
            sessions: Some("/ws/sessions".into()),
            redact: Vec::new(),
            secrets: Vec::new(),
            matching: replay_core::MatchConfig::default(),
            timing: None,
        };
        let p = TestPaths::resolve_with(&d, &Env::default(), Some(&cfg)).unwrap();
        assert_eq!(
            p.cassette,
            PathBuf::from("/ws/sessions/my-lab/bench/psu_ramp.yaml")
        );
        assert_eq!(
            p.rerecord,
            "RECORD=1 cargo test --test bench psu_ramp -- --exact"
        );
    }

    #[test]
    fn overrides() {
        let mut d = def("bench", "tests/bench.rs", "bench");
        d.session = Some("psu/ramp.yaml");
        d.bench = Some("benches/lab2.yaml");
        let p = TestPaths::resolve_with(&d, &Env::default(), None).unwrap();
        assert_eq!(p.cassette, PathBuf::from("/ws/lab/sessions/psu/ramp.yaml"));
        assert_eq!(p.bench, PathBuf::from("/ws/lab/benches/lab2.yaml"));
        let env = Env {
            bench: Some("/etc/lab3.yaml".into()),
            ..Env::default()
        };
        let p = TestPaths::resolve_with(&d, &env, None).unwrap();
        assert_eq!(p.bench, PathBuf::from("/etc/lab3.yaml"));
    }

    #[test]
    fn escaping_paths_are_rejected() {
        let mut d = def("bench", "tests/bench.rs", "bench");
        d.session = Some("../other/x.yaml");
        let err = TestPaths::resolve_with(&d, &Env::default(), None).unwrap_err();
        assert_eq!(
            err,
            "`session = \"../other/x.yaml\"` leaves the sessions root with `..`; use a path inside it"
        );
        d.session = None;
        d.bench = Some("/etc/bench.yaml");
        let err = TestPaths::resolve_with(&d, &Env::default(), None).unwrap_err();
        assert!(err.contains("is absolute"), "{err}");
        assert!(confined("a/./b.yaml", "session", "x").is_ok());
        assert!(confined("", "session", "x").is_err());
    }

    #[test]
    fn target_selectors() {
        // a package that lives in a directory called `tests`
        let d = def(
            "recorded_bench",
            "tests/tests/recorded_bench.rs",
            "recorded_bench",
        );
        assert_eq!(target_selector(&d), "--test recorded_bench");
        let d = def("my_lab::a::b", "tests/my-lab/a/b.rs", "my_lab");
        assert_eq!(target_selector(&d), "--test my-lab");
        let d = def("demo", "examples/demo.rs", "demo");
        assert_eq!(target_selector(&d), "--example demo");
        let d = def("tool", "src/bin/tool.rs", "tool");
        assert_eq!(target_selector(&d), "--bin tool");
        let d = def("my_lab::tests", "src/lib.rs", "my_lab");
        assert_eq!(target_selector(&d), "--lib");
        assert_eq!(
            rerecord_command(&d),
            "RECORD=1 cargo test --lib tests::psu_ramp -- --exact"
        );
    }

    #[test]
    fn binary_tests_select_the_binary() {
        // A package with both `src/lib.rs` and `src/main.rs`: `--lib` would run 0 tests.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "").unwrap();
        let root: &'static str =
            Box::leak(dir.path().to_str().unwrap().to_owned().into_boxed_str());
        let mut d = def("my_lab", "lab/src/main.rs", "my_lab");
        d.manifest_dir = root;
        assert_eq!(target_selector(&d), "--bin my-lab");
        assert_eq!(
            rerecord_command(&d),
            "RECORD=1 cargo test --bin my-lab psu_ramp -- --exact"
        );
        let mut d = def("my_lab::tests", "lab/src/lib.rs", "my_lab");
        d.manifest_dir = root;
        assert_eq!(target_selector(&d), "--lib");
        let d = def("x", "src/bin/x.rs", "x");
        assert_eq!(target_selector(&d), "--bin x");
        let d = def("x", "src/bin/x/main.rs", "x");
        assert_eq!(target_selector(&d), "--bin x");
    }

    #[test]
    fn relative_display() {
        let base = Path::new("/ws/lab");
        assert_eq!(
            relative_to(Path::new("/ws/lab/sessions/a.yaml"), base),
            PathBuf::from("sessions/a.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/ws/sessions/a.yaml"), base),
            PathBuf::from("../sessions/a.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/other/a.yaml"), base),
            PathBuf::from("/other/a.yaml")
        );
    }
}
