//! A test's matching rules and timing: the attribute's arguments over the workspace's
//! `.config/replay.toml`, checked before the test runs.

use replay_core::timing::parse_speed;
use replay_core::{MatchConfig, Timing};

use super::config::ReplayConfig;
use super::mode::Env;
use crate::registry::TestRules;

/// What a replay of one test runs under.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplaySettings {
    /// The test's own rules (attribute arguments).
    pub test: MatchConfig,
    /// The workspace's rules.
    pub workspace: MatchConfig,
    /// When answers arrive.
    pub timing: Timing,
    /// `REPLAY_SPEED` (realtime only).
    pub speed: f64,
}

impl ReplaySettings {
    /// Reads the attribute's `rules` over the workspace `config`, and `REPLAY_SPEED`.
    pub fn resolve(
        rules: &TestRules,
        config: Option<&ReplayConfig>,
        env: &Env,
    ) -> Result<ReplaySettings, String> {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        let test = MatchConfig::from_keys(
            rules.matching,
            rules.tolerance,
            owned(rules.keywords),
            owned(rules.ignore),
            owned(rules.repeatable),
        )
        .map_err(|e| format!("invalid `#[recorded_test]` matching arguments: {e}"))?;
        let workspace = config.map(|c| c.matching.clone()).unwrap_or_default();
        // The combination must make sense too (a tolerance under `exact`).
        test.over(&workspace)
            .compile()
            .map_err(|e| format!("invalid matching rules: {e}"))?;
        let timing = match rules.timing {
            Some(t) => t.parse::<Timing>()?,
            None => config.and_then(|c| c.timing).unwrap_or_default(),
        };
        let speed = parse_speed(env.speed.as_deref()).map_err(|e| e.to_string())?;
        Ok(ReplaySettings {
            test,
            workspace,
            timing,
            speed,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use replay_core::Rule;

    use super::*;

    fn workspace(text: &str) -> ReplayConfig {
        ReplayConfig::parse(Path::new("/ws"), Path::new("/ws/.config/replay.toml"), text).unwrap()
    }

    #[test]
    fn the_attribute_wins_over_the_workspace() {
        let cfg = workspace("matching = \"scpi\"\ntiming = \"virtual\"\nignore = [\"SYST:ERR?\"]");
        let rules = TestRules {
            matching: Some("exact"),
            timing: Some("realtime"),
            repeatable: &["*IDN?"],
            ..TestRules::NONE
        };
        let s = ReplaySettings::resolve(&rules, Some(&cfg), &Env::default()).unwrap();
        assert_eq!(s.test.rule, Some(Rule::Exact));
        assert_eq!(s.workspace.rule, Some(Rule::Scpi));
        assert_eq!(s.timing, Timing::Realtime);
        assert_eq!(s.speed, 1.0);
        let s = ReplaySettings::resolve(&TestRules::NONE, Some(&cfg), &Env::default()).unwrap();
        assert_eq!(s.timing, Timing::Virtual);
        let s = ReplaySettings::resolve(&TestRules::NONE, None, &Env::default()).unwrap();
        assert_eq!(s.timing, Timing::Instant);
    }

    #[test]
    fn invalid_values_are_setup_errors() {
        let env = Env {
            speed: Some("fast".into()),
            ..Env::default()
        };
        let err = ReplaySettings::resolve(&TestRules::NONE, None, &env).unwrap_err();
        assert!(
            err.starts_with("invalid value `fast` for `REPLAY_SPEED`"),
            "{err}"
        );
        let rules = TestRules {
            ignore: &["SYST:ERR?;*OPC?"],
            ..TestRules::NONE
        };
        let err = ReplaySettings::resolve(&rules, None, &Env::default()).unwrap_err();
        assert!(err.contains("is not one SCPI command"), "{err}");
        let rules = TestRules {
            tolerance: Some(1e-6),
            ..TestRules::NONE
        };
        let cfg = workspace("matching = \"exact\"");
        let err = ReplaySettings::resolve(&rules, Some(&cfg), &Env::default()).unwrap_err();
        assert!(err.contains("needs `matching = \"scpi\"`"), "{err}");
    }
}
