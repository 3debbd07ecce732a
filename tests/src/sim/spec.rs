//! What one simulated instrument is and how the bench config describes it.

use std::fmt;
use std::time::Duration;

use replay_harness::Terminators;

use super::fault::{Fault, FaultRule};

/// The instrument models the simulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Model {
    /// A Keysight EDU36311A triple-output power supply.
    Psu,
    /// A Keysight 34470A digital multimeter (DC volts), wired to the bench's first PSU
    /// channel 1.
    Dmm,
    /// A Keysight DSOX1204G four-channel oscilloscope.
    Scope,
}

impl Model {
    /// The profile written to `bench.yaml` unless the instrument sets another.
    pub fn default_profile(self) -> &'static str {
        match self {
            Model::Psu => "keysight/EDU36311A",
            Model::Dmm => "keysight/34470A",
            Model::Scope => "keysight/DSOX1204G",
        }
    }

    /// The `*IDN?` response of the model.
    pub fn idn(self) -> &'static str {
        match self {
            Model::Psu => super::psu::PSU_IDN,
            Model::Dmm => super::dmm::DMM_IDN,
            Model::Scope => super::scope::SCOPE_IDN,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Model::Psu => "psu",
            Model::Dmm => "dmm",
            Model::Scope => "scope",
        })
    }
}

/// One instrument of a [`SimBench`](super::SimBench): its model, alias and per-instrument
/// options. Options left unset take the bench-wide value from the builder.
///
/// ```
/// use std::time::Duration;
/// use replay_tests::sim::SimInstrument;
///
/// let psu = SimInstrument::psu("psu2")
///     .timeout(Duration::from_millis(300)) // `timeout: 0.3` in bench.yaml
///     .crlf(true)                          // this one answers with CRLF
///     .profile("keysight/E36312A");
/// assert_eq!(psu.alias(), "psu2");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimInstrument {
    pub(crate) alias: String,
    pub(crate) model: Model,
    pub(crate) port: Option<u16>,
    pub(crate) profile: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) terminators: Option<Terminators>,
    pub(crate) crlf: Option<bool>,
    pub(crate) first_reply_delay: Option<Duration>,
    pub(crate) faults: Vec<FaultRule>,
}

impl SimInstrument {
    /// An instrument of `model` called `alias` in `bench.yaml`.
    pub fn new(model: Model, alias: impl Into<String>) -> SimInstrument {
        SimInstrument {
            alias: alias.into(),
            model,
            port: None,
            profile: Some(model.default_profile().to_owned()),
            timeout: None,
            terminators: None,
            crlf: None,
            first_reply_delay: None,
            faults: Vec::new(),
        }
    }

    /// A power supply ([`Model::Psu`]).
    pub fn psu(alias: impl Into<String>) -> SimInstrument {
        SimInstrument::new(Model::Psu, alias)
    }

    /// A multimeter ([`Model::Dmm`]).
    pub fn dmm(alias: impl Into<String>) -> SimInstrument {
        SimInstrument::new(Model::Dmm, alias)
    }

    /// An oscilloscope ([`Model::Scope`]).
    pub fn scope(alias: impl Into<String>) -> SimInstrument {
        SimInstrument::new(Model::Scope, alias)
    }

    /// The alias.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Listens on this port instead of an ephemeral one (or the builder's port base).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The `profile` written to `bench.yaml` (default: [`Model::default_profile`]).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Writes no `profile` for this instrument.
    pub fn no_profile(mut self) -> Self {
        self.profile = None;
        self
    }

    /// The `timeout` written to `bench.yaml` (how long replay's recorder waits for an
    /// answer). Unset: the builder's timeout, else none (replay's default, 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `terminators` written to `bench.yaml` (what the client sends and expects).
    /// Unset: none written (replay's default, LF, which also accepts CRLF answers).
    pub fn terminators(mut self, terminators: Terminators) -> Self {
        self.terminators = Some(terminators);
        self
    }

    /// Answers with CRLF (`true`) or LF (`false`) instead of the bench-wide choice.
    pub fn crlf(mut self, crlf: bool) -> Self {
        self.crlf = Some(crlf);
        self
    }

    /// Waits this long before the first answer on each connection, instead of the
    /// bench-wide delay.
    pub fn first_reply_delay(mut self, delay: Duration) -> Self {
        self.first_reply_delay = Some(delay);
        self
    }

    /// Injects `fault` whenever a message starts with `command` (case-insensitive, a
    /// leading `:` ignored). Rules are tried in the order given.
    pub fn fault(mut self, command: impl Into<String>, fault: Fault) -> Self {
        self.faults.push(FaultRule::new(command, fault));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let psu = SimInstrument::psu("p");
        assert_eq!(psu.model(), Model::Psu);
        assert_eq!(psu.profile.as_deref(), Some("keysight/EDU36311A"));
        assert_eq!(psu.timeout, None);
        let psu = psu.no_profile().port(5025).crlf(true);
        assert_eq!(psu.profile, None);
        assert_eq!(psu.port, Some(5025));
        assert_eq!(psu.crlf, Some(true));
        assert_eq!(Model::Scope.to_string(), "scope");
        assert!(Model::Dmm.idn().contains("34470A"));
    }
}
