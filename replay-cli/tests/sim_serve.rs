//! `replay sim serve`: a real `replay` process serving a pyvisa-sim device file, answered
//! over a raw socket; Ctrl-C (SIGINT) stops it cleanly; a bad file is a clear error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

const DEVICE: &str = r#"spec: "1.1"
devices:
  psu:
    eom:
      TCPIP INSTR: {q: "\n", r: "\n"}
    error:
      error_queue:
        - q: "SYST:ERR?"
          default: '+0,"No error"'
          command_error: '-113,"Undefined header"'
    dialogues:
      - q: "*IDN?"
        r: "ACME,PSU-3000,SN0001,1.0"
    properties:
      voltage:
        default: 0.0
        getter: {q: "VOLT?", r: "{:.3f}"}
        setter: {q: "VOLT {:f}"}
        specs: {type: float, min: 0, max: 30}
resources:
  TCPIP::psu.local::INSTR:
    device: psu
"#;

fn ask(stream: &mut BufReader<TcpStream>, command: &str) -> String {
    stream
        .get_mut()
        .write_all(format!("{command}\n").as_bytes())
        .unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

#[test]
fn serves_a_device_file_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("psu.yaml");
    std::fs::write(&file, DEVICE).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(["sim", "serve"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let mut socket = None;
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        printed.push_str(&line);
        if let Some(address) = line.trim().strip_prefix("raw socket") {
            socket = Some(address.trim().to_owned());
        }
        if line.contains("Ctrl-C") {
            break;
        }
        line.clear();
    }
    assert!(printed.contains("TCPIP::psu.local::INSTR"), "{printed}");
    assert!(printed.contains("::hislip0,"), "{printed}");
    assert!(printed.contains("::inst0::INSTR"), "{printed}");
    let socket = socket.unwrap_or_else(|| panic!("no socket address in:\n{printed}"));
    // TCPIP0::127.0.0.1::<port>::SOCKET
    let port: u16 = socket.split("::").nth(2).unwrap().parse().unwrap();
    let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert_eq!(ask(&mut stream, "*IDN?"), "ACME,PSU-3000,SN0001,1.0");
    stream.get_mut().write_all(b"VOLT 12.5\n").unwrap();
    assert_eq!(ask(&mut stream, "VOLT?"), "12.500");
    assert_eq!(ask(&mut stream, "SYST:ERR?"), "+0,\"No error\"");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}, output:\n{rest}");
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn a_bad_device_file_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, DEVICE.replace("type: float", "type: real")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(["sim", "serve"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:16:"), "{stderr}");
    assert!(stderr.contains("invalid property type `real`"), "{stderr}");
}
