//! Recording: live instruments whose every exchange is logged with its outcome.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::address::{self, Address};
use crate::config::{BenchConfig, InstrumentConfig};
use crate::error::{Error, Result};
use crate::instrument::Outcome;
use crate::safety::{Guard, RedactRule};
use crate::session::{
    InstrumentLog, InstrumentRules, Interaction, InteractionKind, RecordedError, RecordedErrorKind,
    Session,
};
use crate::transport::{BoxFuture, ResponseTooLarge, Transport};

/// Opens a transport for a custom address scheme.
pub type ConnectFn = dyn Fn(&str, &InstrumentConfig) -> BoxFuture<'static, io::Result<Box<dyn Transport>>>
    + Send
    + Sync;

/// Options for [`Bench::record_with`](crate::Bench::record_with).
#[derive(Default)]
pub struct RecordOptions {
    pub(crate) transports: HashMap<String, Box<dyn Transport>>,
    pub(crate) connectors: Vec<(String, Arc<ConnectFn>)>,
    pub(crate) redact: Vec<RedactRule>,
    pub(crate) secrets: Vec<String>,
}

impl RecordOptions {
    /// Adds redaction rules for every instrument, applied before the bench config's (the
    /// harness passes those of `.config/replay.toml`).
    pub fn redact(mut self, rules: impl IntoIterator<Item = RedactRule>) -> Self {
        self.redact.extend(rules);
        self
    }

    /// Declares secrets (environment variable names) for every instrument, besides the
    /// bench config's. Invalid names are an error when the bench is created.
    pub fn secrets<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(names.into_iter().map(Into::into));
        self
    }

    /// Uses `transport` for instrument `alias` instead of connecting to its address.
    pub fn transport(mut self, alias: impl Into<String>, transport: impl Transport) -> Self {
        self.transports.insert(alias.into(), Box::new(transport));
        self
    }

    /// Serves addresses whose scheme is `scheme` (`USB`, `GPIB`, …; case-insensitive) with
    /// `connect`, which receives the address and the instrument's config.
    pub fn connector<F>(mut self, scheme: impl Into<String>, connect: F) -> Self
    where
        F: Fn(&str, &InstrumentConfig) -> BoxFuture<'static, io::Result<Box<dyn Transport>>>
            + Send
            + Sync
            + 'static,
    {
        self.connectors
            .push((scheme.into().to_ascii_uppercase(), Arc::new(connect)));
        self
    }
}

/// The shared state of a recording: one clock and the logs of every instrument used.
pub(crate) struct Recorder {
    start: Instant,
    config: BenchConfig,
    logs: Mutex<Vec<(String, InstrumentLog)>>,
}

impl Recorder {
    pub(crate) fn new(config: BenchConfig) -> Recorder {
        Recorder {
            start: Instant::now(),
            config,
            logs: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> &BenchConfig {
        &self.config
    }

    /// Seconds since the session started, rounded to microseconds.
    fn now(&self) -> f64 {
        (self.start.elapsed().as_secs_f64() * 1e6).round() / 1e6
    }

    fn push(&self, alias: &str, interaction: Interaction) {
        let mut logs = lock(&self.logs);
        if let Some((_, log)) = logs.iter_mut().find(|(a, _)| a == alias) {
            log.log.push(interaction);
        }
    }

    fn register(&self, alias: &str, profile: Option<String>, rules: InstrumentRules) {
        let mut logs = lock(&self.logs);
        if !logs.iter().any(|(a, _)| a == alias) {
            logs.push((
                alias.to_owned(),
                InstrumentLog {
                    profile,
                    rules,
                    log: Vec::new(),
                },
            ));
        }
    }

    /// The session recorded so far, instruments in bench-config order.
    pub(crate) fn session(&self) -> Session {
        let logs = lock(&self.logs);
        let mut instruments: Vec<(String, InstrumentLog)> = logs.clone();
        let order = |alias: &str| {
            self.config
                .instruments
                .iter()
                .position(|(a, _)| a == alias)
                .unwrap_or(usize::MAX)
        };
        instruments.sort_by_key(|(alias, _)| order(alias));
        Session { instruments }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of our locks cannot leave the data half-updated (every
    // critical section is a single push or read), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

enum Opener {
    Given(Option<Box<dyn Transport>>),
    Tcp {
        host: String,
        port: u16,
    },
    #[cfg(feature = "serial")]
    Serial {
        device: String,
    },
    /// VXI-11 or HiSLIP.
    Lan(Address),
    Custom(Arc<ConnectFn>),
    /// A simulated device, shared by every connection so its state lives for the bench.
    #[cfg(feature = "sim")]
    Sim(Arc<Mutex<crate::sim::SimDevice>>),
}

/// A live instrument being recorded.
pub(crate) struct LiveInstrument {
    alias: String,
    config: InstrumentConfig,
    recorder: Arc<Recorder>,
    finished: Arc<AtomicBool>,
    session_path: std::path::PathBuf,
    guard: Guard,
    state: tokio::sync::Mutex<(Opener, Option<Box<dyn Transport>>)>,
}

impl LiveInstrument {
    /// Prepares `alias` (validating its address) without connecting yet.
    pub(crate) fn new(
        alias: &str,
        recorder: Arc<Recorder>,
        finished: Arc<AtomicBool>,
        session_path: std::path::PathBuf,
        options: &mut RecordOptions,
    ) -> Result<LiveInstrument> {
        let Some(config) = recorder.config().instrument(alias).cloned() else {
            let known = recorder
                .config()
                .instruments
                .iter()
                .map(|(a, _)| a.clone())
                .collect();
            return Err(Error::UnknownInstrument {
                alias: alias.to_owned(),
                where_: format!("bench config `{}`", recorder.config().path.display()),
                known,
                hint:
                    "add it under `instruments:` in the bench config, or fix the alias in the test"
                        .to_owned(),
            });
        };
        let base = recorder
            .config()
            .path
            .parent()
            .map(std::path::Path::to_owned);
        let opener = opener_for(alias, &config, base.as_deref(), options)?;
        let mut rules = InstrumentRules::default();
        rules.limits.clone_from(&config.limits);
        rules.redact = options
            .redact
            .iter()
            .chain(&config.redact)
            .cloned()
            .collect();
        for name in options.secrets.iter().chain(&config.secrets) {
            if !rules.secrets.contains(name) {
                rules.secrets.push(name.clone());
            }
        }
        let guard = Guard::new(&rules);
        recorder.register(alias, config.profile.clone(), rules);
        Ok(LiveInstrument {
            alias: alias.to_owned(),
            config,
            recorder,
            finished,
            session_path,
            guard,
            state: tokio::sync::Mutex::new((opener, None)),
        })
    }

    pub(crate) fn profile(&self) -> Option<&str> {
        self.config.profile.as_deref()
    }

    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Performs one exchange, records it, and returns its outcome.
    ///
    /// `command` is what the test wrote (`${NAME}` of secrets expanded before sending);
    /// `shown` is its redacted form, the only one recorded or put in an error. Responses
    /// are redacted before they are recorded or returned, so the test sees what replay
    /// will give it.
    pub(crate) async fn exchange(
        &self,
        kind: InteractionKind,
        command: &str,
        shown: &str,
    ) -> Result<Outcome> {
        if self.finished.load(Ordering::SeqCst) {
            return Err(Error::Finished {
                path: self.session_path.clone(),
            });
        }
        let wire_command = self.guard.expand(&self.alias, command, shown)?;
        let mut state = self.state.lock().await;
        let (opener, transport) = &mut *state;
        if transport.is_none() {
            let mut connected = self.connect(opener).await?;
            connected.set_max_response(self.config.max_response);
            *transport = Some(connected);
        }
        let Some(t) = transport.as_mut() else {
            unreachable!("connected above")
        };
        let timestamp = self.recorder.now();
        let timeout = self.config.timeout;
        let max_response = self.config.max_response;
        let result = tokio::time::timeout(timeout, async {
            t.send(&wire_command).await?;
            let response = match kind {
                InteractionKind::Write => None,
                InteractionKind::QueryRaw => Some(t.receive_block().await?),
                _ => Some(t.receive().await?),
            };
            // A transport that ignores `set_max_response` still gets no oversized answer
            // past this point.
            match response {
                Some(bytes) if bytes.len() > max_response => {
                    Err(ResponseTooLarge::text(max_response).into_io())
                }
                response => Ok(response),
            }
        })
        .await;
        // A transport that enforces the instrument's timeout itself (VXI-11 sends it to the
        // instrument with every call) reports it as `TimedOut`: the same outcome.
        let result = match result {
            Ok(Err(e)) if e.kind() == io::ErrorKind::TimedOut => Err(()),
            Ok(r) => Ok(r),
            Err(_elapsed) => Err(()),
        };
        let mut interaction = Interaction {
            kind: kind.clone(),
            command: shown.to_owned(),
            response: None,
            binary: None,
            error: None,
            timestamp,
        };
        let outcome = match result {
            Ok(Ok(None)) => Ok(Outcome::Done),
            Ok(Ok(Some(bytes))) if kind == InteractionKind::QueryRaw => {
                let bytes = self.guard.block(bytes);
                interaction.response = Some(String::from_utf8_lossy(&bytes).into_owned());
                interaction.binary = Some(bytes.clone());
                Ok(Outcome::Block(bytes))
            }
            Ok(Ok(Some(bytes))) => match text_response(bytes) {
                Ok(text) => {
                    let text = self.guard.text(&text).into_owned();
                    interaction.response = Some(text.clone());
                    Ok(Outcome::Text(text))
                }
                Err(source) => {
                    interaction.error = Some(RecordedError {
                        kind: RecordedErrorKind::Io,
                        message: source.to_string(),
                    });
                    Err(Error::Io {
                        alias: self.alias.clone(),
                        command: shown.to_owned(),
                        recorded: false,
                        source,
                    })
                }
            },
            Ok(Err(source)) if ResponseTooLarge::find(&source).is_some() => {
                let too_large = ResponseTooLarge::find(&source).cloned();
                let detail = source.to_string();
                interaction.error = Some(RecordedError {
                    kind: RecordedErrorKind::ResponseTooLarge,
                    message: detail.clone(),
                });
                // The rest of the response is still coming: never read it as the next one.
                *transport = None;
                Err(Error::ResponseTooLarge {
                    alias: self.alias.clone(),
                    command: shown.to_owned(),
                    limit: too_large.map(|t| t.limit),
                    detail,
                    recorded: false,
                })
            }
            Ok(Err(source)) => {
                let message = self.guard.text(&source.to_string()).into_owned();
                interaction.error = Some(RecordedError {
                    kind: RecordedErrorKind::Io,
                    message: message.clone(),
                });
                // The connection is in an unknown state: reconnect on next use.
                *transport = None;
                let source = if message == source.to_string() {
                    source
                } else {
                    io::Error::new(source.kind(), message)
                };
                Err(Error::Io {
                    alias: self.alias.clone(),
                    command: shown.to_owned(),
                    recorded: false,
                    source,
                })
            }
            Err(()) => {
                interaction.error = Some(RecordedError {
                    kind: RecordedErrorKind::Timeout,
                    message: timeout_message(timeout),
                });
                // A late answer would be taken for the next query's, and a cancelled send
                // may have left half a command on the wire: reconnect on next use. A
                // transport given in `RecordOptions` cannot be reopened, so it is kept.
                if !matches!(opener, Opener::Given(_)) {
                    *transport = None;
                }
                Err(Error::Timeout {
                    alias: self.alias.clone(),
                    command: shown.to_owned(),
                    after: Some(timeout),
                    recorded: false,
                })
            }
        };
        self.recorder.push(&self.alias, interaction);
        outcome
    }

    /// Settings for the message-based transports (VXI-11, HiSLIP) from the instrument's
    /// config.
    fn connect_options(&self) -> crate::transport::ConnectOptions {
        crate::transport::ConnectOptions::default()
            .with_terminators(self.config.terminators.clone())
            .with_timeout(self.config.timeout)
            .with_max_response(self.config.max_response)
    }

    async fn connect(&self, opener: &mut Opener) -> Result<Box<dyn Transport>> {
        let connect_error = |source: io::Error| Error::Connect {
            alias: self.alias.clone(),
            address: self.config.address.clone(),
            source,
        };
        let timeout = self.config.timeout;
        let timed = |fut: BoxFuture<'static, io::Result<Box<dyn Transport>>>| async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no connection within {}",
                        crate::error::fmt_duration(timeout)
                    ),
                )),
            }
        };
        match opener {
            Opener::Given(given) => given.take().ok_or_else(|| {
                connect_error(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the transport given in `RecordOptions` failed earlier and cannot be reopened",
                ))
            }),
            Opener::Tcp { host, port } => {
                let (host, port, terms) = (host.clone(), *port, self.config.terminators.clone());
                timed(Box::pin(async move {
                    let t = crate::transport::connect_tcp(&host, port, terms).await?;
                    Ok(Box::new(t) as Box<dyn Transport>)
                }))
                .await
                .map_err(connect_error)
            }
            Opener::Lan(address) => {
                let (address, options) = (address.clone(), self.connect_options());
                timed(Box::pin(async move {
                    crate::transport::connect_lan(&address, options).await
                }))
                .await
                .map_err(connect_error)
            }
            #[cfg(feature = "serial")]
            Opener::Serial { device } => crate::transport::open_serial(
                device,
                self.config.baud_rate,
                self.config.terminators.clone(),
            )
            .map(|t| Box::new(t) as Box<dyn Transport>)
            .map_err(connect_error),
            Opener::Custom(connect) => timed(connect(&self.config.address, &self.config))
                .await
                .map_err(connect_error),
            #[cfg(feature = "sim")]
            Opener::Sim(device) => Ok(Box::new(crate::sim::SimTransport::shared(device.clone()))),
        }
    }
}

fn opener_for(
    alias: &str,
    config: &InstrumentConfig,
    base: Option<&std::path::Path>,
    options: &mut RecordOptions,
) -> Result<Opener> {
    if let Some(given) = options.transports.remove(alias) {
        return Ok(Opener::Given(Some(given)));
    }
    let invalid = |reason: String| Error::Address {
        alias: alias.to_owned(),
        address: config.address.clone(),
        reason,
    };
    let parsed = Address::parse(&config.address).map_err(invalid)?;
    // A registered connector wins over the built-in transports for its scheme.
    let scheme = match &parsed {
        Address::TcpSocket { .. } | Address::Vxi11 { .. } | Address::Hislip { .. } => {
            "TCPIP".to_owned()
        }
        Address::Serial { .. } => "ASRL".to_owned(),
        Address::Sim { .. } => "SIM".to_owned(),
        Address::Custom { scheme, .. } => scheme.clone(),
    };
    if let Some((_, connect)) = options.connectors.iter().find(|(s, _)| *s == scheme) {
        return Ok(Opener::Custom(connect.clone()));
    }
    match parsed {
        Address::TcpSocket { host, port } => Ok(Opener::Tcp { host, port }),
        lan @ (Address::Vxi11 { .. } | Address::Hislip { .. }) => Ok(Opener::Lan(lan)),
        #[cfg(feature = "serial")]
        Address::Serial { device } => Ok(Opener::Serial { device }),
        #[cfg(not(feature = "serial"))]
        Address::Serial { .. } => Err(invalid(
            "serial support is disabled: enable the `serial` feature of replay-core".to_owned(),
        )),
        #[cfg(feature = "sim")]
        Address::Sim { file, resource } => {
            // Relative to the bench config's directory, as a user reads the address.
            let path = base.unwrap_or(std::path::Path::new("")).join(&file);
            let sim = crate::sim::SimFile::load(&path)?;
            let resource = match resource {
                Some(resource) => resource,
                None => sim.only_resource().map_err(invalid)?,
            };
            let device = sim.device(&resource)?;
            Ok(Opener::Sim(Arc::new(Mutex::new(device))))
        }
        #[cfg(not(feature = "sim"))]
        Address::Sim { .. } => Err(invalid(
            "simulated devices are disabled: enable the `sim` feature of replay-core".to_owned(),
        )),
        Address::Custom { scheme, .. } => {
            let registered: Vec<String> = options
                .connectors
                .iter()
                .map(|(s, _)| format!("`{s}…` (your connector)"))
                .collect();
            let extra = if registered.is_empty() {
                String::new()
            } else {
                format!(", {}", registered.join(", "))
            };
            Err(invalid(format!(
                "the `{scheme}` scheme has no transport; supported forms: {}{extra}; \
                 for other buses register one with `RecordOptions::connector`",
                address::SUPPORTED
            )))
        }
    }
}

pub(crate) fn timeout_message(timeout: Duration) -> String {
    format!("no answer within {} s", timeout.as_secs_f64())
}

/// Parses the duration back out of [`timeout_message`]'s text: `None` when the message
/// was written by something else (by hand, PyTestLab) or the number is not a duration.
pub(crate) fn parse_timeout_message(message: &str) -> Option<Duration> {
    let secs = message
        .strip_prefix("no answer within ")?
        .strip_suffix(" s")?
        .parse::<f64>()
        .ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// A text response as a `String`. Bytes that are not UTF-8 are an error, never replaced by
/// `�`: a lossy string would be recorded as if the instrument had said it (pyvisa also
/// refuses to decode them). The message says how to read such an answer.
fn text_response(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[at];
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the answer is not UTF-8 text (byte 0x{byte:02X} at offset {at}); \
                 read binary answers with `query_binary`, or check the instrument's terminators and baud rate"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_round_trips() {
        for d in [
            Duration::from_millis(250),
            Duration::from_secs(5),
            Duration::from_secs_f64(1.5),
        ] {
            assert_eq!(parse_timeout_message(&timeout_message(d)), Some(d));
        }
        for unparsable in [
            "something else",
            "no answer within 1e30 s",
            "no answer within -1 s",
            "no answer within NaN s",
            "no answer within inf s",
        ] {
            assert_eq!(parse_timeout_message(unparsable), None, "{unparsable}");
        }
    }
}
