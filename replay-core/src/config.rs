//! The bench config (`bench.yaml`): which instruments exist and how to reach them.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::matching::MatchConfig;
use crate::safety::{Limit, RedactRule, check_secret_name};
use crate::session::__wire::Ordered;
use crate::transport::DEFAULT_MAX_RESPONSE;

/// Default instrument timeout when `timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed `bench.yaml`.
///
/// ```yaml
/// redact:                         # optional, every instrument: regex → replacement
///   - {pattern: 'CN\d{8}', replace: '<serial>'}
/// secrets: [LAB_TOKEN]            # optional, every instrument: env vars recorded as ${NAME}
/// instruments:
///   psu:
///     address: TCPIP0::192.168.1.100::5025::SOCKET
///     profile: keysight/EDU36311A   # optional, copied into the session
///     timeout: 2.5                  # optional, seconds (float), default 5
///     terminators: "\r\n"           # optional: one string for both, or {read, write}
///     max_response: 1048576         # optional, bytes, default 64 MiB
///     limits:                       # optional safety limits, also enforced in replay
///       - {command: 'SOURce:VOLTage', max: 6.0}
///       - {command: 'CURRent', min: 0, max: 1.0}
///     redact: []                    # optional, this instrument only (after the bench's)
///     secrets: []                   # optional, this instrument only
///     matching: scpi                # optional replay rules, copied into the session:
///     tolerance: 1.0e-6             #   see docs/matching.md
///     keywords: [CHANnel]
///     ignore: ['SYST:ERR?']
///     repeatable: ['*IDN?']
///   dmm:
///     address: ASRL/dev/ttyUSB0::INSTR
///     baud_rate: 115200             # optional, serial only, default 9600
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BenchConfig {
    /// Where the config was read from (for messages).
    pub path: PathBuf,
    /// The instruments, in file order.
    pub instruments: Vec<(String, InstrumentConfig)>,
}

/// One instrument of the bench config.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InstrumentConfig {
    /// VISA resource string (`TCPIP0::host::5025::SOCKET`, `ASRL/dev/ttyUSB0::INSTR`).
    pub address: String,
    /// Instrument profile, recorded into the session.
    pub profile: Option<String>,
    /// How long to wait for a response.
    pub timeout: Duration,
    /// Message terminators.
    pub terminators: Terminators,
    /// Serial baud rate (serial addresses only).
    pub baud_rate: u32,
    /// The largest response accepted, in bytes (`max_response`, default
    /// [`DEFAULT_MAX_RESPONSE`]). Transports read it through
    /// [`Transport::set_max_response`](crate::Transport::set_max_response).
    pub max_response: usize,
    /// Safety limits (`limits`).
    pub limits: Vec<Limit>,
    /// Redaction rules: the bench's, then the instrument's own.
    pub redact: Vec<RedactRule>,
    /// Secret environment variable names: the bench's, then the instrument's own.
    pub secrets: Vec<String>,
    /// Matching rules for replaying this instrument (`matching`, `tolerance`, `keywords`,
    /// `ignore`, `repeatable`), copied into the cassette.
    pub matching: Option<MatchConfig>,
}

/// Message terminators of an instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Terminators {
    /// Appended to every command sent.
    pub write: String,
    /// Ends every response read. With `\n`, a preceding `\r` is stripped too, so CRLF and LF
    /// instruments both work with the default.
    pub read: String,
}

impl Terminators {
    /// `write` appended to every command, `read` ending every response.
    pub fn new(write: impl Into<String>, read: impl Into<String>) -> Terminators {
        Terminators {
            write: write.into(),
            read: read.into(),
        }
    }
}

impl InstrumentConfig {
    /// An instrument at `address` with the defaults of an entry that gives only its
    /// address: no profile, [`DEFAULT_TIMEOUT`], `\n` terminators, 9600 baud,
    /// [`DEFAULT_MAX_RESPONSE`](crate::transport::DEFAULT_MAX_RESPONSE), no limits, redaction
    /// rules or secrets.
    pub fn new(address: impl Into<String>) -> InstrumentConfig {
        InstrumentConfig {
            address: address.into(),
            profile: None,
            timeout: DEFAULT_TIMEOUT,
            terminators: Terminators::default(),
            baud_rate: 9600,
            max_response: crate::transport::DEFAULT_MAX_RESPONSE,
            limits: Vec::new(),
            redact: Vec::new(),
            secrets: Vec::new(),
            matching: None,
        }
    }
}

impl Default for Terminators {
    fn default() -> Self {
        Terminators {
            write: "\n".to_owned(),
            read: "\n".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireConfig {
    #[serde(default)]
    redact: Vec<RedactRule>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    instruments: Option<Ordered<WireInstrument>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireInstrument {
    address: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    terminators: Option<WireTerminators>,
    #[serde(default)]
    baud_rate: Option<u32>,
    #[serde(default)]
    max_response: Option<u64>,
    #[serde(default)]
    limits: Vec<Limit>,
    #[serde(default)]
    redact: Vec<RedactRule>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    matching: Option<String>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    repeatable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireTerminators {
    Both(String),
    Split {
        #[serde(default)]
        read: Option<String>,
        #[serde(default)]
        write: Option<String>,
    },
}

const CONFIG_HINT: &str = "the bench config looks like:\n  instruments:\n    psu:\n      address: TCPIP0::192.168.1.100::5025::SOCKET\n      profile: keysight/EDU36311A   # optional\n      timeout: 5.0                  # optional, seconds";

impl BenchConfig {
    /// A bench of `instruments` (alias and config, in order); `path` is named in messages.
    pub fn new(path: impl Into<PathBuf>, instruments: Vec<(String, InstrumentConfig)>) -> Self {
        BenchConfig {
            path: path.into(),
            instruments,
        }
    }

    /// Reads and validates a bench config file. Blocking file I/O: from async code, call it
    /// through `tokio::task::spawn_blocking` (as [`Bench::record`](crate::Bench::record)
    /// does).
    pub fn load(path: impl AsRef<Path>) -> Result<BenchConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                Error::File {
                    action: "read bench config",
                    path: path.to_owned(),
                    source: io::Error::new(
                        io::ErrorKind::NotFound,
                        "no such file: recording needs a bench config naming the instruments \
                         (see \"Bench config\" in docs/guide.md); set `REPLAY_BENCH` or `bench = \"…\"` to use another file",
                    ),
                }
            } else {
                Error::File {
                    action: "read bench config",
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        BenchConfig::parse(path, &text)
    }

    /// Parses bench config text; `path` is used in messages.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<BenchConfig> {
        let path = path.as_ref();
        let malformed = |line, column, message: String| {
            Error::malformed(
                "bench config",
                path,
                text,
                line,
                column,
                message,
                CONFIG_HINT,
            )
        };
        let wire: WireConfig = if text.trim().is_empty() {
            WireConfig {
                redact: Vec::new(),
                secrets: Vec::new(),
                instruments: None,
            }
        } else {
            yaml_serde::from_str(text)
                .map_err(|e| Error::from_yaml("bench config", path, text, &e, CONFIG_HINT))?
        };
        let Some(Ordered(wire_instruments)) = wire.instruments else {
            return Err(malformed(
                1,
                1,
                "no `instruments` are configured".to_owned(),
            ));
        };
        for name in &wire.secrets {
            if let Err(message) = check_secret_name(name) {
                let (line, column) = line_of_top(text, "secrets:");
                return Err(malformed(line, column, message));
            }
        }
        let mut instruments = Vec::with_capacity(wire_instruments.len());
        for (alias, inst) in wire_instruments {
            let line_of = |needle: &str| line_of(text, &alias, needle);
            let timeout = match inst.timeout {
                None => DEFAULT_TIMEOUT,
                Some(secs) if secs.is_finite() && secs > 0.0 && secs < 1.0e6 => {
                    Duration::from_secs_f64(secs)
                }
                Some(secs) => {
                    let (line, column) = line_of("timeout:");
                    return Err(malformed(
                        line,
                        column,
                        format!(
                            "`timeout` of `{alias}` must be a positive number of seconds, not `{secs}`"
                        ),
                    ));
                }
            };
            let terminators = match inst.terminators {
                None => Terminators::default(),
                Some(WireTerminators::Both(both)) => Terminators {
                    write: both.clone(),
                    read: both,
                },
                Some(WireTerminators::Split { read, write }) => {
                    let default = Terminators::default();
                    Terminators {
                        write: write.unwrap_or(default.write),
                        read: read.unwrap_or(default.read),
                    }
                }
            };
            if terminators.read.is_empty() {
                let (line, column) = line_of("terminators:");
                return Err(malformed(
                    line,
                    column,
                    format!("the read terminator of `{alias}` is empty; use \"\\n\" or \"\\r\\n\""),
                ));
            }
            let max_response = match inst.max_response {
                None => DEFAULT_MAX_RESPONSE,
                Some(bytes) => match usize::try_from(bytes) {
                    Ok(bytes) if bytes > 0 => bytes,
                    _ => {
                        let (line, column) = line_of("max_response:");
                        return Err(malformed(
                            line,
                            column,
                            format!(
                                "`max_response` of `{alias}` must be a positive number of bytes that fits in memory, not `{bytes}` (the default is {DEFAULT_MAX_RESPONSE})"
                            ),
                        ));
                    }
                },
            };
            for name in &inst.secrets {
                if let Err(message) = check_secret_name(name) {
                    let (line, column) = line_of("secrets:");
                    return Err(malformed(line, column, message));
                }
            }
            let mut secrets = wire.secrets.clone();
            for name in inst.secrets {
                if !secrets.contains(&name) {
                    secrets.push(name);
                }
            }
            let mut redact = wire.redact.clone();
            redact.extend(inst.redact);
            let key = match (&inst.matching, &inst.ignore, &inst.repeatable) {
                (Some(_), _, _) => "matching:",
                (None, i, _) if !i.is_empty() => "ignore:",
                (None, _, r) if !r.is_empty() => "repeatable:",
                _ => "tolerance:",
            };
            let matching = match MatchConfig::from_keys(
                inst.matching.as_deref(),
                inst.tolerance,
                inst.keywords,
                inst.ignore,
                inst.repeatable,
            ) {
                Ok(config) => (!config.is_empty()).then_some(config),
                Err(message) => {
                    let (line, column) = line_of(key);
                    return Err(malformed(
                        line,
                        column,
                        format!("the matching rules of `{alias}`: {message}"),
                    ));
                }
            };
            instruments.push((
                alias,
                InstrumentConfig {
                    address: inst.address,
                    profile: inst.profile,
                    timeout,
                    terminators,
                    baud_rate: inst.baud_rate.unwrap_or(9600),
                    max_response,
                    limits: inst.limits,
                    redact,
                    secrets,
                    matching,
                },
            ));
        }
        Ok(BenchConfig {
            path: path.to_owned(),
            instruments,
        })
    }

    /// The config of `alias`, if configured.
    pub fn instrument(&self, alias: &str) -> Option<&InstrumentConfig> {
        self.instruments
            .iter()
            .find(|(name, _)| name == alias)
            .map(|(_, c)| c)
    }
}

/// Best-effort position of a top-level key, for messages.
fn line_of_top(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .position(|line| line.starts_with(needle))
        .map_or((1, 1), |n| (n + 1, needle.len() + 2))
}

/// Best-effort position of `needle` inside the block of `alias`, for messages.
fn line_of(text: &str, alias: &str, needle: &str) -> (usize, usize) {
    let mut in_alias = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&format!("{alias}:")) {
            in_alias = true;
        } else if in_alias && trimmed.starts_with(needle) {
            let column = line.len() - trimmed.len() + needle.len() + 2;
            return (number + 1, column);
        }
    }
    (1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_order() {
        let cfg = BenchConfig::parse(
            "bench.yaml",
            "instruments:\n  psu:\n    address: TCPIP0::127.0.0.1::5025::SOCKET\n    profile: keysight/EDU36311A\n  dmm:\n    address: TCPIP::localhost::5026::SOCKET\n    timeout: 0.25\n    terminators: \"\\r\\n\"\n",
        )
        .unwrap();
        let names: Vec<_> = cfg.instruments.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["psu", "dmm"]);
        let psu = cfg.instrument("psu").unwrap();
        assert_eq!(psu.timeout, DEFAULT_TIMEOUT);
        assert_eq!(psu.terminators, Terminators::default());
        let dmm = cfg.instrument("dmm").unwrap();
        assert_eq!(dmm.timeout, Duration::from_millis(250));
        assert_eq!(dmm.terminators.read, "\r\n");
    }

    #[test]
    fn split_terminators() {
        let cfg = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    terminators: {write: \"\\r\"}\n",
        )
        .unwrap();
        let a = cfg.instrument("a").unwrap();
        assert_eq!(a.terminators.write, "\r");
        assert_eq!(a.terminators.read, "\n");
    }

    #[test]
    fn unknown_key_reports_position() {
        let err = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    timout: 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("bench config `b.yaml:4:"), "{err}");
        assert!(err.contains("timout"), "{err}");
    }

    #[test]
    fn bad_timeout_is_rejected() {
        let err = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    timeout: -1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("b.yaml:4:"), "{err}");
        assert!(err.contains("positive number of seconds"), "{err}");
    }

    #[test]
    fn safety_keys_merge_bench_wide_and_per_instrument() {
        let cfg = BenchConfig::parse(
            "b.yaml",
            "redact:\n  - {pattern: 'CN\\d{8}', replace: '<serial>'}\nsecrets: [LAB_TOKEN]\ninstruments:\n  psu:\n    address: x\n    max_response: 4096\n    limits:\n      - {command: 'SOURce:VOLTage', max: 6.0}\n      - {command: CURRent, min: 0, max: 1.0}\n    redact:\n      - {pattern: 'host\\w+', replace: '<host>'}\n    secrets: [PSU_PIN, LAB_TOKEN]\n  dmm:\n    address: y\n",
        )
        .unwrap();
        let psu = cfg.instrument("psu").unwrap();
        assert_eq!(psu.max_response, 4096);
        assert_eq!(psu.limits.len(), 2);
        assert_eq!(psu.limits[1].min(), Some(0.0));
        let patterns: Vec<_> = psu.redact.iter().map(RedactRule::pattern).collect();
        assert_eq!(patterns, [r"CN\d{8}", r"host\w+"]);
        assert_eq!(psu.secrets, ["LAB_TOKEN", "PSU_PIN"]);
        let dmm = cfg.instrument("dmm").unwrap();
        assert_eq!(dmm.max_response, DEFAULT_MAX_RESPONSE);
        assert!(dmm.limits.is_empty());
        assert_eq!(dmm.redact.len(), 1);
        assert_eq!(dmm.secrets, ["LAB_TOKEN"]);
    }

    #[test]
    fn bad_safety_keys_are_reported_with_positions() {
        let bad_regex = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    redact:\n      - {pattern: '(', replace: x}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(bad_regex.contains("b.yaml:5:"), "{bad_regex}");
        assert!(
            bad_regex.contains("not a valid regular expression"),
            "{bad_regex}"
        );
        let no_bound = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    limits:\n      - {command: VOLT}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(no_bound.contains("b.yaml:5:"), "{no_bound}");
        assert!(no_bound.contains("neither `min` nor `max`"), "{no_bound}");
        let value = BenchConfig::parse(
            "b.yaml",
            "secrets: ['hunter2!']\ninstruments:\n  a:\n    address: x\n",
        )
        .unwrap_err()
        .to_string();
        assert!(value.contains("b.yaml:1:"), "{value}");
        assert!(value.contains("not their values"), "{value}");
        let zero = BenchConfig::parse(
            "b.yaml",
            "instruments:\n  a:\n    address: x\n    max_response: 0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(zero.contains("b.yaml:4:"), "{zero}");
        assert!(zero.contains("positive number of bytes"), "{zero}");
    }

    #[test]
    fn empty_config_is_an_error() {
        let err = BenchConfig::parse("b.yaml", "").unwrap_err().to_string();
        assert!(err.contains("no `instruments`"), "{err}");
    }
}
