//! `replay sim serve`: serve the devices of a pyvisa-sim device file over loopback, on a
//! raw SCPI socket, VXI-11 and HiSLIP each, until Ctrl-C.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Subcommand;
use replay_core::serve::{self, ServerHandle};
use replay_core::sim::SimFile;
use tokio::net::TcpListener;

use crate::{CliError, CliResult};

/// Simulated instruments from pyvisa-sim device files.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Serve the devices of a pyvisa-sim device file on a raw SCPI socket, VXI-11 and
    /// HiSLIP, and print the VISA address of each; Ctrl-C stops.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The pyvisa-sim device file (YAML, spec 1.0 or 1.1).
    file: PathBuf,
    /// Serve only this resource (as named in the file's `resources:`); repeatable.
    /// Every resource by default.
    #[arg(long = "resource", value_name = "RESOURCE")]
    resources: Vec<String>,
    /// First port: the n-th resource listens on PORT+3n (socket), PORT+3n+1 (HiSLIP) and
    /// PORT+3n+2 (VXI-11). 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Also run a VXI-11 portmapper on this port (111 is the standard one), pointing at
    /// the first resource, so clients can use `TCPIP::<host>::inst0::INSTR`.
    #[arg(long, value_name = "PORT")]
    portmapper: Option<u16>,
}

pub(crate) fn run(args: Args) -> CliResult {
    let SimCommand::Serve(args) = args.command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve_file(args))
}

async fn bind(host: IpAddr, port: u16) -> CliResult<TcpListener> {
    TcpListener::bind((host, port)).await.map_err(|e| {
        CliError::new(format!(
            "cannot listen on `{host}:{port}`: {e}\nchoose other ports with `--port`, or `--port 0` for free ones"
        ))
    })
}

fn next(port: u16, offset: usize) -> CliResult<u16> {
    if port == 0 {
        return Ok(0);
    }
    u16::try_from(usize::from(port) + offset)
        .map_err(|_| CliError::new(format!("`--port {port}` leaves no room for every server")))
}

async fn serve_file(args: ServeArgs) -> CliResult {
    let file = SimFile::load(&args.file)?;
    let all: Vec<String> = file.resources().map(str::to_owned).collect();
    let chosen = if args.resources.is_empty() {
        all.clone()
    } else {
        args.resources.clone()
    };
    if chosen.is_empty() {
        return Err(CliError::new(format!(
            "`{}` defines no `resources:`; add one that names a device",
            args.file.display()
        )));
    }
    let host = args.host;
    let mut handles: Vec<ServerHandle> = Vec::new();
    println!(
        "serving {} ({} resources)",
        args.file.display(),
        chosen.len()
    );
    for (n, resource) in chosen.iter().enumerate() {
        let device = Arc::new(Mutex::new(file.device(resource)?));
        let socket = serve::socket(bind(host, next(args.port, 3 * n)?).await?, device.clone())?;
        let hislip = serve::hislip(
            bind(host, next(args.port, 3 * n + 1)?).await?,
            device.clone(),
        )?;
        let vxi11 = serve::vxi11(bind(host, next(args.port, 3 * n + 2)?).await?, device)?;
        println!("\n{resource}");
        println!(
            "  raw socket  TCPIP0::{host}::{}::SOCKET",
            socket.local_addr().port()
        );
        println!(
            "  HiSLIP      TCPIP0::{host}::hislip0,{}::INSTR",
            hislip.local_addr().port()
        );
        println!(
            "  VXI-11      TCPIP0::{host},{}::inst0::INSTR",
            vxi11.local_addr().port()
        );
        if n == 0
            && let Some(port) = args.portmapper
        {
            let mapper = serve::portmapper(bind(host, port).await?, vxi11.local_addr().port())?;
            println!(
                "  VXI-11      TCPIP0::{host}::inst0::INSTR   (portmapper on port {})",
                mapper.local_addr().port()
            );
            handles.push(mapper);
        }
        handles.extend([socket, hislip, vxi11]);
    }
    println!("\nPress Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::new(format!("cannot wait for Ctrl-C: {e}")))?;
    for handle in handles {
        handle.stop().await;
    }
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}
