//! The streaming session reader and `yaml_serde` agree on every text.
//!
//! The contract of the fast path: whenever it returns `Some(session)`, `session` is what
//! `yaml_serde` reads from the same text. And it must take the fast path for what our writer
//! emits, or it is not worth having.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use replay_core::session::__bench::{fast_read, yaml_serde_read};
use replay_core::session::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, RecordedErrorKind, Session,
    render_session,
};

fn general(text: &str) -> Option<Session> {
    yaml_serde_read(Path::new("session.yaml"), text).ok()
}

/// Both readers agree: when the fast path reads `text`, `yaml_serde` reads the same session.
/// Returns what the fast path read.
fn assert_agree(text: &str) -> Option<Session> {
    let fast = fast_read(text);
    if let Some(session) = &fast {
        assert_eq!(
            general(text).as_ref(),
            Some(session),
            "the fast path read a session yaml_serde does not read the same from:\n{text}"
        );
    }
    fast
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/// Fragments YAML cares about; strings are built from them so that odd mixes are common.
const PIECES: &[&str] = &[
    "'",
    "\"",
    "''",
    "#",
    " #",
    ": ",
    ":",
    "- ",
    "-",
    "? ",
    "?",
    " ",
    "  ",
    "*",
    "&",
    "!",
    "%",
    "@",
    "`",
    "|",
    ">",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\\",
    "\\n",
    "~",
    "---",
    "...",
    "<<",
    "=",
    "é",
    "日本",
    "\u{1F600}",
    "\u{a0}",
    "\t",
    "\n",
    "\n\n",
    "\r",
    "\r\n",
    "\0",
    "\x07",
    "\x1b",
    "\x7f",
    "\u{85}",
    "\u{9f}",
    "\u{feff}",
    "\u{fffe}",
    "null",
    "Null",
    "NULL",
    "true",
    "False",
    "yes",
    "no",
    "on",
    "0",
    "0123",
    "-1",
    "+1",
    "1.5",
    "1e3",
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "0b1",
    "1_000",
    "VOLT",
    "MEAS:VOLT? (@1)",
    "*IDN?",
    ":SYSTem:ERRor?",
    "+0,\"No error\"",
    "a",
    "b",
    "x y",
];

/// Whole values that resolve to something other than a string when plain.
const WHOLE: &[&str] = &[
    "", " ", "null", "Null", "NULL", "~", "true", "True", "FALSE", "1", "-1", "+1", "0123",
    "-0123", "1.5", "-1.5e-3", "1e3", ".inf", "-.Inf", ".NaN", "0x1F", "-0x1F", "0o17", "0b101",
    "1_000", "123abc", " lead", "trail ", " both ", "- item", "-item", "? key", "?key", ": v",
    ":v", "a: b", "a:b", "a #b", "a#b", "#c", "'q'", "\"q\"", "&anchor", "*alias", "!tag", "%dir",
    "@at", "`tick`", "|", ">", "---", "--- x", "...", "[1]", "{a: 1}", "a\nb", "a\n", "\n",
    "\n\na", "a\n\n", " a\nb", "a\n b", "a \nb", "x\t", "\r\n",
];

fn piecewise(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..max_pieces).prop_map(|p| p.concat())
}

/// Any text at all (the writer must cope, and both readers must agree on what it wrote).
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => piecewise(8),
        2 => prop::sample::select(WHOLE).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => "[ -~]{0,40}",
    ]
    .boxed()
}

/// Text the writer renders in the supported layout: anything but the Unicode line
/// separators, which libyaml's emitter writes raw into quoted scalars.
fn supported_text() -> BoxedStrategy<String> {
    any_text()
        .prop_map(|s| s.replace(['\u{2028}', '\u{2029}'], "_"))
        .boxed()
}

/// An alias the writer renders as a simple key: no line break (`\n`, `\r`, NEL), at most
/// 128 bytes (libyaml's emitter writes other keys as `? key`).
fn supported_alias() -> impl Strategy<Value = String> {
    supported_text().prop_map(|s| {
        let mut alias = String::new();
        for c in s.chars() {
            let c = if matches!(c, '\n' | '\r' | '\u{85}') {
                '_'
            } else {
                c
            };
            if alias.len() + c.len_utf8() > 128 {
                break;
            }
            alias.push(c);
        }
        alias
    })
}

fn finite_timestamp() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => 0.0..1.0e4f64,
        1 => prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        1 => (0u32..100_000).prop_map(f64::from),
        1 => Just(1e-7),
    ]
    .boxed()
}

fn kind(text: impl Strategy<Value = String>) -> impl Strategy<Value = InteractionKind> {
    prop_oneof![
        4 => Just(InteractionKind::Query),
        3 => Just(InteractionKind::Write),
        1 => Just(InteractionKind::QueryRaw),
        1 => Just(InteractionKind::Read),
        // `InteractionKind::parse` is what the readers build, so `Other("write")` is `Write`.
        1 => text.prop_map(|name| InteractionKind::parse(&name)),
    ]
}

fn recorded_error(
    text: impl Strategy<Value = String> + Clone,
) -> impl Strategy<Value = RecordedError> {
    (
        prop_oneof![
            Just(RecordedErrorKind::Timeout),
            Just(RecordedErrorKind::Io),
            text.clone()
                .prop_map(|name| RecordedErrorKind::parse(&name)),
        ],
        text,
        prop::option::weighted(
            0.5,
            prop_oneof![
                (0u64..100_000).prop_map(std::time::Duration::from_millis),
                (0u64..100_000_000_000).prop_map(std::time::Duration::from_micros),
            ],
        ),
    )
        .prop_map(|(kind, message, timeout)| {
            RecordedError::new(kind, message).with_timeout(timeout)
        })
}

fn interaction(
    text: impl Strategy<Value = String> + Clone,
    timestamp: impl Strategy<Value = f64>,
) -> impl Strategy<Value = Interaction> {
    (
        kind(text.clone()),
        text.clone(),
        prop::option::weighted(0.7, text.clone()),
        prop::option::weighted(0.1, prop::collection::vec(any::<u8>(), 0..64)),
        prop::option::weighted(0.1, recorded_error(text)),
        timestamp,
    )
        .prop_map(|(kind, command, response, binary, error, timestamp)| {
            let mut interaction = Interaction::new(kind, command, timestamp);
            interaction.response = response;
            interaction.binary = binary;
            interaction.error = error;
            interaction
        })
}

fn session(
    alias: impl Strategy<Value = String>,
    text: impl Strategy<Value = String> + Clone,
    timestamp: impl Strategy<Value = f64> + Clone,
    min_entries: usize,
) -> impl Strategy<Value = Session> {
    let log = (
        prop::option::of(text.clone()),
        prop::collection::vec(interaction(text, timestamp), min_entries..6),
    )
        .prop_map(|(profile, log)| InstrumentLog::new(profile, log));
    prop::collection::vec((alias, log), 1..4).prop_map(|instruments| {
        let mut unique: Vec<(String, InstrumentLog)> = Vec::new();
        for (alias, log) in instruments {
            if !unique.iter().any(|(known, _)| *known == alias) {
                unique.push((alias, log));
            }
        }
        Session::new(unique)
    })
}

/// Sessions whose rendering is in the layout the fast path reads.
fn supported_session() -> impl Strategy<Value = Session> {
    session(supported_alias(), supported_text(), finite_timestamp(), 1)
}

/// Any session the model can hold, including ones the fast path hands to `yaml_serde`.
fn any_session() -> impl Strategy<Value = Session> {
    session(any_text(), any_text(), any::<f64>().boxed(), 0)
}

/// One edit of a rendered session text.
#[derive(Clone, Debug)]
enum Mutation {
    /// Delete the character at this fraction of the text.
    Delete(prop::sample::Index),
    /// Insert text before the character at this fraction of the text.
    Insert(prop::sample::Index, &'static str),
    /// Add spaces in front of a line.
    Indent(prop::sample::Index, usize),
    /// Remove up to this many spaces from the front of a line.
    Dedent(prop::sample::Index, usize),
    /// Delete a line.
    DeleteLine(prop::sample::Index),
    /// Repeat a line.
    DuplicateLine(prop::sample::Index),
    /// Swap a line with the next one.
    SwapLines(prop::sample::Index),
}

const INSERTS: &[&str] = &[
    "\n      ",
    "\\\n",
    "\n\n      ",
    "\r",
    "\r\n",
    " ",
    "  ",
    "\n",
    "\n\n",
    ":",
    ": ",
    "-",
    "- ",
    "#",
    " #",
    "'",
    "\"",
    "''",
    "|",
    "|-",
    ">",
    "&a ",
    "*a",
    "!!str ",
    "{",
    "[",
    "?",
    "\\",
    "\t",
    "\r",
    "0",
    ".",
    "e",
    "x",
    "~",
    "null",
    "---\n",
    "...\n",
    "# note\n",
    "\u{2028}",
    "\u{feff}",
    "é",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        index().prop_map(Mutation::Delete),
        (index(), prop::sample::select(INSERTS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (index(), 1usize..5).prop_map(|(i, n)| Mutation::Indent(i, n)),
        (index(), 1usize..5).prop_map(|(i, n)| Mutation::Dedent(i, n)),
        index().prop_map(Mutation::DeleteLine),
        index().prop_map(Mutation::DuplicateLine),
        index().prop_map(Mutation::SwapLines),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    match mutation {
        Mutation::Delete(at) if !chars.is_empty() => {
            let at = at.index(chars.len());
            chars[..at].iter().chain(&chars[at + 1..]).collect()
        }
        Mutation::Insert(at, insert) => {
            let at = at.index(chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(insert);
            out.extend(&chars[at..]);
            out
        }
        Mutation::Indent(at, n) => {
            let at = at.index(lines.len());
            lines[at].insert_str(0, &" ".repeat(*n));
            lines.join("\n")
        }
        Mutation::Dedent(at, n) => {
            let at = at.index(lines.len());
            let spaces = lines[at].len() - lines[at].trim_start_matches(' ').len();
            lines[at].drain(..spaces.min(*n));
            lines.join("\n")
        }
        Mutation::DeleteLine(at) => {
            lines.remove(at.index(lines.len()));
            lines.join("\n")
        }
        Mutation::DuplicateLine(at) => {
            let at = at.index(lines.len());
            let line = lines[at].clone();
            lines.insert(at, line);
            lines.join("\n")
        }
        Mutation::SwapLines(at) if lines.len() > 1 => {
            let at = at.index(lines.len() - 1);
            lines.swap(at, at + 1);
            lines.join("\n")
        }
        _ => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// 512 cases per property unless `PROPTEST_CASES` says otherwise.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(512)
}

/// How many mutated texts the fast path still read (printed with `--nocapture`).
static MUTANTS_READ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// What the writer emits is read on the fast path, exactly, and `yaml_serde` agrees.
    #[test]
    fn the_fast_path_reads_what_the_writer_writes(session in supported_session()) {
        let text = render_session(&session);
        let general = general(&text);
        prop_assert_eq!(general.as_ref(), Some(&session), "yaml_serde:\n{}", text);
        let fast = fast_read(&text);
        prop_assert_eq!(fast.as_ref(), Some(&session), "fast path:\n{}", text);
        // The same file with Windows line ends (git `autocrlf`, Python on Windows).
        let crlf = text.replace('\n', "\r\n");
        let general = yaml_serde_read(Path::new("session.yaml"), &crlf).ok();
        prop_assert_eq!(general.as_ref(), Some(&session), "yaml_serde, CRLF:\n{}", crlf);
        let fast = fast_read(&crlf);
        prop_assert_eq!(fast.as_ref(), Some(&session), "fast path, CRLF:\n{}", crlf);
    }

    /// Whatever the model holds, the two readers never disagree on the rendered text.
    #[test]
    fn the_readers_agree_on_any_rendered_session(session in any_session()) {
        let text = render_session(&session);
        assert_agree(&text);
    }

    /// Damaged files: when the fast path still reads one, `yaml_serde` reads the same.
    #[test]
    fn the_readers_agree_on_mutated_files(
        session in supported_session(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut text = render_session(&session);
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        if assert_agree(&text).is_some() {
            let read = MUTANTS_READ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if read.is_multiple_of(100) {
                eprintln!("{read} mutated texts read on the fast path");
            }
        }
    }

    /// The same for texts PyYAML wrote (folded long scalars, other indentations).
    #[test]
    fn the_readers_agree_on_mutated_pyyaml_texts(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let texts = pyyaml_texts();
        let mut text = texts[index.index(texts.len())].clone();
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        assert_agree(&text);
    }
}

// ---------------------------------------------------------------------------------------
// Hand-picked texts
// ---------------------------------------------------------------------------------------

fn pytestlab(name: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sessions/pytestlab")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()));
    (path, text)
}

#[test]
fn pytestlab_sessions_take_the_fast_path() {
    for name in ["psu_session.yaml", "scope_dmm_session.yaml"] {
        let (path, text) = pytestlab(name);
        let fast = fast_read(&text).unwrap_or_else(|| panic!("`{name}` left the fast path"));
        let general = yaml_serde_read(&path, &text).expect("yaml_serde reads the fixture");
        assert_eq!(fast, general, "{name}");
    }
    let (_, text) = pytestlab("psu_session.yaml");
    let psu = fast_read(&text).expect("fast path");
    let log = &psu.instrument("psu").expect("psu").log;
    assert_eq!(log[0].command, "*IDN?");
    assert_eq!(log[8].response.as_deref(), Some("1.499663"));
}

/// Each value of `WHOLE` written plain, single-quoted and double-quoted by hand, in every
/// field: the readers agree, and plain scalars that YAML reads as plain text stay on the
/// fast path.
#[test]
fn scalars_written_by_hand() {
    let mut fast = 0;
    for value in WHOLE.iter().filter(|v| !v.contains(['\n', '\r', '\t'])) {
        let single = format!("'{}'", value.replace('\'', "''"));
        let double = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
        for written in [value.to_string(), single, double] {
            for key in [
                "command",
                "response",
                "error",
                "error_message",
                "timestamp",
                "response_base64",
            ] {
                let text = format!(
                    "psu:\n  profile: {written}\n  log:\n  - type: {written}\n    {key}: {written}\n"
                );
                if assert_agree(&text).is_some() {
                    fast += 1;
                }
            }
        }
    }
    assert!(
        fast > 200,
        "only {fast} hand-written texts took the fast path"
    );
}

/// Layout variations PyTestLab or a person may produce.
#[test]
fn layouts_by_hand() {
    let accepted = [
        // Entries indented under `log:` (PyYAML with `indent` and a custom dumper).
        "psu:\n    log:\n        - type: query\n          command: '*IDN?'\n          response: x\n",
        // `log` before `profile`, comments and blank lines between lines.
        "# recorded by hand\npsu:\n  log:\n  # first\n  - type: write\n\n    command: OUTP ON\n  profile: p\n",
        // One leading document marker, empty values, no final newline.
        "---\npsu:\n  profile:\n  log:\n  - type: read\n    response:\n    timestamp: 3",
        // Windows line ends.
        "psu:\r\n  log:\r\n  - type: query\r\n    command: |-\r\n      a\r\n\r\n      b\r\n",
        // Long scalars folded over lines, as PyYAML writes them at its default width.
        "psu:\n  log:\n  - type: query\n    command: \"two\n      lines\"\n    response: two\n      lines\n",
        // Quoted aliases.
        "'*odd: alias':\n  log:\n  - type: query\n\"tab\\there\":\n  log:\n  - type: query\n",
    ];
    for text in accepted {
        assert!(assert_agree(text).is_some(), "left the fast path:\n{text}");
    }
    let handed_over = [
        "psu:\n  log:\n  - {type: query, command: x}\n",
        "psu: &a\n  log:\n  - type: query\nother: *a\n",
        "psu:\n  log:\n  - type: !!str query\n",
        "psu:\n  log:\n  - type: query\n    command: x  # trailing comment\n",
        "psu:\n  log:\n  - type: query\n    command: >-\n      folded\n",
        "psu:\n  log:\n  - type: query\n    command:\n      next line\n",
        "psu:\n  log:\n  - type: query\n    command: two\n      # comment\n      lines\n",
        "psu:\n  log:\n  - type: query\n...\n",
        "psu:\n  log:\n  - type: query\n---\nx:\n  log:\n  - type: query\n",
        "psu:\r  log:\r  - type: query\r",
        "psu:\n\tlog:\n",
        "{}\n",
        "~\n",
    ];
    for text in handed_over {
        assert!(
            assert_agree(text).is_none(),
            "took the fast path, expected yaml_serde:\n{text}"
        );
    }
}

/// `tests/fixtures/pyyaml/texts.json` and the whole PyYAML files, loaded once.
fn pyyaml_texts() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut texts: Vec<String> =
            serde_json::from_str(&fixture("texts.json")).expect("texts.json is a list of strings");
        for name in [
            "pytestlab_writer.yaml",
            "unicode_indent4.yaml",
            "indented_sequences.yaml",
        ] {
            texts.push(fixture(name));
        }
        texts
    })
}

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pyyaml")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()))
}

/// Texts PyYAML wrote (`tests/fixtures/pyyaml/generate.py`): PyTestLab's own settings
/// (width 80, so long scalars are folded over lines; non-ASCII escaped) and two other
/// layouts. The readers agree on every one, and the ones without folded or multi-line
/// scalars take the fast path.
#[test]
fn texts_written_by_pyyaml() {
    for name in [
        "pytestlab_writer.yaml",
        "unicode_indent4.yaml",
        "indented_sequences.yaml",
    ] {
        let text = fixture(name);
        assert!(general(&text).is_some(), "yaml_serde reads `{name}`");
        assert_agree(&text);
    }
    let texts: Vec<String> =
        serde_json::from_str(&fixture("texts.json")).expect("texts.json is a list of strings");
    let mut fast = 0;
    for text in &texts {
        if assert_agree(text).is_some() {
            fast += 1;
        }
    }
    eprintln!("{fast} of {} PyYAML texts took the fast path", texts.len());
    assert!(
        fast * 4 >= texts.len() * 3,
        "only {fast} of {} PyYAML texts took the fast path",
        texts.len()
    );
}
