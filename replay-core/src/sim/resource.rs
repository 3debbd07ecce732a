//! VISA resource names as pyvisa reads them: interface type, resource class, and a
//! canonical form so `TCPIP::host::INSTR` and `TCPIP0::host::inst0::INSTR` name one device.

/// Interface types pyvisa recognises, longest prefix first.
const INTERFACES: [&str; 12] = [
    "PRLGX-TCPIP",
    "PRLGX-ASRL",
    "GPIB-VXI",
    "FIREWIRE",
    "TCPIP",
    "ASRL",
    "GPIB",
    "VICP",
    "USB",
    "VXI",
    "PXI",
    "RIO",
];

/// Resource classes pyvisa recognises as a name's last part.
const CLASSES: [&str; 7] = [
    "INSTR",
    "SOCKET",
    "RAW",
    "INTFC",
    "BACKPLANE",
    "MEMACC",
    "SERVANT",
];

/// A parsed resource name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resource {
    /// Interface type in lower case, as pyvisa-sim keys `eom` (`tcpip`, `asrl`, `gpib_vxi`).
    pub(crate) interface: String,
    /// Resource class (`INSTR`, `SOCKET`, …).
    pub(crate) class: String,
    /// The canonical name (board number and default parts filled in).
    pub(crate) canonical: String,
}

/// The interface type named in an `eom` key (`ASRL INSTR` → `asrl`), if pyvisa knows it.
pub(crate) fn interface_key(word: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let known = [
        "gpib",
        "vxi",
        "gpib_vxi",
        "asrl",
        "pxi",
        "tcpip",
        "usb",
        "rio",
        "firewire",
        "vicp",
        "prlgx_tcpip",
        "prlgx_asrl",
        "unknown",
    ];
    known.contains(&lower.as_str()).then_some(lower)
}

/// Parses a resource name; `None` when it names no known interface type.
pub(crate) fn parse(name: &str) -> Option<Resource> {
    let name = name.trim();
    let upper = name.to_ascii_uppercase();
    let interface = INTERFACES.iter().find(|i| upper.starts_with(*i))?;
    let rest = &name[interface.len()..];
    let mut parts: Vec<&str> = rest.split("::").collect();
    let board = if parts[0].is_empty() { "0" } else { parts[0] };
    let board = board.to_owned();
    parts.remove(0);
    let class = match parts.last() {
        Some(last) if CLASSES.contains(&last.to_ascii_uppercase().as_str()) => {
            let class = last.to_ascii_uppercase();
            parts.pop();
            class
        }
        _ => "INSTR".to_owned(),
    };
    let canonical = match (*interface, class.as_str(), parts.as_slice()) {
        ("TCPIP", "INSTR", [host]) => format!("TCPIP{board}::{host}::inst0::INSTR"),
        ("USB", "INSTR" | "RAW", [m, c, s]) => format!("USB{board}::{m}::{c}::{s}::0::{class}"),
        (i, c, []) => format!("{i}{board}::{c}"),
        (i, c, parts) => format!("{i}{board}::{}::{c}", parts.join("::")),
    };
    Some(Resource {
        interface: interface.to_ascii_lowercase().replace('-', "_"),
        class,
        canonical,
    })
}

/// Whether two resource names name the same resource.
pub(crate) fn same(a: &str, b: &str) -> bool {
    if a.trim() == b.trim() {
        return true;
    }
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a.canonical.eq_ignore_ascii_case(&b.canonical),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let r = parse("TCPIP::localhost::INSTR").unwrap();
        assert_eq!(r.canonical, "TCPIP0::localhost::inst0::INSTR");
        assert_eq!((r.interface.as_str(), r.class.as_str()), ("tcpip", "INSTR"));
        let r = parse("TCPIP::localhost::10001::SOCKET").unwrap();
        assert_eq!(r.canonical, "TCPIP0::localhost::10001::SOCKET");
        assert_eq!(r.class, "SOCKET");
        assert_eq!(parse("ASRL1::INSTR").unwrap().canonical, "ASRL1::INSTR");
        assert_eq!(
            parse("GPIB::8::INSTR").unwrap().canonical,
            "GPIB0::8::INSTR"
        );
        assert_eq!(
            parse("USB::0x1111::0x2222::0x1234::INSTR")
                .unwrap()
                .canonical,
            "USB0::0x1111::0x2222::0x1234::0::INSTR"
        );
        assert!(parse("NOPE::1").is_none());
    }

    #[test]
    fn equivalent_names_are_the_same_resource() {
        assert!(same(
            "TCPIP::localhost::INSTR",
            "tcpip0::localhost::inst0::instr"
        ));
        assert!(same("GPIB::8::INSTR", "GPIB0::8::INSTR"));
        assert!(same("ASRL1::INSTR", "ASRL1"));
        assert!(!same("ASRL1::INSTR", "ASRL2::INSTR"));
        assert!(!same(
            "TCPIP::localhost:2222::INSTR",
            "TCPIP::localhost:3333::INSTR"
        ));
    }

    #[test]
    fn eom_interface_words() {
        assert_eq!(interface_key("TCPIP").as_deref(), Some("tcpip"));
        assert_eq!(interface_key("GPIB_VXI").as_deref(), Some("gpib_vxi"));
        assert_eq!(interface_key("ETHERNET"), None);
    }
}
