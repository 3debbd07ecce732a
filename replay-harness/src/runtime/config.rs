//! `.config/replay.toml`: workspace-wide settings, found in the package root or its parents.
//!
//! ```toml
//! # <workspace>/.config/replay.toml
//! # One sessions root for every package below this directory; relative paths are
//! # relative to the directory that holds `.config/`.
//! sessions = "sessions"
//! # Redaction rules and secrets for every instrument of every bench below this directory,
//! # applied before the bench config's own (see docs/bench-safety.md).
//! redact = [{ pattern = 'CN\d{8}', replace = '<serial>' }]
//! secrets = ["LAB_TOKEN"]
//! # Matching and timing defaults for every test (see docs/matching.md, docs/timing.md).
//! matching = "scpi"
//! ignore = ["SYST:ERR?"]
//! timing = "virtual"
//! ```

use std::path::{Path, PathBuf};

use replay_core::{MatchConfig, RedactRule, Timing};
use serde::Deserialize;

/// Where the file lives, relative to a directory.
pub const CONFIG_FILE: &str = ".config/replay.toml";

/// The parsed file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ReplayToml {
    /// The shared sessions root.
    sessions: Option<String>,
    /// Redaction rules for every instrument.
    #[serde(default)]
    redact: Vec<RedactRule>,
    /// Secret environment variable names for every instrument.
    #[serde(default)]
    secrets: Vec<String>,
    /// The default matching rule.
    matching: Option<String>,
    /// The default numeric tolerance for commands (`scpi`).
    tolerance: Option<f64>,
    /// Keywords of the instruments' own command trees.
    #[serde(default)]
    keywords: Vec<String>,
    /// Commands every test may send any number of times.
    #[serde(default)]
    ignore: Vec<String>,
    /// Queries every test may ask as often as it likes.
    #[serde(default)]
    repeatable: Vec<String>,
    /// The default replay timing.
    timing: Option<String>,
}

/// The keys the file accepts, for messages.
const VALID_KEYS: &str = "`redact` (`[{ pattern = '…', replace = '…' }]`), `secrets` (`[\"ENV_VAR\"]`), `matching`, `tolerance`, `keywords`, `ignore`, `repeatable` (docs/matching.md), `timing` (docs/timing.md)";

/// `.config/replay.toml` as found for one package.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayConfig {
    /// The file itself.
    pub path: PathBuf,
    /// The shared sessions root (absolute), when the file sets `sessions`.
    pub sessions: Option<PathBuf>,
    /// Redaction rules for every instrument (`redact`), applied before the bench config's.
    pub redact: Vec<RedactRule>,
    /// Secrets for every instrument (`secrets`: environment variable names).
    pub secrets: Vec<String>,
    /// The workspace's matching rules (the least specific layer).
    pub matching: MatchConfig,
    /// The workspace's replay timing, when set.
    pub timing: Option<Timing>,
}

impl ReplayConfig {
    /// Looks for `.config/replay.toml` in `package_root` and its parents; the nearest wins.
    ///
    /// The search stops at the first directory that holds `Cargo.lock` or `.git` (the
    /// workspace or repository root), so a `~/.config/replay.toml` of another program is
    /// never read.
    pub fn find(package_root: &Path) -> Result<Option<ReplayConfig>, String> {
        for dir in package_root.ancestors() {
            let path = dir.join(CONFIG_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => return ReplayConfig::parse(dir, &path, &text).map(Some),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) => {}
                Err(e) => {
                    return Err(format!("failed to read `{}`: {e}", path.display()));
                }
            }
            if dir.join("Cargo.lock").exists() || dir.join(".git").exists() {
                break;
            }
        }
        Ok(None)
    }

    /// Parses the text of the file at `path`, which lives in `<root>/.config/`.
    pub fn parse(root: &Path, path: &Path, text: &str) -> Result<ReplayConfig, String> {
        let parsed: ReplayToml = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            format!(
                "`{}:{line}:{column}` is malformed: {}\nvalid keys: `sessions` (the shared sessions root, relative to `{}`), {VALID_KEYS}",
                path.display(),
                e.message(),
                root.display()
            )
        })?;
        let sessions = match parsed.sessions {
            Some(s) if s.trim().is_empty() => {
                return Err(format!(
                    "`{}`: `sessions` is empty; set it to a directory, e.g. `sessions = \"sessions\"`",
                    path.display()
                ));
            }
            Some(s) => Some(root.join(s)),
            None => None,
        };
        let matching = MatchConfig::from_keys(
            parsed.matching.as_deref(),
            parsed.tolerance,
            parsed.keywords,
            parsed.ignore,
            parsed.repeatable,
        )
        .map_err(|e| format!("`{}`: {e}", path.display()))?;
        let timing = parsed
            .timing
            .map(|t| t.parse::<Timing>())
            .transpose()
            .map_err(|e| format!("`{}`: {e}", path.display()))?;
        Ok(ReplayConfig {
            path: path.to_owned(),
            sessions,
            redact: parsed.redact,
            secrets: parsed.secrets,
            matching,
            timing,
        })
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_is_relative_to_the_config_root() {
        let cfg = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "sessions = \"shared/sessions\"\n",
        )
        .unwrap();
        assert_eq!(cfg.sessions, Some(PathBuf::from("/ws/shared/sessions")));
    }

    #[test]
    fn empty_file_sets_nothing() {
        let cfg = ReplayConfig::parse(Path::new("/ws"), Path::new("/ws/.config/replay.toml"), "")
            .unwrap();
        assert_eq!(cfg.sessions, None);
    }

    #[test]
    fn unknown_key_is_an_error_with_position() {
        let err = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "\nsesions = \"x\"\n",
        )
        .unwrap_err();
        assert!(err.contains("replay.toml:2:1` is malformed"), "{err}");
        assert!(err.contains("unknown field `sesions`"), "{err}");
        assert!(err.contains("valid keys: `sessions`"), "{err}");
        assert!(err.contains("`matching`"), "{err}");
    }

    #[test]
    fn matching_and_timing_defaults() {
        let cfg = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "matching = \"scpi\"\nignore = [\"SYST:ERR?\"]\ntiming = \"virtual\"\n",
        )
        .unwrap();
        assert_eq!(cfg.matching.rule, Some(replay_core::Rule::Scpi));
        assert_eq!(cfg.matching.ignore, vec!["SYST:ERR?"]);
        assert_eq!(cfg.timing, Some(Timing::Virtual));
        let bad = |text: &str| {
            ReplayConfig::parse(Path::new("/ws"), Path::new("/ws/.config/replay.toml"), text)
                .unwrap_err()
        };
        let err = bad("matching = \"fuzzy\"");
        assert_eq!(
            err,
            "`/ws/.config/replay.toml`: unknown matching rule `fuzzy`; expected `exact` or `scpi`"
        );
        assert!(bad("timing = \"paused\"").contains("expected `instant`, `virtual` or `realtime`"));
        assert!(bad("ignore = [\"/(/\"]").contains("not a valid regular expression"));
    }

    #[test]
    fn redact_and_secrets() {
        let cfg = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "secrets = [\"LAB_TOKEN\"]\nredact = [{ pattern = 'CN\\d{8}', replace = '<serial>' }]\n",
        )
        .unwrap();
        assert_eq!(cfg.secrets, ["LAB_TOKEN"]);
        assert_eq!(cfg.redact[0].pattern(), r"CN\d{8}");
        // TOML 1.1 as users write it: an array of tables, a multi-line array with comments,
        // an inline table over several lines with a trailing comma.
        let cfg = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "secrets = [\n  \"LAB_TOKEN\", # the lab's\n  \"PIN\",\n]\n[[redact]]\npattern = \"CN\\\\d{8}\"\nreplace = '<serial>'\n",
        )
        .unwrap();
        assert_eq!(cfg.secrets, ["LAB_TOKEN", "PIN"]);
        assert_eq!(cfg.redact[0].pattern(), r"CN\d{8}");
        let cfg = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "redact = [{\n  pattern = 'K-\\d+',\n  replace = '<fw>',\n}]\n",
        )
        .unwrap();
        assert_eq!(cfg.redact[0].pattern(), r"K-\d+");
        let err = ReplayConfig::parse(
            Path::new("/ws"),
            Path::new("/ws/.config/replay.toml"),
            "redact = [{ pattern = '(', replace = 'x' }]\n",
        )
        .unwrap_err();
        assert!(err.contains("replay.toml:1:"), "{err}");
        assert!(err.contains("not a valid regular expression"), "{err}");
    }

    #[test]
    fn found_in_a_parent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::create_dir_all(dir.path().join("crates/a")).unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "sessions = \"s\"").unwrap();
        let cfg = ReplayConfig::find(&dir.path().join("crates/a"))
            .unwrap()
            .unwrap();
        assert_eq!(cfg.sessions, Some(dir.path().join("s")));
        assert_eq!(cfg.path, dir.path().join(CONFIG_FILE));
    }

    #[test]
    fn search_stops_at_the_workspace_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::create_dir_all(dir.path().join("ws/pkg")).unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "sessions = \"s\"").unwrap();
        std::fs::write(dir.path().join("ws/Cargo.lock"), "").unwrap();
        assert_eq!(
            ReplayConfig::find(&dir.path().join("ws/pkg")).unwrap(),
            None
        );
    }
}
