//! Serial instruments (`ASRL<device>::INSTR`) through tokio-serial.

use std::io;

use tokio_serial::{SerialPortBuilderExt, SerialStream};

use super::StreamTransport;
use crate::config::Terminators;

/// Opens a serial port at `baud_rate` (8N1, no flow control) and frames it.
pub fn open_serial(
    device: &str,
    baud_rate: u32,
    terminators: Terminators,
) -> io::Result<StreamTransport<SerialStream>> {
    let port = tokio_serial::new(device, baud_rate)
        .open_native_async()
        .map_err(io::Error::from)?;
    Ok(StreamTransport::new(port, terminators))
}
