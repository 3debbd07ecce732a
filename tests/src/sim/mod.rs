//! A simulated SCPI instrument bench served over real loopback TCP.
//!
//! [`SimBench`] starts one listener per instrument on `127.0.0.1` and answers SCPI the
//! way the real instruments do, so replay's recorder (or any raw socket client) can
//! record against it. See the crate docs for the commands each model understands.

mod bench;
mod config;
mod dmm;
mod errors;
mod fault;
mod format;
mod machine;
mod noise;
mod params;
mod probe;
mod psu;
mod scope;
mod scpi;
mod server;
mod spec;

pub use bench::{SimBench, SimBenchBuilder, crlf_terminators};
pub use dmm::DMM_IDN;
pub use fault::{Fault, FaultRule};
pub use psu::PSU_IDN;
pub use scope::SCOPE_IDN;
pub use spec::{Model, SimInstrument};
