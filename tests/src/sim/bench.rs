//! [`SimBench`]: simulated instruments served on loopback TCP, and its builder.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use replay_harness::{BenchConfig, Terminators};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::{self, Entry};
use super::dmm::Dmm;
use super::machine::{Device, Machine};
use super::noise::Noise;
use super::probe::Probe;
use super::psu::Psu;
use super::scope::Scope;
use super::server::{self, ServeOptions};
use super::spec::{Model, SimInstrument};

/// A bench of simulated SCPI instruments, each listening on its own loopback TCP port
/// (`TCPIP0::127.0.0.1::<port>::SOCKET`), serving until [`SimBench::shutdown`] or drop.
///
/// ```
/// use replay_tests::sim::SimBench;
/// use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let bench = SimBench::start().await?; // psu, dmm and scope, noiseless
/// let mut psu = BufReader::new(tokio::net::TcpStream::connect(bench.socket_addr("psu").unwrap()).await?);
/// psu.get_mut().write_all(b"VOLT 5, (@1);OUTP ON, (@1);MEAS:VOLT? (@1)\n").await?;
/// let mut line = String::new();
/// psu.read_line(&mut line).await?;
/// assert_eq!(line, "+5.00000000E+00\n");
/// bench.shutdown().await;
/// # Ok(()) }
/// ```
pub struct SimBench {
    served: Vec<Served>,
    seed: Option<u64>,
    accepted: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The thread running the bench's own runtime ([`SimBenchBuilder::start_background`]).
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Served {
    spec: SimInstrument,
    addr: SocketAddr,
}

impl std::fmt::Debug for SimBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBench")
            .field(
                "instruments",
                &self
                    .served
                    .iter()
                    .map(|s| (s.spec.alias.as_str(), s.spec.model, s.addr))
                    .collect::<Vec<_>>(),
            )
            .field("seed", &self.seed)
            .finish()
    }
}

impl SimBench {
    /// Starts the default bench: a `psu`, a `dmm` and a `scope`, on ephemeral ports,
    /// noiseless, answering with LF. Same as `SimBench::builder().start()`.
    pub async fn start() -> io::Result<SimBench> {
        SimBench::builder().start().await
    }

    /// A builder to choose the instruments and how they behave.
    pub fn builder() -> SimBenchBuilder {
        SimBenchBuilder::default()
    }

    /// The VISA address of `alias`: `TCPIP0::127.0.0.1::<port>::SOCKET`.
    ///
    /// # Panics
    ///
    /// When the bench has no instrument called `alias` (the message lists the aliases);
    /// use [`SimBench::socket_addr`] to check first.
    pub fn address(&self, alias: &str) -> String {
        match self.socket_addr(alias) {
            Some(addr) => format!("TCPIP0::{}::{}::SOCKET", addr.ip(), addr.port()),
            None => panic!(
                "the simulated bench has no instrument `{alias}`; it has {}",
                self.aliases()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The socket address `alias` listens on, if the bench has it.
    pub fn socket_addr(&self, alias: &str) -> Option<SocketAddr> {
        self.served
            .iter()
            .find(|s| s.spec.alias == alias)
            .map(|s| s.addr)
    }

    /// The aliases, in the order they were added.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.served.iter().map(|s| s.spec.alias.as_str())
    }

    /// The noise seed (`None`: readings are exact).
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// How many connections the instruments have accepted so far, over all of them
    /// (a replay that never touches the network leaves it unchanged).
    pub fn accepted_connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn entries(&self) -> Vec<Entry<'_>> {
        self.served
            .iter()
            .map(|s| Entry {
                alias: &s.spec.alias,
                address: self.address(&s.spec.alias),
                profile: s.spec.profile.as_deref(),
                timeout: s.spec.timeout,
                terminators: s.spec.terminators.as_ref(),
            })
            .collect()
    }

    /// The `bench.yaml` text for every instrument:
    /// `instruments: {alias: {address, profile?, timeout?, terminators?}}`.
    pub fn config_yaml(&self) -> String {
        config::render(&self.entries())
    }

    /// The bench config, as [`BenchConfig::load`] would read [`SimBench::config_yaml`]
    /// (for [`Bench::record_config`](replay_harness::Bench::record_config)).
    pub fn config(&self) -> BenchConfig {
        config::to_config(&self.entries())
    }

    /// Writes [`SimBench::config_yaml`] to `path`, atomically (parent directories are
    /// created). The error carries replay's message (which file, what failed).
    pub fn write_config(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        replay_support::fs::write_atomic(path, self.config_yaml().as_bytes()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("failed to write bench config `{}`: {e}", path.display()),
            )
        })
    }

    /// Stops every instrument: closes the listeners (new connections are refused) and
    /// every open connection, and returns once they are closed.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            // A serving task does not panic; if one did, the bench is stopped anyway.
            let _ = task.await;
        }
    }
}

impl Drop for SimBench {
    /// Stops the instruments. A bench started on the caller's runtime does not wait (use
    /// [`SimBench::shutdown`] to wait); one started with
    /// [`SimBenchBuilder::start_background`] waits for its thread, so every socket is
    /// closed when the drop returns.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            // The thread only waits for the stop signal, then drops its runtime.
            let _ = thread.join();
        }
    }
}

/// Configures and starts a [`SimBench`].
///
/// ```
/// use std::time::Duration;
/// use replay_tests::sim::{SimBench, SimInstrument};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let bench = SimBench::builder()
///     .psu("psu")
///     .scope("scope")
///     .instrument(SimInstrument::dmm("dmm").timeout(Duration::from_millis(200)))
///     .seed(42)                                    // deterministic noise
///     .crlf(true)                                  // answers end with CRLF
///     .first_reply_delay(Duration::from_millis(20)) // slow first answer per connection
///     .timeout(Duration::from_secs(1))             // `timeout: 1.0` for the others
///     .start()
///     .await?;
/// assert_eq!(bench.aliases().collect::<Vec<_>>(), ["psu", "scope", "dmm"]);
/// assert!(bench.config_yaml().contains("timeout: 0.2"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct SimBenchBuilder {
    instruments: Vec<SimInstrument>,
    seed: Option<u64>,
    crlf: bool,
    first_reply_delay: Duration,
    timeout: Option<Duration>,
    port_base: Option<u16>,
}

impl SimBenchBuilder {
    /// Adds a power supply called `alias` ([`Model::Psu`]).
    pub fn psu(self, alias: impl Into<String>) -> Self {
        self.instrument(SimInstrument::psu(alias))
    }

    /// Adds a multimeter called `alias` ([`Model::Dmm`]).
    pub fn dmm(self, alias: impl Into<String>) -> Self {
        self.instrument(SimInstrument::dmm(alias))
    }

    /// Adds an oscilloscope called `alias` ([`Model::Scope`]).
    pub fn scope(self, alias: impl Into<String>) -> Self {
        self.instrument(SimInstrument::scope(alias))
    }

    /// Adds an instrument with its own options. With no instrument added, the bench has
    /// the default three: `psu`, `dmm`, `scope`.
    pub fn instrument(mut self, instrument: SimInstrument) -> Self {
        self.instruments.push(instrument);
        self
    }

    /// Adds seeded measurement noise: the same seed and the same sequence of commands
    /// give the same readings, byte for byte. Without a seed readings are exact.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets or clears the noise seed.
    pub fn noise(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// Answers end with CRLF (`true`) or LF (`false`, the default).
    pub fn crlf(mut self, crlf: bool) -> Self {
        self.crlf = crlf;
        self
    }

    /// Waits this long before the first answer on each connection (default none).
    pub fn first_reply_delay(mut self, delay: Duration) -> Self {
        self.first_reply_delay = delay;
        self
    }

    /// The `timeout` written to `bench.yaml` for instruments that set none themselves.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Listens on fixed ports: the n-th instrument (from 0) on `port_base + n`, unless
    /// it sets its own port. Default: ephemeral ports chosen by the system.
    pub fn port_base(mut self, port_base: u16) -> Self {
        self.port_base = Some(port_base);
        self
    }

    /// Binds every listener and starts serving.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for a duplicate alias or a port beyond
    /// 65535, and with the bind error (port in use, …) naming the instrument.
    pub async fn start(self) -> io::Result<SimBench> {
        let mut specs = self.instruments;
        if specs.is_empty() {
            specs = vec![
                SimInstrument::psu("psu"),
                SimInstrument::dmm("dmm"),
                SimInstrument::scope("scope"),
            ];
        }
        let mut seen = HashSet::new();
        for spec in &specs {
            if !seen.insert(spec.alias.as_str()) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the simulated bench has two instruments called `{}`; give each its own alias",
                        spec.alias
                    ),
                ));
            }
        }
        let (stop, _) = watch::channel(false);
        let accepted = Arc::new(AtomicUsize::new(0));
        // The DMM's input is wired to channel 1 of the first PSU.
        let probe = Probe::default();
        let mut probe_driven = false;
        let mut served = Vec::with_capacity(specs.len());
        let mut listeners = Vec::with_capacity(specs.len());
        for (index, mut spec) in specs.into_iter().enumerate() {
            let port = match (spec.port, self.port_base) {
                (Some(port), _) => port,
                (None, Some(base)) => u16::try_from(usize::from(base) + index).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "port base {base} leaves no port for instrument #{} `{}`; use a base of at most {}",
                            index + 1,
                            spec.alias,
                            65535 - index
                        ),
                    )
                })?,
                (None, None) => 0,
            };
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
                .await
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot listen on 127.0.0.1:{port} for simulated instrument `{}`: {e}; choose another port or leave it to the system",
                            spec.alias
                        ),
                    )
                })?;
            let addr = listener.local_addr()?;
            let noise = Noise::new(self.seed, &spec.alias);
            let device: Box<dyn Device> = match spec.model {
                Model::Psu if !probe_driven => {
                    probe_driven = true;
                    Box::new(Psu::new(noise, probe.clone()))
                }
                Model::Psu => Box::new(Psu::new(noise, Probe::default())),
                Model::Dmm => Box::new(Dmm::new(noise, probe.clone())),
                Model::Scope => Box::new(Scope::new(noise)),
            };
            let options = ServeOptions {
                crlf: spec.crlf.unwrap_or(self.crlf),
                first_reply_delay: spec.first_reply_delay.unwrap_or(self.first_reply_delay),
                faults: spec.faults.clone().into(),
            };
            if spec.timeout.is_none() {
                spec.timeout = self.timeout;
            }
            listeners.push((
                listener,
                Arc::new(Mutex::new(Machine::new(device))),
                options,
            ));
            served.push(Served { spec, addr });
        }
        let tasks = listeners
            .into_iter()
            .map(|(listener, machine, options)| {
                tokio::spawn(server::serve(
                    listener,
                    machine,
                    options,
                    stop.subscribe(),
                    accepted.clone(),
                ))
            })
            .collect();
        Ok(SimBench {
            served,
            seed: self.seed,
            accepted,
            stop,
            tasks,
            thread: None,
        })
    }

    /// Starts the bench on a runtime of its own, in a background thread, without an
    /// async context: for suites whose tests each build their own runtime (a custom
    /// harness, `#[test]` functions) and share one bench. The bench serves until it is
    /// dropped or shut down; dropping it waits until every socket is closed.
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use replay_tests::sim::SimBench;
    ///
    /// let bench = SimBench::builder().dmm("dmm").start_background()?;
    /// let mut dmm = std::net::TcpStream::connect(bench.socket_addr("dmm").unwrap())?;
    /// dmm.write_all(b"*IDN?\n")?;
    /// let mut idn = String::new();
    /// BufReader::new(dmm).read_line(&mut idn)?;
    /// assert!(idn.contains("34470A"));
    /// drop(bench); // listeners and connections closed
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_background(self) -> io::Result<SimBench> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sim-bench".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match self.start().await {
                        Ok(bench) => {
                            let mut stop = bench.stop.subscribe();
                            if sender.send(Ok(bench)).is_ok() {
                                // Err: the bench was dropped, which stops it too.
                                let _ = stop.wait_for(|stop| *stop).await;
                            }
                        }
                        Err(e) => {
                            let _ = sender.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime drops every serving task: listeners and
                // connections close here.
                drop(runtime);
            })?;
        let mut bench = receiver.recv().map_err(|_| {
            io::Error::other("the simulated bench's thread stopped before the bench started")
        })??;
        bench.thread = Some(thread);
        Ok(bench)
    }
}

/// Terminators for a CRLF instrument, for [`SimInstrument::terminators`].
pub fn crlf_terminators() -> Terminators {
    Terminators::new("\r\n", "\r\n")
}
