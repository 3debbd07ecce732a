//! VISA resource strings: which transport an address means.

use std::fmt;

/// A parsed instrument address.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// `TCPIP[board]::host::port::SOCKET`: a raw SCPI socket (port 5025 style).
    TcpSocket {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// `ASRL<device>::INSTR`: a serial port (`ASRL/dev/ttyUSB0::INSTR`, `ASRL3::INSTR`).
    Serial {
        /// The device path (`/dev/ttyUSB0`, `COM3`).
        device: String,
    },
    /// Any other scheme; served only by a connector registered with
    /// [`RecordOptions::connector`](crate::RecordOptions::connector).
    Custom {
        /// The scheme prefix (`USB`, `GPIB`, `TCPIP` for VXI-11 `::INSTR`, …), upper case.
        scheme: String,
        /// The full resource string.
        resource: String,
    },
}

/// The address forms the built-in transports serve, for error messages.
pub const SUPPORTED: &str =
    "`TCPIP[n]::<host>::<port>::SOCKET` (raw SCPI socket) and `ASRL<device>::INSTR` (serial)";

impl Address {
    /// Parses a VISA resource string. Unknown schemes parse as [`Address::Custom`];
    /// malformed known schemes are an error saying what the form should be.
    pub fn parse(resource: &str) -> Result<Address, String> {
        let resource = resource.trim();
        let parts: Vec<&str> = resource.split("::").collect();
        let head = parts[0].to_ascii_uppercase();
        let last = parts
            .last()
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        if head.starts_with("TCPIP") && last == "SOCKET" {
            let board = &head["TCPIP".len()..];
            if !board.chars().all(|c| c.is_ascii_digit()) || parts.len() != 4 {
                return Err(format!(
                    "a raw socket address is `TCPIP[n]::<host>::<port>::SOCKET`, e.g. `TCPIP0::192.168.1.100::5025::SOCKET`; supported forms: {SUPPORTED}"
                ));
            }
            let host = parts[1].trim();
            if host.is_empty() {
                return Err("the host is empty".to_owned());
            }
            let port = parts[2].trim().parse::<u16>().map_err(|_| {
                format!(
                    "`{}` is not a TCP port (1–65535; SCPI instruments usually listen on 5025)",
                    parts[2]
                )
            })?;
            if port == 0 {
                return Err(
                    "port 0 is not a TCP port (SCPI instruments usually listen on 5025)".to_owned(),
                );
            }
            return Ok(Address::TcpSocket {
                host: host.trim_matches(|c| c == '[' || c == ']').to_owned(),
                port,
            });
        }
        if head.starts_with("ASRL") && last == "INSTR" && parts.len() == 2 {
            let device = &parts[0]["ASRL".len()..];
            if device.is_empty() {
                return Err("a serial address is `ASRL<device>::INSTR`, e.g. `ASRL/dev/ttyUSB0::INSTR` or `ASRL3::INSTR`".to_owned());
            }
            let device = if device.chars().all(|c| c.is_ascii_digit()) {
                numbered_port(device)
            } else {
                device.to_owned()
            };
            return Ok(Address::Serial { device });
        }
        let scheme: String = head
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if scheme.is_empty() || parts.len() < 2 {
            return Err(format!(
                "not a VISA resource string; supported forms: {SUPPORTED}"
            ));
        }
        Ok(Address::Custom {
            scheme,
            resource: resource.to_owned(),
        })
    }
}

/// VISA numbers serial ports from 1: `ASRL1` is `COM1` on Windows and `/dev/ttyS0` elsewhere.
fn numbered_port(number: &str) -> String {
    let n: u32 = number.parse().unwrap_or(1);
    if cfg!(windows) {
        format!("COM{n}")
    } else {
        format!("/dev/ttyS{}", n.saturating_sub(1))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::TcpSocket { host, port } => write!(f, "TCPIP0::{host}::{port}::SOCKET"),
            Address::Serial { device } => write!(f, "ASRL{device}::INSTR"),
            Address::Custom { resource, .. } => f.write_str(resource),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_socket_forms() {
        for s in [
            "TCPIP0::192.168.1.100::5025::SOCKET",
            "TCPIP::192.168.1.100::5025::SOCKET",
            "tcpip1::192.168.1.100::5025::socket",
        ] {
            assert_eq!(
                Address::parse(s).unwrap(),
                Address::TcpSocket {
                    host: "192.168.1.100".into(),
                    port: 5025
                },
                "{s}"
            );
        }
    }

    #[test]
    fn serial_forms() {
        assert_eq!(
            Address::parse("ASRL/dev/ttyUSB0::INSTR").unwrap(),
            Address::Serial {
                device: "/dev/ttyUSB0".into()
            }
        );
        assert!(matches!(
            Address::parse("ASRL3::INSTR").unwrap(),
            Address::Serial { .. }
        ));
    }

    #[test]
    fn bad_port_explains() {
        let err = Address::parse("TCPIP0::host::50x25::SOCKET").unwrap_err();
        assert!(err.contains("not a TCP port"), "{err}");
    }

    #[test]
    fn other_schemes_are_custom() {
        assert_eq!(
            Address::parse("USB0::0x0957::0x1B07::MY56430012::INSTR").unwrap(),
            Address::Custom {
                scheme: "USB".into(),
                resource: "USB0::0x0957::0x1B07::MY56430012::INSTR".into()
            }
        );
        assert!(matches!(
            Address::parse("TCPIP0::192.168.1.100::inst0::INSTR").unwrap(),
            Address::Custom { .. }
        ));
        assert!(Address::parse("hello").unwrap_err().contains("SOCKET"));
    }
}
