//! The simulated triple-output power supply (Keysight EDU36311A).

use super::errors::ScpiError;
use super::format::sci;
use super::machine::{Device, Outcome};
use super::noise::Noise;
use super::params::{self, Numeric};
use super::probe::Probe;
use super::scpi::Command;

/// `*IDN?` of the simulated power supply.
pub const PSU_IDN: &str = "Keysight Technologies,EDU36311A,CN61130056,K-01.08.03-01.00-01.08-02.00";

/// Per-channel ratings: (max volts, max amps, load resistance in ohms, default amps).
///
/// The maxima include the 3 % over-programming range of the real supply. The loads are
/// fixed resistors, so `MEAS:CURR?` follows Ohm's law until the current limit applies.
pub(crate) const CHANNELS: [(f64, f64, f64, f64); 3] = [
    (6.18, 5.15, 30.0, 5.0),
    (30.9, 1.03, 100.0, 1.0),
    (30.9, 1.03, 100.0, 1.0),
];

#[derive(Clone, Debug, PartialEq)]
struct Channel {
    volts: f64,
    amps: f64,
    output: bool,
}

/// The power supply: three channels, each with a voltage setpoint, a current limit, an
/// output switch and a resistive load.
pub(crate) struct Psu {
    channels: Vec<Channel>,
    /// The channel commands without a channel list act on (`INST:NSEL`).
    selected: usize,
    noise: Noise,
    probe: Probe,
}

impl Psu {
    /// A power supply at its power-on settings; channel 1's output drives `probe`.
    pub(crate) fn new(noise: Noise, probe: Probe) -> Psu {
        let mut psu = Psu {
            channels: Vec::new(),
            selected: 0,
            noise,
            probe,
        };
        psu.reset();
        psu
    }

    /// (volts, amps) at the terminals of channel `index` (0-based): the setpoint in
    /// constant-voltage mode, the current limit times the load in constant-current mode.
    fn terminals(&self, index: usize) -> (f64, f64) {
        let channel = &self.channels[index];
        if !channel.output {
            return (0.0, 0.0);
        }
        let load = CHANNELS[index].2;
        let amps = channel.volts / load;
        if amps > channel.amps {
            (channel.amps * load, channel.amps)
        } else {
            (channel.volts, amps)
        }
    }

    fn update_probe(&self) {
        self.probe.set(self.terminals(0).0);
    }

    /// Splits `params` into the values and an optional trailing channel list (0-based
    /// indices; the selected channel when absent).
    fn channels_of<'p>(
        &self,
        params: &'p [&'p str],
    ) -> Result<(&'p [&'p str], Vec<usize>), ScpiError> {
        match params.split_last() {
            Some((last, rest)) if params::is_channel_list(last) => {
                let list = params::channel_list(last, self.channels.len())?;
                Ok((rest, list.into_iter().map(|c| c - 1).collect()))
            }
            _ => Ok((params, vec![self.selected])),
        }
    }

    /// `VOLT`/`CURR` set and query.
    fn setting(&mut self, c: &Command<'_>, volts: bool) -> Result<Outcome, ScpiError> {
        let (values, channels) = self.channels_of(&c.params)?;
        let limits = |index: usize| {
            let (vmax, imax, _, idef) = CHANNELS[index];
            if volts { (vmax, 0.0) } else { (imax, idef) }
        };
        if c.query {
            params::at_most(values, 1)?;
            let keyword = match values.first() {
                None => None,
                Some(v) => match params::numeric(v)? {
                    Numeric::Value(_) => return Err(ScpiError::IllegalValue),
                    keyword => Some(keyword),
                },
            };
            let answers: Vec<String> = channels
                .iter()
                .map(|&i| {
                    let (max, default) = limits(i);
                    let value = match keyword {
                        Some(k) => k.resolve(0.0, max, default),
                        None if volts => self.channels[i].volts,
                        None => self.channels[i].amps,
                    };
                    sci(value, 8)
                })
                .collect();
            return Ok(Outcome::text(answers.join(",")));
        }
        params::at_most(values, 1)?;
        let value = params::numeric(values.first().ok_or(ScpiError::MissingParameter)?)?;
        // Check every channel first: an out-of-range value changes nothing.
        let mut resolved = Vec::with_capacity(channels.len());
        for &i in &channels {
            let (max, default) = limits(i);
            let v = value.resolve(0.0, max, default);
            if !(0.0..=max).contains(&v) {
                return Err(ScpiError::OutOfRange);
            }
            resolved.push((i, v));
        }
        for (i, v) in resolved {
            if volts {
                self.channels[i].volts = v;
            } else {
                self.channels[i].amps = v;
            }
        }
        self.update_probe();
        Ok(Outcome::Done)
    }

    fn output(&mut self, c: &Command<'_>) -> Result<Outcome, ScpiError> {
        let (values, channels) = self.channels_of(&c.params)?;
        if c.query {
            params::at_most(values, 0)?;
            let states: Vec<&str> = channels
                .iter()
                .map(|&i| if self.channels[i].output { "1" } else { "0" })
                .collect();
            return Ok(Outcome::text(states.join(",")));
        }
        params::at_most(values, 1)?;
        let on = params::boolean(values.first().ok_or(ScpiError::MissingParameter)?)?;
        for i in channels {
            self.channels[i].output = on;
        }
        self.update_probe();
        Ok(Outcome::Done)
    }

    fn measure(&mut self, c: &Command<'_>, volts: bool) -> Result<Outcome, ScpiError> {
        let (values, channels) = self.channels_of(&c.params)?;
        params::at_most(values, 0)?;
        let readings: Vec<String> = channels
            .iter()
            .map(|&i| {
                let (v, a) = self.terminals(i);
                let reading = match (self.channels[i].output, volts) {
                    (false, _) => 0.0,
                    (true, true) => v + self.noise.gaussian(0.0003 + 1.0e-4 * v.abs()),
                    (true, false) => a + self.noise.gaussian(0.00002 + 2.0e-4 * a.abs()),
                };
                sci(reading, 8)
            })
            .collect();
        Ok(Outcome::text(readings.join(",")))
    }

    fn instrument_select(&mut self, c: &Command<'_>, numeric: bool) -> Result<Outcome, ScpiError> {
        if c.query {
            params::at_most(&c.params, 0)?;
            let n = self.selected + 1;
            return Ok(Outcome::text(if numeric {
                format!("+{n}")
            } else {
                format!("CH{n}")
            }));
        }
        params::at_most(&c.params, 1)?;
        let value = c.params.first().ok_or(ScpiError::MissingParameter)?;
        let index = if numeric {
            let n = params::numeric(value)?.resolve(1.0, 3.0, 1.0);
            if !(1.0..=3.0).contains(&n) || n.fract() != 0.0 {
                return Err(ScpiError::OutOfRange);
            }
            n as usize - 1
        } else {
            match value.to_ascii_uppercase().as_str() {
                "CH1" | "P6V" => 0,
                "CH2" | "P30V" => 1,
                "CH3" | "N30V" => 2,
                _ => return Err(ScpiError::IllegalValue),
            }
        };
        self.selected = index;
        Ok(Outcome::Done)
    }
}

impl Device for Psu {
    fn idn(&self) -> &str {
        PSU_IDN
    }

    fn reset(&mut self) {
        self.channels = CHANNELS
            .iter()
            .map(|&(_, _, _, amps)| Channel {
                volts: 0.0,
                amps,
                output: false,
            })
            .collect();
        self.selected = 0;
        self.noise.restart();
        self.update_probe();
    }

    fn execute(&mut self, c: &Command<'_>) -> Option<Outcome> {
        let result = if c.is("[SOURce]:VOLTage:[LEVel]:[IMMediate]:[AMPLitude]") {
            self.setting(c, true)
        } else if c.is("[SOURce]:CURRent:[LEVel]:[IMMediate]:[AMPLitude]") {
            self.setting(c, false)
        } else if c.is("OUTPut:[STATe]") {
            self.output(c)
        } else if c.query && c.is("MEASure:[SCALar]:VOLTage:[DC]") {
            self.measure(c, true)
        } else if c.query && c.is("MEASure:[SCALar]:CURRent:[DC]") {
            self.measure(c, false)
        } else if c.is("INSTrument:[SELect]") {
            self.instrument_select(c, false)
        } else if c.is("INSTrument:NSELect") {
            self.instrument_select(c, true)
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

    fn psu(seed: Option<u64>) -> (Machine, Probe) {
        let probe = Probe::default();
        let machine = Machine::new(Box::new(Psu::new(Noise::new(seed, "psu"), probe.clone())));
        (machine, probe)
    }

    fn ask(m: &mut Machine, line: &str) -> String {
        match m.handle_line(line) {
            Response::Message(bytes) => String::from_utf8(bytes).unwrap(),
            Response::Nothing => "<nothing>".to_owned(),
        }
    }

    #[test]
    fn idn_and_defaults() {
        let (mut m, _) = psu(None);
        assert_eq!(ask(&mut m, "*IDN?"), PSU_IDN);
        assert_eq!(
            ask(&mut m, "VOLT? (@1:3)"),
            "+0.00000000E+00,+0.00000000E+00,+0.00000000E+00"
        );
        assert_eq!(
            ask(&mut m, "CURR? (@1,2)"),
            "+5.00000000E+00,+1.00000000E+00"
        );
        assert_eq!(ask(&mut m, "OUTP? (@1)"), "0");
    }

    #[test]
    fn setpoints_round_trip_in_every_form() {
        let (mut m, _) = psu(None);
        assert_eq!(m.handle_line("VOLT 5.0, (@1)"), Response::Nothing);
        assert_eq!(
            m.handle_line(":source:voltage:level 12,(@2)"),
            Response::Nothing
        );
        assert_eq!(m.handle_line("CURR 0.1, (@1)"), Response::Nothing);
        assert_eq!(ask(&mut m, "VOLT? (@1)"), "+5.00000000E+00");
        assert_eq!(ask(&mut m, ":VOLTage? (@2)"), "+1.20000000E+01");
        assert_eq!(ask(&mut m, "CURR? (@1)"), "+1.00000000E-01");
        assert_eq!(ask(&mut m, "VOLT? MAX, (@1)"), "+6.18000000E+00");
        // No channel list: the selected channel.
        assert_eq!(ask(&mut m, "VOLT?"), "+5.00000000E+00");
        m.handle_line("INST CH2");
        assert_eq!(
            ask(&mut m, "VOLT?;:INST?;INST:NSEL?"),
            "+1.20000000E+01;CH2;+2"
        );
        m.handle_line("*RST");
        assert_eq!(
            ask(&mut m, "VOLT? (@1,2)"),
            "+0.00000000E+00,+0.00000000E+00"
        );
        assert_eq!(ask(&mut m, "SYST:ERR?"), "+0,\"No error\"");
    }

    #[test]
    fn measurements_follow_output_and_load() {
        let (mut m, probe) = psu(None);
        m.handle_line("VOLT 1.5, (@1);CURR 0.1, (@1)");
        assert_eq!(ask(&mut m, "MEAS:VOLT? (@1)"), "+0.00000000E+00");
        m.handle_line("OUTP:STAT ON, (@1)");
        assert_eq!(ask(&mut m, "OUTP? (@1)"), "1");
        assert_eq!(ask(&mut m, "MEAS:VOLT? (@1)"), "+1.50000000E+00");
        // 1.5 V across 30 ohm.
        assert_eq!(ask(&mut m, "MEAS:CURR? (@1)"), "+5.00000000E-02");
        assert_eq!(probe.get(), 1.5);
        // Current limit: 6 V / 30 ohm = 0.2 A > 0.1 A, so 0.1 A and 3 V.
        m.handle_line("VOLT 6, (@1)");
        assert_eq!(
            ask(&mut m, "MEAS:CURR? (@1);MEAS:VOLT? (@1)"),
            "+1.00000000E-01;+3.00000000E+00"
        );
        m.handle_line("OUTP OFF, (@1)");
        assert_eq!(ask(&mut m, "MEAS:VOLT? (@1)"), "+0.00000000E+00");
        assert_eq!(probe.get(), 0.0);
    }

    #[test]
    fn out_of_range_changes_nothing_and_queues_222() {
        let (mut m, _) = psu(None);
        m.handle_line("VOLT 2, (@1,2)");
        m.handle_line("VOLT 7, (@1,2)");
        m.handle_line("CURR -1, (@3)");
        assert_eq!(
            ask(&mut m, "VOLT? (@1,2)"),
            "+2.00000000E+00,+2.00000000E+00"
        );
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        m.handle_line("VOLT 1, (@4)");
        m.handle_line("VOLT");
        m.handle_line("OUTP MAYBE");
        m.handle_line("VOLT 1, 2, (@1)");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-109,\"Missing parameter\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-224,\"Illegal parameter value\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-108,\"Parameter not allowed\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "+0,\"No error\"");
    }

    #[test]
    fn seeded_noise_is_deterministic_and_small() {
        let run = |seed| {
            let (mut m, _) = psu(seed);
            m.handle_line("VOLT 5, (@1);OUTP ON, (@1)");
            (0..5)
                .map(|_| ask(&mut m, "MEAS:VOLT? (@1)"))
                .collect::<Vec<_>>()
        };
        let a = run(Some(42));
        assert_eq!(a, run(Some(42)));
        assert_ne!(a, run(Some(43)));
        assert!(a.iter().any(|r| r != "+5.00000000E+00"), "{a:?}");
        for reading in &a {
            let v: f64 = reading.parse().unwrap();
            assert!((v - 5.0).abs() < 0.005, "{reading}");
        }
        assert!(run(None).iter().all(|r| r == "+5.00000000E+00"));
        // `*RST` starts the noise over: what ran before does not matter.
        let (mut m, _) = psu(Some(42));
        m.handle_line("VOLT 1, (@2);OUTP ON, (@2);MEAS:VOLT? (@2);MEAS:VOLT? (@2)");
        m.handle_line("*RST;VOLT 5, (@1);OUTP ON, (@1)");
        let after: Vec<String> = (0..5).map(|_| ask(&mut m, "MEAS:VOLT? (@1)")).collect();
        assert_eq!(after, a);
    }
}
