//! The environment a run reads, parsed in one place: `RECORD`, `CI`, `REPLAY_BENCH`,
//! `REPLAY_DIFF_TOLERANCE`, `REPLAY_ORPHANS`, and the colour rule (`NO_COLOR`, `CLICOLOR_FORCE`).

/// What `RECORD` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMode {
    /// `RECORD` unset, empty or `0`: replay every test from its cassette.
    Replay,
    /// `RECORD=1` or `RECORD=all`: record every test against the live bench.
    All,
    /// `RECORD=missing`: record the tests without a cassette, replay the others.
    Missing,
}

/// The values `RECORD` accepts, for error messages.
pub const RECORD_VALUES: &str = "`0` (replay, the default), `1` or `all` (record every test), `missing` (record tests without a cassette)";

impl RecordMode {
    /// Parses the value of `RECORD` (`None` when unset); the error lists the valid values.
    pub fn parse(value: Option<&str>) -> Result<RecordMode, String> {
        match value {
            None | Some("" | "0") => Ok(RecordMode::Replay),
            Some("1" | "all") => Ok(RecordMode::All),
            Some("missing") => Ok(RecordMode::Missing),
            Some(other) => Err(format!(
                "invalid value `{other}` for `RECORD`: expected one of {RECORD_VALUES}"
            )),
        }
    }

    /// Whether a test whose cassette exists (or not) records in this mode.
    pub fn records(self, cassette_exists: bool) -> bool {
        match self {
            RecordMode::Replay => false,
            RecordMode::All => true,
            RecordMode::Missing => !cassette_exists,
        }
    }
}

/// Whether `CI` counts as set: non-empty and not `false` or `0` (insta's rule).
pub fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The variable that sets the drift tolerance of re-record reports (a ratio, `0.001` = 0.1 %).
pub const TOLERANCE_VAR: &str = "REPLAY_DIFF_TOLERANCE";

pub use replay_core::diff::parse_tolerance;
#[cfg(feature = "custom-harness")]
pub use replay_support::term::color_enabled;

/// The environment a test run reads, captured once so it can be tested.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `RECORD`, if set.
    pub record: Option<String>,
    /// `CI`, if set.
    pub ci: Option<String>,
    /// `REPLAY_BENCH`, if set.
    pub bench: Option<String>,
    /// `REPLAY_DIFF_TOLERANCE`, if set; see [`Env::diff_tolerance`].
    pub tolerance: Option<String>,
    /// `REPLAY_ORPHANS`, if set; see [`Env::orphan_policy`].
    #[cfg(feature = "custom-harness")]
    pub orphans: Option<String>,
    /// `REPLAY_LOG`, if set; see [`parse_log_level`](super::parse_log_level).
    pub log: Option<String>,
    /// `REPLAY_REWRITE`, if set; see [`Env::rewrite`].
    pub rewrite: Option<String>,
    /// `REPLAY_SPEED`, if set: the pace of `timing = "realtime"` replays.
    pub speed: Option<String>,
}

/// The variable that forces a re-record to rewrite cassettes that did not change.
pub const REWRITE_VAR: &str = "REPLAY_REWRITE";

/// The variable that says what an orphaned cassette does to a harness run.
#[cfg(feature = "custom-harness")]
pub const ORPHANS_VAR: &str = "REPLAY_ORPHANS";

/// What an orphaned cassette (one no test of the target records) does to a harness run.
#[cfg(feature = "custom-harness")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrphanPolicy {
    /// `REPLAY_ORPHANS=fail` (the default): each orphan is a failing trial.
    #[default]
    Fail,
    /// `REPLAY_ORPHANS=warn`: orphans are listed in the summary without failing the run
    /// (for tests compiled out by `#[cfg(feature = …)]` in some runs).
    Warn,
}

impl Env {
    /// Reads `RECORD`, `CI`, `REPLAY_BENCH` and `REPLAY_DIFF_TOLERANCE` from the process
    /// environment.
    pub fn from_process() -> Env {
        let var = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        Env {
            record: var("RECORD"),
            ci: var("CI"),
            bench: var("REPLAY_BENCH").filter(|v| !v.is_empty()),
            tolerance: var(TOLERANCE_VAR),
            #[cfg(feature = "custom-harness")]
            orphans: var(ORPHANS_VAR),
            log: var(super::LOG_VAR),
            rewrite: var(REWRITE_VAR),
            speed: var(replay_core::timing::SPEED_VAR),
        }
    }

    /// What orphaned cassettes do: `REPLAY_ORPHANS` (`fail`, the default, or `warn`). The
    /// error says which values are valid.
    #[cfg(feature = "custom-harness")]
    pub fn orphan_policy(&self) -> Result<OrphanPolicy, String> {
        match self.orphans.as_deref() {
            None | Some("" | "fail") => Ok(OrphanPolicy::Fail),
            Some("warn") => Ok(OrphanPolicy::Warn),
            Some(other) => Err(format!(
                "invalid value `{other}` for `{ORPHANS_VAR}`: expected `fail` (an orphaned cassette fails the run, the default) or `warn` (listed in the summary only)"
            )),
        }
    }

    /// Whether a re-record rewrites a cassette that did not change (`REPLAY_REWRITE=1`;
    /// only obeyed with `RECORD=all`). By default an unchanged re-record keeps the committed
    /// file byte for byte. The error says which values are valid.
    pub fn rewrite(&self) -> Result<bool, String> {
        match self.rewrite.as_deref() {
            None | Some("" | "0") => Ok(false),
            Some("1") => Ok(true),
            Some(other) => Err(format!(
                "invalid value `{other}` for `{REWRITE_VAR}`: expected `1` (with `RECORD=all`, rewrite every cassette even when nothing changed) or `0` (keep unchanged cassettes byte for byte, the default)"
            )),
        }
    }

    /// The drift tolerance of re-record reports: `REPLAY_DIFF_TOLERANCE`, else the default
    /// (`0.001`, 0.1 %). The error says which values are valid.
    pub fn diff_tolerance(&self) -> Result<f64, String> {
        match self.tolerance.as_deref() {
            None | Some("") => Ok(replay_core::diff::DEFAULT_TOLERANCE),
            Some(text) => parse_tolerance(text)
                .map_err(|e| format!("invalid value `{text}` for `{TOLERANCE_VAR}`: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_values() {
        assert_eq!(RecordMode::parse(None).unwrap(), RecordMode::Replay);
        assert_eq!(RecordMode::parse(Some("")).unwrap(), RecordMode::Replay);
        assert_eq!(RecordMode::parse(Some("0")).unwrap(), RecordMode::Replay);
        assert_eq!(RecordMode::parse(Some("1")).unwrap(), RecordMode::All);
        assert_eq!(RecordMode::parse(Some("all")).unwrap(), RecordMode::All);
        assert_eq!(
            RecordMode::parse(Some("missing")).unwrap(),
            RecordMode::Missing
        );
    }

    #[test]
    fn bad_record_value_lists_valid_ones() {
        let err = RecordMode::parse(Some("yes")).unwrap_err();
        assert!(err.starts_with("invalid value `yes` for `RECORD`"), "{err}");
        for valid in ["`0`", "`1`", "`all`", "`missing`"] {
            assert!(err.contains(valid), "{err}");
        }
    }

    #[test]
    fn which_tests_record() {
        assert!(!RecordMode::Replay.records(false));
        assert!(RecordMode::All.records(true));
        assert!(RecordMode::Missing.records(false));
        assert!(!RecordMode::Missing.records(true));
    }

    #[test]
    fn tolerance_values() {
        let env = |v: Option<&str>| Env {
            tolerance: v.map(str::to_owned),
            ..Env::default()
        };
        assert_eq!(
            env(None).diff_tolerance().unwrap(),
            replay_core::diff::DEFAULT_TOLERANCE
        );
        assert_eq!(env(Some("0.01")).diff_tolerance().unwrap(), 0.01);
        let err = env(Some("1%")).diff_tolerance().unwrap_err();
        assert!(
            err.starts_with("invalid value `1%` for `REPLAY_DIFF_TOLERANCE`: expected a relative tolerance such as `0.001`"),
            "{err}"
        );
        assert!(env(Some("-1")).diff_tolerance().is_err());
        assert!(env(Some("NaN")).diff_tolerance().is_err());
    }

    #[test]
    fn orphan_policies() {
        let env = |v: Option<&str>| Env {
            orphans: v.map(str::to_owned),
            ..Env::default()
        };
        assert_eq!(env(None).orphan_policy().unwrap(), OrphanPolicy::Fail);
        assert_eq!(
            env(Some("fail")).orphan_policy().unwrap(),
            OrphanPolicy::Fail
        );
        assert_eq!(
            env(Some("warn")).orphan_policy().unwrap(),
            OrphanPolicy::Warn
        );
        let err = env(Some("ignore")).orphan_policy().unwrap_err();
        assert!(
            err.starts_with("invalid value `ignore` for `REPLAY_ORPHANS`: expected `fail`"),
            "{err}"
        );
        assert!(err.contains("`warn`"), "{err}");
    }

    #[test]
    fn rewrite_values() {
        let env = |v: Option<&str>| Env {
            rewrite: v.map(str::to_owned),
            ..Env::default()
        };
        assert!(!env(None).rewrite().unwrap());
        assert!(!env(Some("0")).rewrite().unwrap());
        assert!(env(Some("1")).rewrite().unwrap());
        let err = env(Some("yes")).rewrite().unwrap_err();
        assert!(
            err.starts_with("invalid value `yes` for `REPLAY_REWRITE`: expected `1`"),
            "{err}"
        );
    }

    #[test]
    fn ci_rule() {
        assert!(!is_ci(None));
        assert!(!is_ci(Some("")));
        assert!(!is_ci(Some("false")));
        assert!(!is_ci(Some("0")));
        assert!(is_ci(Some("true")));
        assert!(is_ci(Some("1")));
    }
}
