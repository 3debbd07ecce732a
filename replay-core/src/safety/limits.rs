//! Safety limits (`limits: [{command, min?, max?}]`): settings refused before they reach
//! the instrument.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::scpi::{self, LimitNode};

/// One safety limit of an instrument: a command header in SCPI notation and the range its
/// numeric value must stay in.
///
/// ```
/// use replay_core::Limit;
/// let volts = Limit::new("SOURce:VOLTage", None, Some(6.0)).unwrap();
/// assert!(volts.check("VOLT 5.0, (@1)").is_ok());
/// assert!(volts.check("sour:volt:lev 7").is_err());
/// assert!(volts.check("VOLT:PROT 20").is_ok()); // another setting
/// ```
///
/// The header matches a command SCPI-aware and deliberately conservatively (a limit that
/// catches too much is safer than one that misses): case, long and short forms taken from
/// the notation (`VOLTage` = `VOLT` = `voltage`), the optional nodes `SOURce`, `LEVel`,
/// `IMMediate` and `AMPLitude`, and numeric suffixes (a node written without one, such as
/// `SOURce`, covers every channel; `SOURce2` only channel 2, and `1` equals no suffix).
/// The value is the command's first parameter, in its base unit (`500 mV` is `0.5`); a
/// non-numeric value (`MAX`, `DEF`, `UP`) cannot be checked and is refused too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireLimit", into = "WireLimit")]
pub struct Limit {
    command: String,
    min: Option<f64>,
    max: Option<f64>,
    nodes: Vec<LimitNode>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLimit {
    command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
}

impl TryFrom<WireLimit> for Limit {
    type Error = String;
    fn try_from(wire: WireLimit) -> Result<Self, String> {
        Limit::new(&wire.command, wire.min, wire.max)
    }
}

impl From<Limit> for WireLimit {
    fn from(limit: Limit) -> WireLimit {
        WireLimit {
            command: limit.command,
            min: limit.min,
            max: limit.max,
        }
    }
}

impl Limit {
    /// A limit on `command` (SCPI notation, e.g. `SOURce:VOLTage`); at least one bound.
    pub fn new(command: &str, min: Option<f64>, max: Option<f64>) -> Result<Limit, String> {
        let nodes = scpi::limit_nodes(command)?;
        for (name, bound) in [("min", min), ("max", max)] {
            if bound.is_some_and(|b| !b.is_finite()) {
                return Err(format!(
                    "the `{name}` of the limit on `{command}` must be a finite number"
                ));
            }
        }
        match (min, max) {
            (None, None) => Err(format!(
                "the limit on `{command}` has neither `min` nor `max`; give at least one, e.g. `{{command: '{command}', max: 6.0}}`"
            )),
            (Some(lo), Some(hi)) if lo > hi => Err(format!(
                "the limit on `{command}` has `min` {lo} above `max` {hi}; swap them"
            )),
            _ => Ok(Limit {
                command: command.to_owned(),
                min,
                max,
                nodes,
            }),
        }
    }

    /// The header as written (`SOURce:VOLTage`).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The lowest value allowed.
    pub fn min(&self) -> Option<f64> {
        self.min
    }

    /// The highest value allowed.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// Checks one command (possibly several `;`-separated units): `Err` when a unit this
    /// limit covers sets a value outside the range, or one that cannot be read as a number.
    pub fn check(&self, command: &str) -> Result<(), Refusal> {
        for unit in scpi::settings(command) {
            if !scpi::header_matches(&self.nodes, &unit.header) {
                continue;
            }
            let refuse = |reason| Refusal {
                limit: self.clone(),
                value: unit.value.clone(),
                reason,
            };
            match scpi::numeric_value(&unit.value) {
                None => return Err(refuse(RefusalReason::NotANumber)),
                Some(v) if self.max.is_some_and(|max| v > max) => {
                    return Err(refuse(RefusalReason::AboveMax));
                }
                Some(v) if self.min.is_some_and(|min| v < min) => {
                    return Err(refuse(RefusalReason::BelowMin));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn range(&self) -> String {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!("min: {lo}, max: {hi}"),
            (Some(lo), None) => format!("min: {lo}"),
            (None, Some(hi)) => format!("max: {hi}"),
            (None, None) => String::new(),
        }
    }
}

/// Checks `command` against every limit; the first refusal wins.
pub(crate) fn check_all(limits: &[Limit], command: &str) -> Result<(), Refusal> {
    limits.iter().try_for_each(|limit| limit.check(command))
}

/// Why a limit refused a command.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    limit: Limit,
    value: String,
    reason: RefusalReason,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum RefusalReason {
    AboveMax,
    BelowMin,
    NotANumber,
}

impl Refusal {
    /// The limit that refused.
    pub fn limit(&self) -> &Limit {
        &self.limit
    }

    /// The value as the command wrote it (`7`, `7.5 V`, `MAX`).
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, header, range) = (&self.value, &self.limit.command, self.limit.range());
        match self.reason {
            RefusalReason::AboveMax => {
                write!(f, "`{value}` is above the limit of `{header}` ({range})")
            }
            RefusalReason::BelowMin => {
                write!(f, "`{value}` is below the limit of `{header}` ({range})")
            }
            RefusalReason::NotANumber => write!(
                f,
                "`{value}` cannot be checked against the limit of `{header}` ({range}): it is not a number; send the value as a number"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volts() -> Limit {
        Limit::new("SOURce:VOLTage", None, Some(6.0)).unwrap()
    }

    #[test]
    fn long_short_case_optional_nodes_and_units() {
        let l = volts();
        for refused in [
            "VOLT 7",
            "volt 7",
            "VOLTage 7",
            ":SOUR:VOLT 7",
            "SOURce:VOLTage:LEVel:IMMediate:AMPLitude 7",
            "SOUR2:VOLT 6.5",
            "VOLT 7.0, (@1)",
            "VOLT +7E+00",
            "VOLT 7000 mV",
            "VOLT 7V",
            "OUTP ON;VOLT 7",
            "VOLT:LEV 7;*OPC?",
            "VOLT MAX",
            "VOLT",
            "VOLT inf",
        ] {
            assert!(l.check(refused).is_err(), "{refused} must be refused");
        }
        for allowed in [
            "VOLT 6",
            "VOLT 5.999",
            "VOLT -100",
            "VOLT? MAX",
            "VOLT:PROT 20",
            "CURR 7",
            "MEAS:VOLT? (@1)",
            "SYST:BEEP 7",
            "DISP:TEXT \"VOLT 7\"",
            "*RST",
        ] {
            assert!(l.check(allowed).is_ok(), "{allowed} must be allowed");
        }
    }

    #[test]
    fn suffixes_select_channels() {
        let ch2 = Limit::new("SOURce2:VOLTage", None, Some(6.0)).unwrap();
        assert!(ch2.check("SOUR2:VOLT 7").is_err());
        assert!(ch2.check("SOUR:VOLT 7").is_ok());
        assert!(ch2.check("VOLT 7").is_ok());
        let ch1 = Limit::new("SOURce1:VOLTage", None, Some(6.0)).unwrap();
        assert!(ch1.check("SOUR:VOLT 7").is_err());
        assert!(ch1.check("SOUR1:VOLT 7").is_err());
    }

    #[test]
    fn min_and_messages() {
        let amps = Limit::new("CURRent", Some(0.0), Some(1.0)).unwrap();
        let below = amps.check("CURR -0.1").unwrap_err();
        assert_eq!(
            below.to_string(),
            "`-0.1` is below the limit of `CURRent` (min: 0, max: 1)"
        );
        let above = amps.check("CURR 1500 mA").unwrap_err();
        assert_eq!(above.value(), "1500 mA");
        assert!(above.to_string().contains("above the limit"), "{above}");
        let max = amps.check("CURR MAX").unwrap_err();
        assert!(max.to_string().contains("not a number"), "{max}");
    }

    #[test]
    fn invalid_limits_are_explained() {
        assert!(
            Limit::new("VOLT", None, None)
                .unwrap_err()
                .contains("neither")
        );
        assert!(
            Limit::new("VOLT", Some(2.0), Some(1.0))
                .unwrap_err()
                .contains("swap")
        );
        assert!(
            Limit::new("VOLT?", None, Some(1.0))
                .unwrap_err()
                .contains('?')
        );
        assert!(Limit::new("", None, Some(1.0)).is_err());
        assert!(
            Limit::new("VOLT", None, Some(f64::NAN))
                .unwrap_err()
                .contains("finite")
        );
    }

    #[test]
    fn round_trips_through_yaml() {
        let l: Limit = yaml_serde::from_str("{command: 'CURRent', min: 0, max: 1.5}").unwrap();
        assert_eq!(l.min(), Some(0.0));
        let text = yaml_serde::to_string(&l).unwrap();
        assert_eq!(text, "command: CURRent\nmin: 0.0\nmax: 1.5\n");
        let err = yaml_serde::from_str::<Limit>("{command: VOLT}").unwrap_err();
        assert!(err.to_string().contains("neither"), "{err}");
    }
}
