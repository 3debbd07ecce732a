//! Simulated instruments from pyvisa-sim device files.
//!
//! pyvisa-sim describes an instrument in YAML: dialogues (fixed query → response),
//! properties with a getter, a setter with a parse pattern and specs, error responses,
//! status registers and error queues, terminators per interface, channels. This module
//! runs such a file: [`SimFile`] reads it, [`SimDevice`] is one instrument with its state,
//! and [`SimTransport`] plugs a device into a bench, so the address
//! `sim:devices.yaml#TCPIP::psu.local::INSTR` records against it with no server at all.
//!
//! The behaviour is pyvisa-sim 0.7's, checked against pyvisa-sim itself by the
//! conformance suite (`replay-core/tests/sim_conformance.rs`), quirks included where files
//! depend on them: every scalar of the file is a string until a spec's `type` converts it,
//! a float setter field needs two digits (`VOLT 5` does not match `VOLT {:f}`), an
//! unmatched command answers the `command_error` response. Deliberate differences are
//! listed in `docs/simulation.md`.

mod channels;
mod component;
mod device;
mod file;
mod pattern;
mod pyformat;
mod random;
mod resource;
#[cfg(feature = "serve")]
mod serve;
mod transport;
mod value;

pub use device::SimDevice;
pub use file::SimFile;
pub use transport::SimTransport;

/// A command the simulated device cannot process where pyvisa-sim raises an exception
/// (a getter template that does not fit the value, a malformed `RANDOM(…)`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError {
    message: String,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SimError {}

impl SimError {
    pub(crate) fn new(message: impl Into<String>) -> SimError {
        SimError {
            message: message.into(),
        }
    }
}
