//! Conformance of replay's pyvisa-sim engine against pyvisa-sim itself.
//!
//! The same command sequences run through [`replay_core::sim`] and, in a Python
//! subprocess (`tests/sim/pyvisa_sim_driver.py`), through pyvisa-sim, on the same device
//! files; every reply (terminator included) and every failure must be identical. Files:
//! `tests/sim/features.yaml` (written to exercise every feature) and every device file
//! the installed pyvisa-sim wheel ships, read where pip installed it.
//!
//! Needs `python3` with `pyvisa` and `pyvisa-sim` (`.ci/run` installs them). Without them
//! the tests print why and pass, unless `REPLAY_REQUIRE_PEERS=1`, which makes them fail.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use replay_core::sim::SimFile;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Sequence {
    resource: String,
    commands: Vec<String>,
}

#[derive(Deserialize, Debug, PartialEq, Clone)]
struct Answer {
    reads: Vec<String>,
    error: bool,
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory of the installed pyvisa-sim, or `None` (after saying why) when the peer is
/// missing and not required.
fn pyvisa_sim_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import pyvisa, pyvisa_sim, os; print(os.path.dirname(pyvisa_sim.__file__))",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => Some(PathBuf::from(
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )),
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                Err(e) => format!("cannot run python3: {e}"),
            };
            let required = std::env::var("REPLAY_REQUIRE_PEERS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "REPLAY_REQUIRE_PEERS=1 but pyvisa-sim is not available ({why}); \
                 install it with `python3 -m pip install pyvisa==1.16.2 pyvisa-sim==0.7.1`"
            );
            eprintln!(
                "skipping the pyvisa-sim conformance test: {why}\n\
                 install the peer with `python3 -m pip install pyvisa==1.16.2 pyvisa-sim==0.7.1`"
            );
            None
        }
    }
}

/// Runs the sequences through pyvisa-sim.
fn run_pyvisa_sim(file: &Path, sequences: &[Sequence]) -> Vec<Vec<Answer>> {
    let request = serde_json::json!({ "file": file, "sequences": sequences });
    let mut child = Command::new("python3")
        .arg(manifest().join("tests/sim/pyvisa_sim_driver.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(request.to_string().as_bytes())
        .expect("driver reads its input");
    let out = child.wait_with_output().expect("driver finishes");
    assert!(
        out.status.success(),
        "the pyvisa-sim driver failed on `{}`:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("driver prints JSON")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> String {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(b'?'))
        .collect();
    format!("{:?}", String::from_utf8_lossy(&bytes))
}

/// Runs the sequences through replay's engine.
fn run_replay(file: &Path, sequences: &[Sequence]) -> Vec<Vec<Answer>> {
    let sim = SimFile::load(file).unwrap_or_else(|e| panic!("{e:?}"));
    sequences
        .iter()
        .map(|sequence| {
            let mut device = sim.device(&sequence.resource).expect("resource exists");
            sequence
                .commands
                .iter()
                .map(|command| {
                    let mut message = command.as_bytes().to_vec();
                    message.extend_from_slice(device.query_terminator());
                    let error = device.write(&message).is_err();
                    let mut reads = Vec::new();
                    while let Some(reply) = device.read() {
                        reads.push(hex(&reply));
                    }
                    Answer { reads, error }
                })
                .collect()
        })
        .collect()
}

/// Digits replaced, for replies made of random values.
fn without_digits(answer: &Answer) -> Answer {
    let mut answer = answer.clone();
    for read in &mut answer.reads {
        let text = unhex(read);
        let mut out = String::new();
        let mut last_digit = false;
        for c in text.chars() {
            if c.is_ascii_digit() || c == '-' || c == '+' {
                if !last_digit {
                    out.push('9');
                }
                last_digit = true;
            } else {
                out.push(c);
                last_digit = false;
            }
        }
        *read = out;
    }
    answer
}

/// Asserts both engines answered alike; returns how many commands were compared.
fn compare(file: &Path, sequences: &[Sequence], random: &BTreeSet<String>) -> usize {
    let ours = run_replay(file, sequences);
    let theirs = run_pyvisa_sim(file, sequences);
    assert_eq!(ours.len(), theirs.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for ((sequence, ours), theirs) in sequences.iter().zip(&ours).zip(&theirs) {
        for ((command, a), b) in sequence.commands.iter().zip(ours).zip(theirs) {
            compared += 1;
            let same = if command.split(';').any(|part| random.contains(part)) {
                without_digits(a) == without_digits(b)
            } else {
                a == b
            };
            if !same {
                let show = |x: &Answer| {
                    let reads: Vec<String> = x.reads.iter().map(|r| unhex(r)).collect();
                    format!("reads {reads:?}, error {}", x.error)
                };
                failures.push(format!(
                    "{} `{command}`:\n    replay:     {}\n    pyvisa-sim: {}",
                    sequence.resource,
                    show(a),
                    show(b)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} commands answered differently on `{}`:\n{}",
        failures.len(),
        file.display(),
        failures.join("\n")
    );
    compared
}

/// Sample values for a setter field of the given format type.
fn samples(kind: char, valid: &[String]) -> Vec<String> {
    let mut out: Vec<String> = match kind {
        'd' => ["0", "1", "2", "7", "-1", "101", "x", "1.5"]
            .map(str::to_owned)
            .to_vec(),
        'x' => ["ff", "0", "1A", "zz"].map(str::to_owned).to_vec(),
        'e' | 'f' | 'g' | 'E' | 'F' | 'G' => [
            "1.5", "2.000", "0.50", "10", "5", "6", "12.25", "30.5", "-2.5", "0.001", "1e3", "abc",
        ]
        .map(str::to_owned)
        .to_vec(),
        '%' => ["50%", "12.5%", "5"].map(str::to_owned).to_vec(),
        _ => ["1", "2", "3", "XYZ", "ON", "P25V", "CC", "hello world", ""]
            .map(str::to_owned)
            .to_vec(),
    };
    out.extend(valid.iter().cloned());
    out
}

/// The type letter of the first value field of a setter pattern (`VOLT {:.3f}` → `f`).
fn value_field_kind(pattern: &str) -> char {
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        let field = &rest[start + 1..end];
        rest = &rest[end.min(rest.len() - 1) + 1..];
        if field.starts_with("ch_id") {
            continue;
        }
        return field
            .rsplit(':')
            .next()
            .and_then(|spec| spec.chars().last())
            .filter(|c| "dxefgEFG%s".contains(*c) && field.contains(':'))
            .unwrap_or('s');
    }
    's'
}

/// Fills a setter pattern: `{ch_id}` with `ch`, the value field with `value`.
fn fill(pattern: &str, ch: Option<&str>, value: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}').map(|e| start + e) else {
            break;
        };
        let field = &rest[start + 1..end];
        if field.starts_with("ch_id") {
            out.push_str(ch.unwrap_or("1"));
        } else {
            out.push_str(value);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn strs(v: Option<&yaml_serde::Value>) -> Vec<String> {
    v.and_then(|v| v.as_sequence())
        .map(|s| s.iter().map(scalar).collect())
        .unwrap_or_default()
}

fn scalar(v: &yaml_serde::Value) -> String {
    match v {
        yaml_serde::Value::String(s) => s.clone(),
        yaml_serde::Value::Number(n) => n.to_string(),
        yaml_serde::Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        _ => String::new(),
    }
}

fn get<'a>(v: &'a yaml_serde::Value, key: &str) -> Option<&'a yaml_serde::Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn q_of(v: &yaml_serde::Value) -> Option<String> {
    get(v, "q").map(|q| scalar(q).trim_matches(' ').to_owned())
}

fn has_random(v: &yaml_serde::Value) -> bool {
    get(v, "r").is_some_and(|r| scalar(r).contains("RANDOM"))
}

/// Commands that exercise one device definition: every dialogue, getter, register and
/// queue query, every setter with valid, rejected and unparsable values (each followed by
/// its getter and the error queries), channel commands per id, and unmatched commands.
fn commands_for(
    device: &yaml_serde::Value,
    channel_ids: Option<&yaml_serde::Value>,
    random: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut commands = vec!["NOT:A:COMMAND?".to_owned()];
    let mut error_queries = Vec::new();
    if let Some(error) = get(device, "error") {
        for key in ["status_register", "error_queue"] {
            for entry in get(error, key)
                .and_then(|v| v.as_sequence())
                .into_iter()
                .flatten()
            {
                error_queries.extend(q_of(entry));
            }
        }
    }
    commands.extend(error_queries.iter().cloned());
    let mut component = |c: &yaml_serde::Value, ids: &[String], commands: &mut Vec<String>| {
        let for_ids = |q: &str| -> Vec<(Option<String>, String)> {
            if q.contains("{ch_id}") && !ids.is_empty() {
                ids.iter()
                    .chain(std::iter::once(&"9".to_owned()))
                    .map(|id| (Some(id.clone()), q.replace("{ch_id}", id)))
                    .collect()
            } else {
                vec![(None, q.to_owned())]
            }
        };
        for d in get(c, "dialogues")
            .and_then(|v| v.as_sequence())
            .into_iter()
            .flatten()
        {
            if let Some(q) = q_of(d) {
                for (_, q) in for_ids(&q) {
                    if has_random(d) {
                        random.insert(q.clone());
                    }
                    commands.push(q);
                }
            }
        }
        for (_, p) in get(c, "properties")
            .and_then(|v| v.as_mapping())
            .into_iter()
            .flatten()
        {
            let getter = get(p, "getter").and_then(q_of);
            if let Some(g) = &getter {
                for (_, q) in for_ids(g) {
                    if get(p, "getter").is_some_and(has_random) {
                        random.insert(q.clone());
                    }
                    commands.push(q);
                }
            }
            let Some(setter) = get(p, "setter").and_then(q_of) else {
                continue;
            };
            let valid = strs(get(p, "specs").and_then(|s| get(s, "valid")));
            let kind = value_field_kind(&setter);
            let channels: Vec<Option<String>> = if setter.contains("{ch_id}") {
                ids.iter()
                    .cloned()
                    .map(Some)
                    .chain([Some("9".to_owned())])
                    .collect()
            } else {
                vec![None]
            };
            for ch in &channels {
                for value in samples(kind, &valid) {
                    commands.push(fill(&setter, ch.as_deref(), &value));
                    if let Some(g) = &getter {
                        commands.push(fill(g, ch.as_deref(), ""));
                    }
                    commands.extend(error_queries.iter().cloned());
                }
            }
        }
    };
    component(device, &[], &mut commands);
    for (name, ch) in get(device, "channels")
        .and_then(|v| v.as_mapping())
        .into_iter()
        .flatten()
    {
        let name = scalar(name);
        let mut ids = channel_ids
            .and_then(|m| get(m, &name))
            .map(|v| strs(Some(v)))
            .unwrap_or_default();
        if ids.is_empty() {
            ids = strs(get(ch, "ids"));
        }
        component(ch, &ids, &mut commands);
    }
    // Several commands in one message, an empty one, and one with spaces around it.
    let firsts: Vec<String> = commands.iter().skip(1).take(3).cloned().collect();
    commands.push(firsts.join(";"));
    commands.push(String::new());
    if let Some(first) = firsts.first() {
        commands.push(format!(" {first}"));
        commands.push(format!("{first};"));
    }
    commands
}

/// Sequences for every resource of a file (devices from other files included).
fn sequences_for(file: &Path, random: &mut BTreeSet<String>) -> Vec<Sequence> {
    let text = std::fs::read_to_string(file).expect("device file reads");
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect("device file parses");
    let mut out = Vec::new();
    for (name, resource) in get(&doc, "resources")
        .and_then(|v| v.as_mapping())
        .into_iter()
        .flatten()
    {
        let device_name = get(resource, "device").map(scalar).unwrap_or_default();
        let other;
        let source = match get(resource, "filename").map(scalar) {
            Some(f) => {
                let text = std::fs::read_to_string(file.parent().unwrap().join(f))
                    .expect("referenced file reads");
                other = yaml_serde::from_str::<yaml_serde::Value>(&text).expect("parses");
                &other
            }
            None => &doc,
        };
        let Some(device) = get(source, "devices").and_then(|d| get(d, &device_name)) else {
            continue;
        };
        out.push(Sequence {
            resource: scalar(name),
            commands: commands_for(device, get(resource, "channel_ids"), random),
        });
    }
    out
}

#[test]
fn feature_file_answers_as_pyvisa_sim() {
    if pyvisa_sim_dir().is_none() {
        return;
    }
    let file = manifest().join("tests/sim/features.yaml");
    let mut random = BTreeSet::new();
    let mut sequences = sequences_for(&file, &mut random);
    // Hand-written paths the generator does not take.
    sequences.push(Sequence {
        resource: "TCPIP::psu.local::INSTR".to_owned(),
        commands: [
            "VOLT 31.0",
            "SYST:ERR?",
            "*ESR?",
            "*ESR?",
            "VOLT 12.5;VOLT?;OUTP 1;OUTP?",
            "CH2:LEV 3.50",
            "CH1:LEV?",
            "CH2:LEV?",
            "CH9:LEV 1.00",
            "CH9:LEV?",
            "UNTYPED?",
            "UNTYPED 5",
            "UNTYPED?",
            "TRUNC 2.7",
            "TRUNC?",
            "LABEL ",
            "LABEL?",
            "MODE OFF",
            "MODE?",
            "RATIO 0.25",
            "RATIO?",
            "TWO:LINES?",
            "EMPTY?",
            "SPACED?",
            "NOISE?",
        ]
        .map(str::to_owned)
        .to_vec(),
    });
    sequences.push(Sequence {
        resource: "TCPIP::dmm.local::INSTR".to_owned(),
        commands: [
            "RANG?",
            "ROUT 2",
            "RANG 100",
            "RANG?",
            "ROUT 1",
            "RANG?",
            "ROUT 3",
            "RANG?",
            "INP:NAME?",
            "RANG 5",
            "SYST:ERR?",
            "FUNC CURR",
            "FUNC?",
            "FUNC AC",
            "SYST:ERR?",
        ]
        .map(str::to_owned)
        .to_vec(),
    });
    sequences.push(Sequence {
        resource: "TCPIP::plain.local::INSTR".to_owned(),
        commands: ["*IDN?|*IDN?", "A;B", "*IDN?;*IDN?", "X|*IDN?"]
            .map(str::to_owned)
            .to_vec(),
    });
    random.insert("NOISE?".to_owned());
    let compared = compare(&file, &sequences, &random);
    assert!(compared > 400, "only {compared} commands compared");
}

#[test]
fn every_device_file_shipped_with_pyvisa_sim_answers_as_pyvisa_sim() {
    let Some(dir) = pyvisa_sim_dir() else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("package directory lists") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no device files found under `{}`",
        dir.display()
    );
    let mut summary = Vec::new();
    for file in &files {
        let mut random = BTreeSet::new();
        let sequences = sequences_for(file, &mut random);
        let compared = compare(file, &sequences, &random);
        summary.push(format!("{}: {compared} commands", file.display()));
    }
    eprintln!("{}", summary.join("\n"));
}
