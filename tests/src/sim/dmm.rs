//! The simulated digital multimeter (Keysight 34470A), DC volts only.

use super::errors::ScpiError;
use super::format::sci;
use super::machine::{Device, Outcome};
use super::noise::Noise;
use super::params;
use super::probe::Probe;
use super::scpi::Command;

/// `*IDN?` of the simulated multimeter.
pub const DMM_IDN: &str = "Keysight Technologies,34470A,MY60012345,A.03.01-03.15-03.01-00.52-02-01";

/// The DC voltage ranges, in volts.
const RANGES: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];

/// What the 34470A returns for a reading beyond 120 % of the range.
const OVERLOAD: f64 = 9.9e37;

/// The multimeter: a DC voltmeter whose input is wired to the PSU's channel 1.
pub(crate) struct Dmm {
    /// `None` is autorange.
    range: Option<f64>,
    noise: Noise,
    input: Probe,
    last: Option<f64>,
}

impl Dmm {
    /// A multimeter at its power-on settings reading `input`.
    pub(crate) fn new(noise: Noise, input: Probe) -> Dmm {
        Dmm {
            range: None,
            noise,
            input,
            last: None,
        }
    }

    /// `CONF:VOLT:DC [range|AUTO|MIN|MAX|DEF [, resolution]]`: picks the smallest range
    /// that holds the requested value, as the real meter does.
    fn configure(&mut self, params: &[&str]) -> Result<(), ScpiError> {
        params::at_most(params, 2)?;
        if let Some(resolution) = params.get(1) {
            // Accepted and ignored, but it must be a valid value.
            params::numeric(resolution)?;
        }
        let range = match params.first() {
            None => None,
            Some(p) if p.eq_ignore_ascii_case("AUTO") => None,
            Some(p) => {
                let requested = params::numeric(p)?
                    .resolve(RANGES[0], RANGES[4], 10.0)
                    .abs();
                let Some(&range) = RANGES.iter().find(|&&r| requested <= r * 1.2) else {
                    return Err(ScpiError::OutOfRange);
                };
                Some(range)
            }
        };
        self.range = range;
        Ok(())
    }

    /// Takes one reading: the input plus noise, or the overload value.
    fn reading(&mut self) -> f64 {
        let volts = self.input.get();
        let range = self.range.unwrap_or_else(|| {
            RANGES
                .iter()
                .copied()
                .find(|r| volts.abs() <= r * 1.2)
                .unwrap_or(RANGES[4])
        });
        let value = if volts.abs() > range * 1.2 {
            OVERLOAD
        } else {
            volts + self.noise.gaussian(2.0e-6 * range + 5.0e-6 * volts.abs())
        };
        self.last = Some(value);
        value
    }
}

impl Device for Dmm {
    fn idn(&self) -> &str {
        DMM_IDN
    }

    fn reset(&mut self) {
        self.range = None;
        self.last = None;
        self.noise.restart();
    }

    fn execute(&mut self, c: &Command<'_>) -> Option<Outcome> {
        let result = if !c.query && c.is("CONFigure:VOLTage:[DC]") {
            self.configure(&c.params).map(|()| Outcome::Done)
        } else if c.query && c.is("CONFigure") {
            params::at_most(&c.params, 0).map(|()| {
                let range = self.range.unwrap_or(10.0);
                Outcome::text(format!(
                    "\"VOLT {},{}\"",
                    sci(range, 8),
                    sci(range * 3.0e-7, 8)
                ))
            })
        } else if c.query && c.is("MEASure:VOLTage:[DC]") {
            self.configure(&c.params)
                .map(|()| Outcome::text(sci(self.reading(), 8)))
        } else if c.query && c.is("READ") {
            params::at_most(&c.params, 0).map(|()| Outcome::text(sci(self.reading(), 8)))
        } else if !c.query && c.is("INITiate:[IMMediate]") {
            params::at_most(&c.params, 0).map(|()| {
                self.reading();
                Outcome::Done
            })
        } else if c.query && c.is("FETCh") {
            params::at_most(&c.params, 0).and_then(|()| match self.last {
                Some(v) => Ok(Outcome::text(sci(v, 8))),
                None => Err(ScpiError::DataStale),
            })
        } else if c.is("[SENSe]:VOLTage:[DC]:RANGe") {
            if c.query {
                params::at_most(&c.params, 0)
                    .map(|()| Outcome::text(sci(self.range.unwrap_or(10.0), 8)))
            } else if c.params.is_empty() {
                Err(ScpiError::MissingParameter)
            } else {
                params::at_most(&c.params, 1)
                    .and_then(|()| self.configure(&c.params))
                    .map(|()| Outcome::Done)
            }
        } else {
            return None;
        };
        Some(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::machine::{Machine, Response};
    use super::*;

    fn dmm(seed: Option<u64>) -> (Machine, Probe) {
        let probe = Probe::default();
        let m = Machine::new(Box::new(Dmm::new(Noise::new(seed, "dmm"), probe.clone())));
        (m, probe)
    }

    fn ask(m: &mut Machine, line: &str) -> String {
        match m.handle_line(line) {
            Response::Message(bytes) => String::from_utf8(bytes).unwrap(),
            Response::Nothing => "<nothing>".to_owned(),
        }
    }

    #[test]
    fn reads_the_probe() {
        let (mut m, probe) = dmm(None);
        assert_eq!(ask(&mut m, "*IDN?"), DMM_IDN);
        assert_eq!(ask(&mut m, "MEAS:VOLT:DC?"), "+0.00000000E+00");
        probe.set(4.5);
        assert_eq!(ask(&mut m, "READ?"), "+4.50000000E+00");
        assert_eq!(ask(&mut m, "meas:volt?"), "+4.50000000E+00");
        m.handle_line("INIT");
        assert_eq!(ask(&mut m, "FETC?"), "+4.50000000E+00");
    }

    #[test]
    fn ranges_and_overload() {
        let (mut m, probe) = dmm(None);
        probe.set(4.5);
        m.handle_line("CONF:VOLT:DC 1");
        assert_eq!(
            ask(&mut m, "CONF?"),
            "\"VOLT +1.00000000E+00,+3.00000000E-07\""
        );
        assert_eq!(ask(&mut m, "READ?"), "+9.90000000E+37");
        m.handle_line("CONF:VOLT:DC 7");
        assert_eq!(ask(&mut m, "VOLT:RANG?"), "+1.00000000E+01");
        assert_eq!(ask(&mut m, "READ?"), "+4.50000000E+00");
        m.handle_line("CONF:VOLT:DC 5000");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        m.handle_line("CONF:VOLT:DC AUTO");
        m.handle_line("VOLT:RANG 0.1");
        assert_eq!(ask(&mut m, "VOLT:DC:RANG?"), "+1.00000000E-01");
        m.handle_line("*RST");
        assert_eq!(ask(&mut m, "READ?"), "+4.50000000E+00");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "+0,\"No error\"");
    }

    #[test]
    fn fetch_without_reading_is_an_error() {
        let (mut m, _) = dmm(None);
        assert_eq!(m.handle_line("FETC?"), Response::Nothing);
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-230,\"Data corrupt or stale\"");
    }

    #[test]
    fn seeded_noise() {
        let run = |seed| {
            let (mut m, probe) = dmm(seed);
            probe.set(1.0);
            (0..3).map(|_| ask(&mut m, "READ?")).collect::<Vec<_>>()
        };
        let a = run(Some(1));
        assert_eq!(a, run(Some(1)));
        assert!(
            a.iter()
                .all(|r| (r.parse::<f64>().unwrap() - 1.0).abs() < 1e-3)
        );
        assert!(a.iter().any(|r| r != "+1.00000000E+00"));
    }
}
