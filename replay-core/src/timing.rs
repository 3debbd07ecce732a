//! When replayed answers arrive: at once, at their recorded time on tokio's paused clock,
//! or paced in real time.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The environment variable that multiplies the pace of `realtime` replays.
pub const SPEED_VAR: &str = "REPLAY_SPEED";

/// The values `timing` accepts.
pub const TIMING_VALUES: &[&str] = &["instant", "virtual", "realtime"];

/// How a replay reproduces the recorded timing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timing {
    /// Every answer at once; recorded timestamps are ignored (the default).
    #[default]
    Instant,
    /// Each answer arrives at its recorded timestamp on tokio's clock. Under a paused
    /// clock (`#[recorded_test(timing = "virtual")]` pauses it) this costs no wall time:
    /// `tokio::time::Instant` gaps equal the recorded gaps and `sleep`s are free.
    Virtual,
    /// Each answer waits for its recorded timestamp in real time, divided by the speed
    /// (`REPLAY_SPEED`, default 1).
    Realtime,
}

impl Timing {
    /// The name users write.
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Instant => "instant",
            Timing::Virtual => "virtual",
            Timing::Realtime => "realtime",
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timing {
    type Err = String;

    fn from_str(s: &str) -> Result<Timing, String> {
        match s {
            "instant" => Ok(Timing::Instant),
            "virtual" => Ok(Timing::Virtual),
            "realtime" => Ok(Timing::Realtime),
            other => Err(format!(
                "unknown timing `{other}`; expected `instant`, `virtual` or `realtime`"
            )),
        }
    }
}

/// Parses `REPLAY_SPEED`: a finite number greater than zero (`2` is twice as fast).
/// `None` (unset or empty) is 1.
pub fn parse_speed(value: Option<&str>) -> Result<f64, Error> {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(1.0);
    };
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(Error::Env {
            name: SPEED_VAR.to_owned(),
            value: text.to_owned(),
            expected: "a number greater than 0: `1` (recorded pace), `2` (twice as fast), `0.5` (half as fast)".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds() {
        assert_eq!(parse_speed(None).unwrap(), 1.0);
        assert_eq!(parse_speed(Some("")).unwrap(), 1.0);
        assert_eq!(parse_speed(Some("2.5")).unwrap(), 2.5);
        for bad in ["0", "-1", "fast", "inf", "NaN"] {
            let e = parse_speed(Some(bad)).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("invalid value `{bad}` for `REPLAY_SPEED`")),
                "{e}"
            );
            assert!(e.contains("`2` (twice as fast)"), "{e}");
        }
    }

    #[test]
    fn names() {
        for t in TIMING_VALUES {
            assert_eq!(t.parse::<Timing>().unwrap().as_str(), *t);
        }
        assert!(
            "paused"
                .parse::<Timing>()
                .unwrap_err()
                .contains("`virtual`")
        );
    }
}
