//! `replay serve`: the dashboard and REST API over a recordings directory and a sessions
//! directory, on loopback unless another address is asked for.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use replay_cli::dashboard::Dashboard;

use super::{CliError, CliResult};

/// Serve a local dashboard and REST API over event recordings and cassettes (Ctrl-C stops).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The directory of cassettes (`.yaml`, searched recursively).
    #[arg(long, value_name = "DIR", default_value = "sessions")]
    sessions: PathBuf,
    /// The directory of event recordings (`.json`, `.jsonl`); new recordings are saved there.
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    recordings: PathBuf,
    /// The TCP port (0 picks a free one).
    #[arg(long, default_value_t = 5556)]
    port: u16,
    /// The address to listen on. Anything but loopback exposes your files to the network:
    /// it is printed as a warning.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
}

pub(crate) fn run(args: Args) -> CliResult {
    if !args.recordings.is_dir() {
        return Err(CliError::new(format!(
            "the recordings directory `{}` does not exist; create it or pass `--recordings DIR`",
            args.recordings.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> CliResult {
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError::new(format!(
            "cannot listen on `{addr}`: {e}; choose another port with `--port`"
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::new(format!("cannot read the listening address: {e}")))?;
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on `{}`, not loopback: anyone who can reach this machine can read and write your recordings",
            args.bind
        );
    }
    if !args.sessions.is_dir() {
        eprintln!(
            "warning: the sessions directory `{}` does not exist; no cassettes will be listed (pass `--sessions DIR`)",
            args.sessions.display()
        );
    }
    println!("replay dashboard: http://{local}/  (Ctrl-C stops)");
    let dashboard = Dashboard::new(args.recordings, args.sessions);
    dashboard
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| CliError::new(format!("the server failed: {e}")))?;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}
