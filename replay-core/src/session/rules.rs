//! Rules recorded with an instrument's log (additive keys PyTestLab ignores), so that
//! replay enforces what recording did without a bench file.

use crate::matching::MatchConfig;
use crate::safety::{Limit, RedactRule};

/// What an instrument's log carries besides its interactions: `limits`, `redact` and
/// `secrets` (names only, never values), and the matching rules (`matching`, `tolerance`,
/// `keywords`, `ignore`, `repeatable`), written before `log` when not empty.
///
/// ```yaml
/// psu:
///   profile: keysight/EDU36311A
///   limits:
///   - command: SOURce:VOLTage
///     max: 6.0
///   redact:
///   - pattern: CN\d{8}
///     replace: <serial>
///   secrets:
///   - LAB_TOKEN
///   matching: scpi
///   ignore:
///   - SYST:ERR?
///   log: […]
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct InstrumentRules {
    /// Safety limits, enforced before a command reaches the instrument (or the replayer).
    pub limits: Vec<Limit>,
    /// Redaction rules the interactions were recorded with; replay applies them to the
    /// test's commands before matching.
    pub redact: Vec<RedactRule>,
    /// Names of the environment variables whose values are recorded as `${NAME}`.
    pub secrets: Vec<String>,
    /// The matching rules from the bench config, so that replay needs no bench file.
    pub matching: Option<MatchConfig>,
}

impl InstrumentRules {
    /// Whether there is no rule at all (nothing is written).
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
            && self.redact.is_empty()
            && self.secrets.is_empty()
            && self.matching.as_ref().is_none_or(MatchConfig::is_empty)
    }
}
