//! Matching settings as users write them (attribute, `bench.yaml`, `.config/replay.toml`,
//! the cassette) and their compiled form.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::keywords::{self, KeywordTable};
use super::matcher::{ExactMatcher, Matcher, ScpiMatcher};
use super::pattern::Pattern;
use super::scpi::table_with;

/// The comparison rule for commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rule {
    /// Byte for byte (the default, PyTestLab's rule).
    #[default]
    Exact,
    /// SCPI-aware: what the standards make provably the same command.
    Scpi,
}

impl Rule {
    /// The name users write.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Exact => "exact",
            Rule::Scpi => "scpi",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Rule, String> {
        match s {
            "exact" => Ok(Rule::Exact),
            "scpi" => Ok(Rule::Scpi),
            other => Err(format!(
                "unknown matching rule `{other}`; expected `exact` or `scpi`"
            )),
        }
    }
}

/// Matching settings from one place (a test, an instrument, the workspace).
///
/// Layers combine with [`MatchConfig::over`]: `rule` and `tolerance` of the more specific
/// layer win; `keywords`, `ignore` and `repeatable` add up.
///
/// ```
/// use replay_core::{MatchConfig, Rule};
///
/// let rules = MatchConfig::new()
///     .with_rule(Rule::Scpi)
///     .with_ignore(["SYST:ERR?"])
///     .with_repeatable(["*IDN?"]);
/// assert!(rules.compile().is_ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct MatchConfig {
    /// `matching = "exact" | "scpi"`.
    pub rule: Option<Rule>,
    /// `tolerance = 1e-6`: numbers in commands may differ by this much (`scpi` only).
    pub tolerance: Option<f64>,
    /// `keywords = ["CHANnel"]`: the instrument's own keywords, in SCPI notation.
    pub keywords: Vec<String>,
    /// `ignore = ["SYST:ERR?"]`: commands that may occur any number of times on either side.
    pub ignore: Vec<String>,
    /// `repeatable = ["*IDN?"]`: queries answered as often as asked.
    pub repeatable: Vec<String>,
}

impl MatchConfig {
    /// No setting at all: the `exact` rule, no tolerance, keyword, or pattern.
    pub fn new() -> MatchConfig {
        MatchConfig::default()
    }

    /// The same settings with `matching = rule`.
    #[must_use]
    pub fn with_rule(mut self, rule: Rule) -> MatchConfig {
        self.rule = Some(rule);
        self
    }

    /// The same settings with a numeric `tolerance` (`scpi` only).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: f64) -> MatchConfig {
        self.tolerance = Some(tolerance);
        self
    }

    /// The same settings with these `keywords` added (SCPI notation, `CHANnel`).
    #[must_use]
    pub fn with_keywords<S: Into<String>>(
        mut self,
        keywords: impl IntoIterator<Item = S>,
    ) -> MatchConfig {
        self.keywords.extend(keywords.into_iter().map(Into::into));
        self
    }

    /// The same settings with these `ignore` patterns added.
    #[must_use]
    pub fn with_ignore<S: Into<String>>(
        mut self,
        patterns: impl IntoIterator<Item = S>,
    ) -> MatchConfig {
        self.ignore.extend(patterns.into_iter().map(Into::into));
        self
    }

    /// The same settings with these `repeatable` patterns added.
    #[must_use]
    pub fn with_repeatable<S: Into<String>>(
        mut self,
        patterns: impl IntoIterator<Item = S>,
    ) -> MatchConfig {
        self.repeatable.extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Builds a config from the keys users write (`matching`, `tolerance`, `keywords`,
    /// `ignore`, `repeatable`), checking every value (see [`MatchConfig::compile`]).
    pub fn from_keys(
        matching: Option<&str>,
        tolerance: Option<f64>,
        keywords: Vec<String>,
        ignore: Vec<String>,
        repeatable: Vec<String>,
    ) -> Result<MatchConfig, String> {
        let config = MatchConfig {
            rule: matching.map(str::parse).transpose()?,
            tolerance,
            keywords,
            ignore,
            repeatable,
        };
        config.compile()?;
        Ok(config)
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == MatchConfig::default()
    }

    /// `self` (more specific) over `base`.
    pub fn over(&self, base: &MatchConfig) -> MatchConfig {
        let mut keywords = base.keywords.clone();
        let mut ignore = base.ignore.clone();
        let mut repeatable = base.repeatable.clone();
        for (into, from) in [
            (&mut keywords, &self.keywords),
            (&mut ignore, &self.ignore),
            (&mut repeatable, &self.repeatable),
        ] {
            for item in from {
                if !into.contains(item) {
                    into.push(item.clone());
                }
            }
        }
        MatchConfig {
            rule: self.rule.or(base.rule),
            tolerance: self.tolerance.or(base.tolerance),
            keywords,
            ignore,
            repeatable,
        }
    }

    /// Checks every setting and compiles the patterns. The error says which value is wrong
    /// and what to write instead.
    pub fn compile(&self) -> Result<CompiledRules, String> {
        for keyword in &self.keywords {
            keywords::validate(keyword)?;
        }
        if let Some(t) = self.tolerance {
            if !(t.is_finite() && t >= 0.0) {
                return Err(format!(
                    "`tolerance = {t}` is not a finite, non-negative number; write e.g. `tolerance = 1e-6`"
                ));
            }
            if self.rule == Some(Rule::Exact) {
                return Err(format!(
                    "`tolerance = {t}` needs `matching = \"scpi\"` (the `exact` rule compares bytes)"
                ));
            }
        }
        let table = table_with(&self.keywords);
        let matcher: Arc<dyn Matcher> = match self.rule.unwrap_or_default() {
            Rule::Exact => Arc::new(ExactMatcher),
            Rule::Scpi => {
                let mut scpi = ScpiMatcher::new().keywords(&self.keywords);
                if let Some(t) = self.tolerance {
                    scpi = scpi.tolerance(t);
                }
                Arc::new(scpi)
            }
        };
        let compile = |patterns: &[String]| -> Result<Vec<Pattern>, String> {
            patterns.iter().map(|p| Pattern::new(p, &table)).collect()
        };
        Ok(CompiledRules {
            ignore: compile(&self.ignore)?,
            repeatable: compile(&self.repeatable)?,
            matcher,
            table,
        })
    }
}

/// The rules one instrument replays under.
#[derive(Clone)]
pub struct CompiledRules {
    /// Decides whether a request replays a recorded interaction.
    pub matcher: Arc<dyn Matcher>,
    /// Commands that may occur any number of times on either side.
    pub ignore: Vec<Pattern>,
    /// Queries answered as often as asked.
    pub repeatable: Vec<Pattern>,
    table: KeywordTable,
}

impl fmt::Debug for CompiledRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledRules")
            .field("matcher", &self.matcher.name())
            .field("ignore", &self.ignore)
            .field("repeatable", &self.repeatable)
            .finish_non_exhaustive()
    }
}

/// How a command is treated by the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// In strict order.
    Sequenced,
    /// Matches an `ignore` pattern.
    Ignored,
    /// Matches a `repeatable` pattern.
    Repeatable,
}

impl Class {
    /// How logs and reports name the class: `sequenced`, `ignored`, `repeatable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Sequenced => "sequenced",
            Class::Ignored => "ignored",
            Class::Repeatable => "repeatable",
        }
    }
}

impl CompiledRules {
    /// Rules with `matcher` and no patterns.
    pub fn with_matcher(matcher: Arc<dyn Matcher>) -> CompiledRules {
        CompiledRules {
            matcher,
            ignore: Vec::new(),
            repeatable: Vec::new(),
            table: table_with(&[]),
        }
    }

    /// Whether there are patterns at all (the fast path skips classification otherwise).
    pub fn has_patterns(&self) -> bool {
        !(self.ignore.is_empty() && self.repeatable.is_empty())
    }

    /// Whether some pattern may match `command`, judged from its bytes without parsing (a
    /// query pattern needs a `?`, a common-command pattern a `*`): `false` means
    /// [`CompiledRules::classify`] is [`Class::Sequenced`].
    pub fn may_be_special(&self, command: &str) -> bool {
        self.ignore
            .iter()
            .chain(&self.repeatable)
            .any(|p| p.may_match(command))
    }

    /// How `command` is treated (`ignore` wins over `repeatable`).
    pub fn classify(&self, command: &str) -> Class {
        if self.ignore.iter().any(|p| p.matches(command, &self.table)) {
            Class::Ignored
        } else if self
            .repeatable
            .iter()
            .any(|p| p.matches(command, &self.table))
        {
            Class::Repeatable
        } else {
            Class::Sequenced
        }
    }

    /// A one-line description for reports: `scpi, ignore [SYST:ERR?]`.
    pub fn describe(&self) -> String {
        let mut out = self.matcher.name().into_owned();
        for (name, patterns) in [("ignore", &self.ignore), ("repeatable", &self.repeatable)] {
            if !patterns.is_empty() {
                let list: Vec<&str> = patterns.iter().map(Pattern::source).collect();
                out.push_str(&format!(", {name} [{}]", list.join(", ")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_combine() {
        let workspace = MatchConfig {
            rule: Some(Rule::Scpi),
            ignore: vec!["SYST:ERR?".into()],
            ..MatchConfig::default()
        };
        let test = MatchConfig {
            rule: Some(Rule::Exact),
            ignore: vec!["*OPC?".into(), "SYST:ERR?".into()],
            repeatable: vec!["*IDN?".into()],
            ..MatchConfig::default()
        };
        let merged = test.over(&workspace);
        assert_eq!(merged.rule, Some(Rule::Exact));
        assert_eq!(merged.ignore, vec!["SYST:ERR?", "*OPC?"]);
        assert_eq!(merged.repeatable, vec!["*IDN?"]);
    }

    #[test]
    fn rule_names() {
        assert_eq!("scpi".parse::<Rule>(), Ok(Rule::Scpi));
        let e = "SCPI".parse::<Rule>().unwrap_err();
        assert_eq!(
            e,
            "unknown matching rule `SCPI`; expected `exact` or `scpi`"
        );
    }

    #[test]
    fn compile_checks_values() {
        let bad_tol = MatchConfig {
            rule: Some(Rule::Scpi),
            tolerance: Some(-1.0),
            ..MatchConfig::default()
        };
        assert!(bad_tol.compile().unwrap_err().contains("non-negative"));
        let exact_tol = MatchConfig {
            rule: Some(Rule::Exact),
            tolerance: Some(1e-6),
            ..MatchConfig::default()
        };
        assert!(
            exact_tol
                .compile()
                .unwrap_err()
                .contains("needs `matching = \"scpi\"`")
        );
        let bad_kw = MatchConfig {
            keywords: vec!["chan".into()],
            ..MatchConfig::default()
        };
        assert!(bad_kw.compile().unwrap_err().contains("`CHANnel`"));
        let bad_pattern = MatchConfig {
            ignore: vec!["/[/".into()],
            ..MatchConfig::default()
        };
        assert!(bad_pattern.compile().is_err());
    }

    #[test]
    fn classification() {
        let rules = MatchConfig {
            rule: Some(Rule::Scpi),
            ignore: vec!["SYST:ERR?".into()],
            repeatable: vec!["*IDN?".into(), "SYST:ERR?".into()],
            ..MatchConfig::default()
        }
        .compile()
        .unwrap();
        assert_eq!(rules.classify("syst:error?"), Class::Ignored);
        assert_eq!(rules.classify("*IDN?"), Class::Repeatable);
        assert_eq!(rules.classify("VOLT 5"), Class::Sequenced);
        assert!(!rules.may_be_special("VOLT 5"));
        assert!(rules.may_be_special("syst:error?"));
        assert_eq!(
            rules.describe(),
            "scpi, ignore [SYST:ERR?], repeatable [*IDN?, SYST:ERR?]"
        );
    }
}
