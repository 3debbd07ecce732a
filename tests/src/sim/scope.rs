//! The simulated four-channel oscilloscope (Keysight DSOX1204G).

use std::f64::consts::TAU;

use replay_harness::transport::encode_block;

use super::errors::ScpiError;
use super::format::{eng, sci};
use super::machine::{Device, Outcome};
use super::noise::Noise;
use super::params;
use super::scpi::{Command, suffixed};

/// `*IDN?` of the simulated oscilloscope.
pub const SCOPE_IDN: &str = "KEYSIGHT TECHNOLOGIES,DSOX1204G,CN60000001,02.12.2021071625";

/// The signal on each input: (peak-to-peak volts, frequency in Hz, volts per division).
const SIGNALS: [(f64, f64, f64); 4] = [
    (0.28, 1.0e3, 0.05),
    (1.0, 2.0e3, 0.2),
    (3.3, 500.0, 0.5),
    (5.0, 10.0e3, 1.0),
];

/// Waveform points: the smallest and largest `:WAV:POIN`, and the power-on value.
const POINTS: (f64, f64, f64) = (1.0, 62_500.0, 1000.0);

/// How many leading points of every waveform are the calibration ramp.
pub(crate) const RAMP_POINTS: usize = 256;

/// The oscilloscope: timebase, waveform source, format and point count; each input
/// carries a fixed sine wave.
pub(crate) struct Scope {
    timebase: f64,
    source: usize,
    points: usize,
    noise: Noise,
}

impl Scope {
    /// An oscilloscope at its power-on settings.
    pub(crate) fn new(noise: Noise) -> Scope {
        let mut scope = Scope {
            timebase: 0.0,
            source: 0,
            points: 0,
            noise,
        };
        scope.reset();
        scope
    }

    /// Seconds between two waveform points.
    fn x_increment(&self) -> f64 {
        10.0 * self.timebase / self.points as f64
    }

    /// Volts per code of the BYTE format (8 divisions over 256 codes).
    fn y_increment(&self) -> f64 {
        8.0 * SIGNALS[self.source].2 / 256.0
    }

    /// The `:WAV:DATA?` payload in BYTE format: a ramp through every code `0x00..=0xFF`
    /// over the first [`RAMP_POINTS`] points (so the block holds `\n`, `\r` and `#` at
    /// known places), then the source's sine wave centred on code 128.
    pub(crate) fn waveform(&mut self) -> Vec<u8> {
        let (vpp, hz, _) = SIGNALS[self.source];
        let (dx, dy) = (self.x_increment(), self.y_increment());
        (0..self.points)
            .map(|i| {
                if i < RAMP_POINTS {
                    return i as u8;
                }
                let volts = vpp / 2.0 * (TAU * hz * dx * i as f64).sin();
                let code = 128.0 + volts / dy + self.noise.gaussian(0.5);
                code.round().clamp(0.0, 255.0) as u8
            })
            .collect()
    }

    fn channel(&self, text: &str) -> Result<usize, ScpiError> {
        match suffixed("CHANnel", text) {
            Some(n @ 1..=4) => Ok(n as usize - 1),
            Some(_) => Err(ScpiError::OutOfRange),
            None => Err(ScpiError::IllegalValue),
        }
    }

    fn run(&mut self, c: &Command<'_>) -> Result<Outcome, ScpiError> {
        let no_params = |max| params::at_most(&c.params, max);
        if c.is("TIMebase:[MAIN]:SCALe") {
            if c.query {
                no_params(0)?;
                return Ok(Outcome::text(sci(self.timebase, 3)));
            }
            no_params(1)?;
            let value = params::numeric(c.params.first().ok_or(ScpiError::MissingParameter)?)?
                .resolve(5.0e-9, 50.0, 1.0e-3);
            if !(5.0e-9..=50.0).contains(&value) {
                return Err(ScpiError::OutOfRange);
            }
            self.timebase = value;
            return Ok(Outcome::Done);
        }
        if c.is("WAVeform:SOURce") {
            if c.query {
                no_params(0)?;
                return Ok(Outcome::text(format!("CHAN{}", self.source + 1)));
            }
            no_params(1)?;
            self.source = self.channel(c.params.first().ok_or(ScpiError::MissingParameter)?)?;
            return Ok(Outcome::Done);
        }
        if c.is("WAVeform:FORMat") {
            if c.query {
                no_params(0)?;
                return Ok(Outcome::text("BYTE"));
            }
            no_params(1)?;
            // Only the BYTE format is simulated; WORD and ASCii are refused.
            return match c.params.first() {
                None => Err(ScpiError::MissingParameter),
                Some(p) if p.eq_ignore_ascii_case("BYTE") => Ok(Outcome::Done),
                Some(_) => Err(ScpiError::IllegalValue),
            };
        }
        if c.is("WAVeform:POINts") {
            if c.query {
                no_params(0)?;
                return Ok(Outcome::text(self.points.to_string()));
            }
            no_params(1)?;
            let (min, max, default) = POINTS;
            let value = params::numeric(c.params.first().ok_or(ScpiError::MissingParameter)?)?
                .resolve(min, max, default)
                .round();
            if !(min..=max).contains(&value) {
                return Err(ScpiError::OutOfRange);
            }
            self.points = value as usize;
            return Ok(Outcome::Done);
        }
        if c.query && c.is("WAVeform:DATA") {
            no_params(0)?;
            return Ok(Outcome::Reply(encode_block(&self.waveform())));
        }
        if c.query && c.is("WAVeform:PREamble") {
            no_params(0)?;
            let preamble = [
                "+0".to_owned(), // format BYTE
                "+0".to_owned(), // type NORMal
                format!("+{}", self.points),
                "+1".to_owned(),
                sci(self.x_increment(), 8),
                sci(-5.0 * self.timebase, 8),
                "+0".to_owned(),
                sci(self.y_increment(), 8),
                sci(0.0, 8),
                "+128".to_owned(),
            ];
            return Ok(Outcome::text(preamble.join(",")));
        }
        if c.query && c.is("MEASure:VPP") {
            no_params(1)?;
            let channel = match c.params.first() {
                Some(p) => self.channel(p)?,
                None => 0,
            };
            let vpp = SIGNALS[channel].0;
            return Ok(Outcome::text(eng(vpp + self.noise.gaussian(0.002 * vpp))));
        }
        if !c.query && (c.is("RUN") || c.is("STOP") || c.is("SINGle") || c.is("AUToscale")) {
            no_params(0)?;
            return Ok(Outcome::Done);
        }
        if !c.query && c.is("DIGitize") {
            for p in &c.params {
                self.channel(p)?;
            }
            return Ok(Outcome::Done);
        }
        Err(ScpiError::UndefinedHeader)
    }
}

impl Device for Scope {
    fn idn(&self) -> &str {
        SCOPE_IDN
    }

    fn reset(&mut self) {
        self.timebase = 1.0e-3;
        self.source = 0;
        self.points = POINTS.2 as usize;
        self.noise.restart();
    }

    fn execute(&mut self, c: &Command<'_>) -> Option<Outcome> {
        match self.run(c) {
            Err(ScpiError::UndefinedHeader) => None,
            result => Some(result.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::machine::{Machine, Response};
    use super::*;

    fn scope(seed: Option<u64>) -> Machine {
        Machine::new(Box::new(Scope::new(Noise::new(seed, "scope"))))
    }

    fn reply(m: &mut Machine, line: &str) -> Vec<u8> {
        match m.handle_line(line) {
            Response::Message(bytes) => bytes,
            Response::Nothing => b"<nothing>".to_vec(),
        }
    }

    fn ask(m: &mut Machine, line: &str) -> String {
        String::from_utf8(reply(m, line)).unwrap()
    }

    #[test]
    fn settings_round_trip() {
        let mut m = scope(None);
        assert_eq!(ask(&mut m, "*IDN?"), SCOPE_IDN);
        assert_eq!(ask(&mut m, ":TIM:SCAL?"), "+1.000E-03");
        m.handle_line(":TIMebase:SCALe 2e-6");
        assert_eq!(ask(&mut m, ":timebase:main:scale?"), "+2.000E-06");
        m.handle_line(":WAV:SOUR CHAN3;:WAV:FORM BYTE;:WAV:POIN 500");
        assert_eq!(ask(&mut m, ":WAV:SOUR?;POIN?;FORM?"), "CHAN3;500;BYTE");
        m.handle_line(":WAV:SOUR CHAN5");
        m.handle_line(":WAV:FORM WORD");
        m.handle_line(":TIM:SCAL 100");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-224,\"Illegal parameter value\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "-222,\"Data out of range\"");
        assert_eq!(ask(&mut m, "SYST:ERR?"), "+0,\"No error\"");
    }

    #[test]
    fn waveform_block_holds_every_byte() {
        let mut m = scope(None);
        let block = reply(&mut m, ":WAV:DATA?");
        assert!(block.starts_with(b"#41000"), "{:?}", &block[..8]);
        let payload = &block[6..];
        assert_eq!(payload.len(), 1000);
        for byte in 0..=255u8 {
            assert!(payload.contains(&byte), "{byte:#04x} missing");
        }
        assert_eq!(&payload[..256], (0..=255u8).collect::<Vec<_>>());
        // The sine of CHAN1: 280 mVpp at 1.5625 mV per code, about 90 codes each side.
        let sine = &payload[RAMP_POINTS..];
        let (lo, hi) = (*sine.iter().min().unwrap(), *sine.iter().max().unwrap());
        assert!(
            (37..=39).contains(&lo) && (217..=219).contains(&hi),
            "{lo} {hi}"
        );
        // Deterministic without a seed, and the length follows :WAV:POIN.
        assert_eq!(reply(&mut m, ":WAV:DATA?"), block);
        m.handle_line(":WAV:POIN 100");
        let short = reply(&mut m, ":WAV:DATA?");
        assert_eq!(&short[..5], b"#3100");
        assert_eq!(short.len(), 105);
    }

    #[test]
    fn preamble_and_vpp() {
        let mut m = scope(None);
        assert_eq!(
            ask(&mut m, ":WAV:PRE?"),
            "+0,+0,+1000,+1,+1.00000000E-05,-5.00000000E-03,+0,+1.56250000E-03,+0.00000000E+00,+128"
        );
        assert_eq!(ask(&mut m, ":MEAS:VPP? CHAN1"), "+280E-03");
        assert_eq!(ask(&mut m, ":MEASure:VPP? CHANnel4"), "+5.00E+00");
        assert_eq!(ask(&mut m, ":MEAS:VPP?"), "+280E-03");
        assert_eq!(
            m.handle_line(":RUN;:STOP;:SINGle;:DIG CHAN1"),
            Response::Nothing
        );
        assert_eq!(ask(&mut m, "SYST:ERR?"), "+0,\"No error\"");
    }

    #[test]
    fn seeded_waveforms_repeat_per_seed() {
        let run = |seed| {
            let mut m = scope(seed);
            (reply(&mut m, ":WAV:DATA?"), ask(&mut m, ":MEAS:VPP? CHAN1"))
        };
        let a = run(Some(9));
        assert_eq!(a, run(Some(9)));
        assert_ne!(a.0, run(None).0);
    }
}
