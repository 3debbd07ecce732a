//! Recording: live instruments whose every exchange is logged with its outcome.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::address::{self, Address};
use crate::config::{BenchConfig, InstrumentConfig};
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::safety::{Guard, RedactRule};
use crate::session::{
    InstrumentLog, InstrumentRules, Interaction, InteractionKind, RecordedError, RecordedErrorKind,
    Session,
};
use crate::transport::{BoxFuture, ResponseTooLarge, Transport};
use replay_support::sync::lock;

/// Opens a transport for a custom address scheme.
pub type ConnectFn = dyn Fn(&str, &InstrumentConfig) -> BoxFuture<'static, io::Result<Box<dyn Transport>>>
    + Send
    + Sync;

/// Options for [`Bench::record_with`](crate::Bench::record_with).
#[derive(Default)]
pub struct RecordOptions {
    transports: HashMap<String, Box<dyn Transport>>,
    connectors: Vec<(String, Arc<ConnectFn>)>,
    pub(crate) redact: Vec<RedactRule>,
    pub(crate) secrets: Vec<String>,
}

impl std::fmt::Debug for RecordOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut given: Vec<&str> = self.transports.keys().map(String::as_str).collect();
        given.sort_unstable();
        f.debug_struct("RecordOptions")
            .field("transports", &given)
            .field(
                "connectors",
                &self.connectors.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .field("redact", &self.redact)
            .field("secrets", &self.secrets)
            .finish()
    }
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
    ///
    /// A given transport cannot be reopened: after a timeout or an i/o error, unless its
    /// [`Transport::clear`] brings it back in step, the instrument refuses further exchanges
    /// (a late answer must never be recorded as the next command's response). Register a
    /// [`RecordOptions::connector`] instead to reconnect.
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

/// The shared state of a recording: one clock, the logs of every instrument used, and the
/// gate that `finish` closes.
pub(crate) struct Recorder {
    start: Instant,
    config: BenchConfig,
    logs: Mutex<Vec<(String, InstrumentLog)>>,
    /// `true` once the recording is closed. Every exchange holds a read guard from its check
    /// to its log entry, so closing (a write guard) waits for the exchanges in flight, and
    /// none can start after: what `finish` writes holds every exchange that succeeded.
    closed: tokio::sync::RwLock<bool>,
}

impl Recorder {
    pub(crate) fn new(config: BenchConfig) -> Recorder {
        Recorder {
            start: Instant::now(),
            config,
            logs: Mutex::new(Vec::new()),
            closed: tokio::sync::RwLock::new(false),
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

    /// Closes the recording: waits for the exchanges in flight to be logged, refuses every
    /// later one, and returns the complete session.
    pub(crate) async fn close(&self) -> Session {
        *self.closed.write().await = true;
        self.session()
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

/// How an instrument is reached, decided from its address and the record options.
///
/// The one place addresses are validated: [`Bench::record_config`](crate::Bench) checks every
/// instrument with it up front, and each instrument opens its connection through it.
pub(crate) enum Route {
    /// A transport given in [`RecordOptions::transport`].
    Given,
    /// A raw SCPI socket.
    Tcp { host: String, port: u16 },
    /// A serial port.
    #[cfg(feature = "serial")]
    Serial { device: String },
    /// VXI-11 or HiSLIP.
    Lan(Address),
    /// A connector registered for the address's scheme.
    Custom(Arc<ConnectFn>),
    /// A simulated device, shared by every connection so its state lives for the bench.
    #[cfg(feature = "sim")]
    Sim(Arc<Mutex<crate::sim::SimDevice>>),
}

impl Route {
    /// Validates the address of `alias` and picks its transport.
    ///
    /// `base` is the bench config's directory, against which a `sim:` file is resolved.
    pub(crate) fn of(
        alias: &str,
        config: &InstrumentConfig,
        base: Option<&std::path::Path>,
        options: &RecordOptions,
    ) -> Result<Route> {
        if options.transports.contains_key(alias) {
            return Ok(Route::Given);
        }
        let invalid = |reason: String| Error::Address {
            alias: alias.to_owned(),
            address: config.address.clone(),
            reason,
        };
        let parsed = Address::parse(&config.address).map_err(invalid)?;
        // A registered connector wins over the built-in transports for its scheme.
        let scheme = match &parsed {
            Address::TcpSocket { .. } | Address::Vxi11 { .. } | Address::Hislip { .. } => "TCPIP",
            Address::Serial { .. } => "ASRL",
            Address::Sim { .. } => "SIM",
            Address::Custom { scheme, .. } => scheme.as_str(),
        };
        if let Some((_, connect)) = options.connectors.iter().find(|(s, _)| s == scheme) {
            return Ok(Route::Custom(connect.clone()));
        }
        match parsed {
            Address::TcpSocket { host, port } => Ok(Route::Tcp { host, port }),
            lan @ (Address::Vxi11 { .. } | Address::Hislip { .. }) => Ok(Route::Lan(lan)),
            #[cfg(feature = "serial")]
            Address::Serial { device } => Ok(Route::Serial { device }),
            #[cfg(not(feature = "serial"))]
            Address::Serial { .. } => Err(invalid(
                "serial support is disabled: enable the `serial` feature of replay-core \
                 (`replay-harness = { …, features = [\"serial\"] }`)"
                    .to_owned(),
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
                Ok(Route::Sim(Arc::new(Mutex::new(device))))
            }
            #[cfg(not(feature = "sim"))]
            Address::Sim { .. } => {
                let _ = base;
                Err(invalid(
                    "simulated devices are disabled: enable the `sim` feature of replay-core"
                        .to_owned(),
                ))
            }
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
}

/// The connection of a live instrument.
struct Link {
    route: Route,
    /// The given transport, until it is first used.
    given: Option<Box<dyn Transport>>,
    transport: Option<Box<dyn Transport>>,
    /// An exchange is under way on `transport`; still set when one starts, the previous
    /// exchange was abandoned (its caller's future dropped), so the instrument may still
    /// answer it.
    busy: bool,
    /// Why a given transport was given up, for the error of every later exchange.
    broken: Option<String>,
}

/// A live instrument being recorded.
pub(crate) struct LiveInstrument {
    alias: String,
    config: InstrumentConfig,
    recorder: Arc<Recorder>,
    session_path: std::path::PathBuf,
    guard: Guard,
    link: tokio::sync::Mutex<Link>,
}

impl LiveInstrument {
    /// Prepares `alias` (validating its address) without connecting yet.
    pub(crate) fn new(
        alias: &str,
        recorder: Arc<Recorder>,
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
        let route = Route::of(alias, &config, base.as_deref(), options)?;
        let given = options.transports.remove(alias);
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
        rules.matching.clone_from(&config.matching);
        let guard = Guard::new(&rules);
        recorder.register(alias, config.profile.clone(), rules);
        Ok(LiveInstrument {
            alias: alias.to_owned(),
            config,
            recorder,
            session_path,
            guard,
            link: tokio::sync::Mutex::new(Link {
                route,
                given,
                transport: None,
                busy: false,
                broken: None,
            }),
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
        // Held until the interaction is logged: `finish` waits for it (see `Recorder`).
        let closed = self.recorder.closed.read().await;
        if *closed {
            return Err(Error::Finished {
                path: self.session_path.clone(),
            });
        }
        let wire_command = self.guard.expand(&self.alias, command, shown)?;
        let mut link = self.link.lock().await;
        if link.busy {
            // The previous exchange was abandoned mid-way: whatever the instrument still
            // sends for it must not be read as this one's response.
            link.busy = false;
            self.resync(&mut link, "an earlier exchange was cancelled by its caller")
                .await;
        }
        if link.transport.is_none() {
            let mut transport = self.connect(&mut link).await?;
            // A transport given in `RecordOptions::transport` keeps its own settings.
            if !matches!(link.route, Route::Given) {
                transport.set_max_response(self.config.max_response);
            }
            link.transport = Some(transport);
        }
        let timestamp = self.recorder.now();
        let timeout = self.config.timeout;
        let max_response = self.config.max_response;
        link.busy = true;
        let Some(t) = link.transport.as_mut() else {
            unreachable!("connected above")
        };
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
        link.busy = false;
        // A transport that enforces the instrument's timeout itself (VXI-11 sends it to the
        // instrument with every call) reports it as `TimedOut`: the same outcome.
        let result = match result {
            Ok(Err(e)) if e.kind() == io::ErrorKind::TimedOut => Err(()),
            Ok(r) => Ok(r),
            Err(_elapsed) => Err(()),
        };
        let mut interaction = Interaction::new(kind.clone(), shown, timestamp);
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
                    interaction.error = Some(RecordedError::new(
                        RecordedErrorKind::Io,
                        source.to_string(),
                    ));
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
                interaction.error = Some(RecordedError::new(
                    RecordedErrorKind::ResponseTooLarge,
                    detail.clone(),
                ));
                // The rest of the response is still coming: never read it as the next one.
                self.resync(&mut link, &format!("`{shown}` answered too much"))
                    .await;
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
                interaction.error =
                    Some(RecordedError::new(RecordedErrorKind::Io, message.clone()));
                // The connection is in an unknown state: never reuse it.
                link.transport = None;
                if matches!(link.route, Route::Given) {
                    link.broken = Some(format!("`{shown}` failed with an i/o error"));
                }
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
                interaction.error = Some(RecordedError::timed_out(timeout));
                // A late answer would be taken for the next query's, and a cancelled send
                // may have left half a command on the wire.
                self.resync(&mut link, &format!("`{shown}` timed out"))
                    .await;
                Err(Error::Timeout {
                    alias: self.alias.clone(),
                    command: shown.to_owned(),
                    after: Some(timeout),
                    recorded: false,
                })
            }
        };
        self.recorder.push(&self.alias, interaction);
        drop(closed);
        outcome
    }

    /// Brings the connection back in step after an abandoned exchange: the transport's
    /// [`Transport::clear`] if it has one, else a new connection on the next exchange; a
    /// given transport that cannot be cleared is given up for good (`why` says why).
    async fn resync(&self, link: &mut Link, why: &str) {
        let Some(mut transport) = link.transport.take() else {
            return;
        };
        let cleared = tokio::time::timeout(self.config.timeout, transport.clear()).await;
        if matches!(cleared, Ok(Ok(()))) {
            link.transport = Some(transport);
        } else if matches!(link.route, Route::Given) {
            link.broken = Some(why.to_owned());
        }
    }

    /// Settings for the message-based transports (VXI-11, HiSLIP) from the instrument's
    /// config.
    fn connect_options(&self) -> crate::transport::ConnectOptions {
        crate::transport::ConnectOptions::default()
            .with_terminators(self.config.terminators.clone())
            .with_timeout(self.config.timeout)
            .with_max_response(self.config.max_response)
    }

    async fn connect(&self, link: &mut Link) -> Result<Box<dyn Transport>> {
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
        match &link.route {
            Route::Given => link.given.take().ok_or_else(|| Error::Unusable {
                alias: self.alias.clone(),
                reason: link
                    .broken
                    .clone()
                    .unwrap_or_else(|| "an earlier exchange failed".to_owned()),
            }),
            Route::Tcp { host, port } => {
                let (host, port, terms) = (host.clone(), *port, self.config.terminators.clone());
                timed(Box::pin(async move {
                    let t = crate::transport::connect_tcp(&host, port, terms).await?;
                    Ok(Box::new(t) as Box<dyn Transport>)
                }))
                .await
                .map_err(connect_error)
            }
            Route::Lan(address) => {
                let (address, options) = (address.clone(), self.connect_options());
                timed(Box::pin(async move {
                    crate::transport::connect_lan(&address, options).await
                }))
                .await
                .map_err(connect_error)
            }
            #[cfg(feature = "serial")]
            Route::Serial { device } => crate::transport::open_serial(
                device,
                self.config.baud_rate,
                self.config.terminators.clone(),
            )
            .map(|t| Box::new(t) as Box<dyn Transport>)
            .map_err(connect_error),
            Route::Custom(connect) => timed(connect(&self.config.address, &self.config))
                .await
                .map_err(connect_error),
            #[cfg(feature = "sim")]
            Route::Sim(device) => Ok(Box::new(crate::sim::SimTransport::shared(device.clone()))),
        }
    }
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
