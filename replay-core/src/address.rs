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
    /// `TCPIP[board]::host[,port][::device]::INSTR`: VXI-11 (`device` defaults to `inst0`).
    /// With `,port` the core channel is reached there directly, as pyvisa-py does; without,
    /// the instrument's portmapper (port 111) is asked for it.
    Vxi11 {
        /// Host name or IP address.
        host: String,
        /// The core channel's TCP port, when given (skips the portmapper).
        port: Option<u16>,
        /// The device name (`inst0`, `gpib0,5`, …).
        device: String,
    },
    /// `TCPIP[board]::host::hislip<n>[,port]::INSTR`: HiSLIP (port 4880 by default).
    Hislip {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
        /// The sub-address (`hislip0`).
        sub_address: String,
    },
    /// `sim:<file.yaml>#<resource>`: a device of a pyvisa-sim device file, run in-process
    /// (feature `sim`). The file is relative to the bench config's directory; the resource
    /// may be left out when the file has only one.
    Sim {
        /// The device file as written.
        file: String,
        /// The VISA resource name of the device in the file.
        resource: Option<String>,
    },
    /// Any other scheme; served only by a connector registered with
    /// [`RecordOptions::connector`](crate::RecordOptions::connector).
    Custom {
        /// The scheme prefix (`USB`, `GPIB`, …), upper case.
        scheme: String,
        /// The full resource string.
        resource: String,
    },
}

/// The address forms the built-in transports serve, for error messages.
pub const SUPPORTED: &str = "`TCPIP[n]::<host>::<port>::SOCKET` (raw SCPI socket), \
     `TCPIP[n]::<host>[,<port>][::inst0]::INSTR` (VXI-11), \
     `TCPIP[n]::<host>::hislip0[,<port>]::INSTR` (HiSLIP), `ASRL<device>::INSTR` (serial) \
     and `sim:<file.yaml>#<resource>` (a pyvisa-sim device, in-process)";

impl Address {
    /// Parses a VISA resource string. Unknown schemes parse as [`Address::Custom`];
    /// malformed known schemes are an error saying what the form should be.
    pub fn parse(resource: &str) -> Result<Address, String> {
        let resource = resource.trim();
        if let Some(rest) = resource.strip_prefix("sim:") {
            let (file, name) = match rest.rsplit_once('#') {
                Some((file, name)) => (file.trim(), Some(name.trim())),
                None => (rest.trim(), None),
            };
            if file.is_empty() || name.is_some_and(str::is_empty) {
                return Err("a simulated device address is `sim:<file.yaml>#<resource>`, e.g. `sim:devices/psu.yaml#TCPIP::psu.local::INSTR` (the file relative to the bench config)".to_owned());
            }
            return Ok(Address::Sim {
                file: file.to_owned(),
                resource: name.map(str::to_owned),
            });
        }
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
            let host = host(parts[1])?;
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
                host: host.to_owned(),
                port,
            });
        }
        if head.starts_with("TCPIP") && last == "INSTR" {
            return parse_lan_instr(&head, &parts);
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

/// The host of a LAN address: trimmed, IPv6 brackets removed, and made only of what a host
/// name or an IPv4 address holds (letters, digits, `.`, `-`, `_`). Anything else (white
/// space, control characters, `:` which VISA uses as its separator) is an error, not part
/// of a name the resolver would then be asked for.
fn host(text: &str) -> Result<&str, String> {
    let host = text.trim().trim_matches(|c| c == '[' || c == ']');
    if host.is_empty() {
        return Err("the host is empty".to_owned());
    }
    match host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        Some(bad) => Err(format!(
            "the host `{}` contains {bad:?}; a host is a name such as `scope-3.lab` or an IP address",
            host.escape_debug()
        )),
        None => Ok(host),
    }
}

/// `TCPIP[n]::host[,port][::device]::INSTR`: VXI-11 or HiSLIP.
fn parse_lan_instr(head: &str, parts: &[&str]) -> Result<Address, String> {
    let board = &head["TCPIP".len()..];
    if !board.chars().all(|c| c.is_ascii_digit()) || !(3..=4).contains(&parts.len()) {
        return Err(format!(
            "a LAN instrument address is `TCPIP[n]::<host>[::inst0]::INSTR` (VXI-11) or \
             `TCPIP[n]::<host>::hislip0[,<port>]::INSTR` (HiSLIP); supported forms: {SUPPORTED}"
        ));
    }
    let port_of = |text: &str, what: &str| -> Result<u16, String> {
        match text.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(format!(
                "`{text}` is not a TCP port (1–65535) in the {what} address; e.g. `{}`",
                if what == "HiSLIP" {
                    "TCPIP0::192.168.1.100::hislip0,4880::INSTR"
                } else {
                    "TCPIP0::192.168.1.100,1024::inst0::INSTR"
                }
            )),
            Ok(port) => Ok(port),
        }
    };
    let host_of = |text: &str| host(text).map(str::to_owned);
    let device = parts.get(2).map(|d| d.trim()).filter(|_| parts.len() == 4);
    if let Some(device) = device
        && device.to_ascii_lowercase().starts_with("hislip")
    {
        if parts[1].contains(',') {
            return Err(format!(
                "a HiSLIP port goes after the sub-address: `TCPIP0::<host>::{device},<port>::INSTR`"
            ));
        }
        let (sub, port) = match device.split_once(',') {
            Some((sub, port)) => (sub.trim(), port_of(port, "HiSLIP")?),
            None => (device, crate::transport::hislip::wire::DEFAULT_PORT),
        };
        return Ok(Address::Hislip {
            host: host_of(parts[1])?,
            port,
            sub_address: sub.to_owned(),
        });
    }
    let (host, port) = match parts[1].split_once(',') {
        Some((host, port)) => (host, Some(port_of(port, "VXI-11")?)),
        None => (parts[1], None),
    };
    let device = match device {
        Some("") => {
            return Err("the VXI-11 device name is empty; the usual one is `inst0`".to_owned());
        }
        Some(device) => device.to_owned(),
        None => "inst0".to_owned(),
    };
    Ok(Address::Vxi11 {
        host: host_of(host)?,
        port,
        device,
    })
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
            Address::Vxi11 { host, port, device } => match port {
                Some(port) => write!(f, "TCPIP0::{host},{port}::{device}::INSTR"),
                None => write!(f, "TCPIP0::{host}::{device}::INSTR"),
            },
            Address::Hislip {
                host,
                port,
                sub_address,
            } => write!(f, "TCPIP0::{host}::{sub_address},{port}::INSTR"),
            Address::Sim {
                file,
                resource: Some(resource),
            } => write!(f, "sim:{file}#{resource}"),
            Address::Sim {
                file,
                resource: None,
            } => write!(f, "sim:{file}"),
            Address::Custom { resource, .. } => f.write_str(resource),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `visa_address` fuzz target: control characters and white space inside a
    /// host were accepted, and printing then parsing the address gave another address.
    #[test]
    fn hosts_with_control_characters_or_spaces_are_refused() {
        let fuzzed = "TCPIP0::10.0.0.5:\0\0\0\0\0\0\0\u{8}]\u{1}\0\0\0\0\0\0\n,4880::inst0::INSTR";
        let err = Address::parse(fuzzed).unwrap_err();
        assert!(err.contains("a host is a name"), "{err}");
        assert!(Address::parse("TCPIP0::my host::5025::SOCKET").is_err());
        assert!(Address::parse("TCPIP0::lab\tpsu::hislip0::INSTR").is_err());
        // Also found by the fuzzer: `]]]:]]]` left `:` as the host.
        assert!(Address::parse("tCPIP5::]]]:]]]::INSTR").is_err());
        for ok in [
            "TCPIP0::scope-3.lab::5025::SOCKET",
            "TCPIP0::psu_2.lab::hislip0,4881::INSTR",
            "TCPIP::10.0.0.5,1024::INSTR",
        ] {
            let address = Address::parse(ok).unwrap();
            assert_eq!(
                Address::parse(&address.to_string()).unwrap(),
                address,
                "{ok}"
            );
        }
    }

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
    fn sim_forms() {
        assert_eq!(
            Address::parse("sim:devices/psu.yaml#TCPIP::psu.local::INSTR").unwrap(),
            Address::Sim {
                file: "devices/psu.yaml".into(),
                resource: Some("TCPIP::psu.local::INSTR".into())
            }
        );
        let only = Address::parse("sim:psu.yaml").unwrap();
        assert_eq!(only.to_string(), "sim:psu.yaml");
        assert!(
            Address::parse("sim:#ASRL1::INSTR")
                .unwrap_err()
                .contains("sim:<file.yaml>")
        );
        assert!(Address::parse("sim:psu.yaml#").is_err());
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
        let err = Address::parse("hello").unwrap_err();
        assert!(err.contains("SOCKET") && err.contains("hislip0"), "{err}");
    }

    #[test]
    fn vxi11_forms() {
        let vxi = |host: &str, port: Option<u16>, device: &str| Address::Vxi11 {
            host: host.into(),
            port,
            device: device.into(),
        };
        for (s, want) in [
            (
                "TCPIP0::192.168.1.100::inst0::INSTR",
                vxi("192.168.1.100", None, "inst0"),
            ),
            (
                "TCPIP::192.168.1.100::INSTR",
                vxi("192.168.1.100", None, "inst0"),
            ),
            ("tcpip1::host::gpib0,5::instr", vxi("host", None, "gpib0,5")),
            (
                "TCPIP::127.0.0.1,40123::inst0::INSTR",
                vxi("127.0.0.1", Some(40123), "inst0"),
            ),
            (
                "TCPIP::127.0.0.1,40123::INSTR",
                vxi("127.0.0.1", Some(40123), "inst0"),
            ),
        ] {
            assert_eq!(Address::parse(s).unwrap(), want, "{s}");
            // Display gives an address that parses back to the same thing.
            assert_eq!(Address::parse(&want.to_string()).unwrap(), want, "{want}");
        }
        let err = Address::parse("TCPIP::host,99999::inst0::INSTR").unwrap_err();
        assert!(
            err.contains("not a TCP port") && err.contains("VXI-11"),
            "{err}"
        );
        let err = Address::parse("TCPIP::a::b::c::INSTR").unwrap_err();
        assert!(err.contains("supported forms"), "{err}");
        assert!(
            Address::parse("TCPIP::host::::INSTR")
                .unwrap_err()
                .contains("inst0")
        );
    }

    #[test]
    fn hislip_forms() {
        let hs = |host: &str, port: u16, sub: &str| Address::Hislip {
            host: host.into(),
            port,
            sub_address: sub.into(),
        };
        for (s, want) in [
            (
                "TCPIP0::192.168.1.100::hislip0::INSTR",
                hs("192.168.1.100", 4880, "hislip0"),
            ),
            (
                "TCPIP::host::HISLIP1,5000::INSTR",
                hs("host", 5000, "HISLIP1"),
            ),
            (
                "tcpip::localhost::hislip0,4881::instr",
                hs("localhost", 4881, "hislip0"),
            ),
        ] {
            assert_eq!(Address::parse(s).unwrap(), want, "{s}");
            assert_eq!(Address::parse(&want.to_string()).unwrap(), want, "{want}");
        }
        let err = Address::parse("TCPIP::host,4880::hislip0::INSTR").unwrap_err();
        assert!(err.contains("hislip0,<port>"), "{err}");
        let err = Address::parse("TCPIP::host::hislip0,x::INSTR").unwrap_err();
        assert!(
            err.contains("HiSLIP") && err.contains("hislip0,4880"),
            "{err}"
        );
    }
}
