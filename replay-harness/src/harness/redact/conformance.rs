//! Our redactions against insta's own (its `redactions` feature, on in this crate's
//! dev-dependencies only): the same selectors on the same value give the same snapshot
//! text, and the selectors insta rejects (or panics on) are rejected.

use std::collections::BTreeMap;

use insta::_macro_support::{Selector as InstaSelector, SerializationFormat, serialize_value};
use serde::{Serialize, Serializer};

use super::{Selector, sort_maps, to_content};

#[derive(Serialize)]
struct Marker;

#[derive(Serialize)]
struct Wrapper(String);

#[derive(Serialize)]
struct Point(i32, i32);

#[derive(Serialize)]
enum Mode {
    Idle,
    Fixed(u8),
    Sweep(i8, String),
    Ramp { timestamp: f64, level: u16 },
}

#[derive(Serialize)]
struct Step {
    volts: f64,
    timestamp: f64,
    elapsed_ms: u64,
}

#[derive(Serialize)]
struct Inner {
    level: u16,
    timestamp: f64,
    tags: Vec<&'static str>,
}

/// Bytes through `serialize_bytes` (a `Vec<u8>` serializes as a sequence).
struct Bytes(&'static [u8]);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A map in the order given (not sorted), for `sort_maps`.
struct Unsorted(Vec<(&'static str, i32)>);

impl Serialize for Unsorted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
struct Rich {
    name: String,
    serial: &'static str,
    readings: Vec<f64>,
    ratio: f32,
    by_name: BTreeMap<String, u32>,
    by_channel: BTreeMap<i64, String>,
    by_pair: BTreeMap<(u8, bool), char>,
    unsorted: Unsorted,
    nested: Option<Option<Inner>>,
    missing: Option<u8>,
    modes: Vec<Mode>,
    pair: (u64, i128),
    big: u128,
    unit: (),
    marker: Marker,
    newtype: Wrapper,
    point: Point,
    bytes: Bytes,
    timestamp: f64,
    steps: Vec<Step>,
    #[serde(rename = "tension_é")]
    tension: f64,
    #[serde(rename = "a\\b")]
    backslash: bool,
    #[serde(rename = "$key")]
    dollar: i8,
}

fn rich() -> Rich {
    Rich {
        name: "psu \"A\"\nline 2".into(),
        serial: "CN61130056",
        readings: vec![4.99918, -0.5, 1e-9, f64::NAN],
        ratio: 0.1,
        by_name: [("b", 2), ("a", 1), ("c", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        by_channel: [(2, "two"), (-1, "minus one"), (10, "ten")]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect(),
        by_pair: [((1, true), 'x'), ((0, false), 'y')].into_iter().collect(),
        unsorted: Unsorted(vec![("z", 26), ("a", 1), ("m", 13)]),
        nested: Some(Some(Inner {
            level: 3,
            timestamp: 1.5,
            tags: vec!["hot", "cold"],
        })),
        missing: None,
        modes: vec![
            Mode::Idle,
            Mode::Fixed(7),
            Mode::Sweep(-2, "up".into()),
            Mode::Ramp {
                timestamp: 2.25,
                level: 9,
            },
        ],
        pair: (u64::MAX, i128::MIN),
        big: u128::MAX,
        unit: (),
        marker: Marker,
        newtype: Wrapper("wrapped".into()),
        point: Point(-3, 4),
        bytes: Bytes(b"\x00\xffok"),
        timestamp: 0.713654,
        steps: vec![
            Step {
                volts: 5.0,
                timestamp: 0.1,
                elapsed_ms: 12,
            },
            Step {
                volts: 3.3,
                timestamp: 0.2,
                elapsed_ms: 15,
            },
        ],
        tension: 230.0,
        backslash: true,
        dollar: -1,
    }
}

/// Selectors insta accepts, each compared on its own and in sequence with the others.
const SELECTORS: &[&str] = &[
    ".name",
    ".serial",
    "[\"serial\"]",
    ".readings[0]",
    ".readings[3]",
    ".readings[]",
    ".readings[1:]",
    ".readings[:-1]",
    ".readings[-2:]",
    ".readings[1:3]",
    ".readings[-10:10]",
    ".readings[:1]",
    ".readings.*",
    ".by_name.*",
    ".by_name.$key",
    ".by_name[\"b\"]",
    ".by_name.b",
    ".by_channel[2]",
    ".by_channel[10]",
    ".by_pair.$key[0]",
    ".by_pair.*",
    ".unsorted.$key",
    ".unsorted.m",
    ".nested.timestamp",
    ".nested.tags[1]",
    ".nested.*",
    ".nested",
    ".missing",
    ".modes[]",
    ".modes[1]",
    ".modes[2][0]",
    ".modes[3].timestamp",
    ".modes.*.level",
    ".**.timestamp",
    ".**.level",
    ".**",
    ".**[0]",
    ".steps[].volts",
    ".steps.**.elapsed_ms",
    ".**.steps[1].volts",
    ".*",
    ".*.*",
    ".",
    ".pair[1]",
    ".pair[0]",
    ".big",
    ".unit",
    ".marker",
    ".newtype",
    ".point[0]",
    ".bytes",
    ".bytes[0]",
    ".tension_é",
    "[\"tension_é\"]",
    "[\"a\\\\b\"]",
    "[\"a\\b\"]",
    ".$key",
    "[\"$key\"]",
    "  .name , .serial ,",
    ".name,",
    ". **.volts",
    ". *",
    ".readings[ 1]",
    ".readings[ ]",
    ".readings[ 1: 2]",
    ".readings[ : -1]",
    ".readings[ -2:]",
    "[ \"serial\" ]",
    ".readings[003]",
    ".readings[-0:]",
    ".steps [0] .volts",
    ".no_such_field",
];

/// Selectors insta rejects, or panics on while parsing them.
const INVALID: &[&str] = &[
    "",
    " ",
    "no dot",
    "name",
    "..name",
    ".name.",
    ".0",
    ". name",
    ".[0]",
    "[abc]",
    "[-1]",
    "[- 1]",
    "[1 2]",
    "[1 ]",
    "[1 :2]",
    "[1:2 ]",
    "[٣]",
    "[99999999999999999999]",
    "[:]",
    "[1: ]",
    "[1:2:3]",
    "[1",
    "[\"open",
    "[\"a\"b\"]",
    ".**.a.**",
    ".a,,.b",
    ",.a",
    ".*x",
    ".***",
    ".a b",
    ".na-me",
    "['a']",
];

/// Where insta is wrong and ours refuses: insta reads these as `[]` (every element).
const MISREAD_BY_INSTA: &[&str] = &[
    "[:1 ]",
    "[-1 :]",
    "[- 1:]",
    "[1 1:]",
    "[99999999999999999999:]",
    "[:٣]",
];

/// Whether insta parses `selector` to the whole range `[]` only.
fn insta_reads_as_full_range(selector: &str) -> bool {
    InstaSelector::parse(selector)
        .is_ok_and(|s| format!("{s:?}") == "Selector { selectors: [[Range(None, None)]] }")
}

fn ours(value: &impl Serialize, redactions: &[(&str, &str)]) -> String {
    let mut content = to_content(value).unwrap();
    if insta::Settings::clone_current().sort_maps() {
        sort_maps(&mut content);
    }
    for (selector, replacement) in redactions {
        Selector::parse(selector)
            .unwrap_or_else(|e| panic!("`{selector}` must parse: {e}"))
            .redact(&mut content, replacement);
    }
    serialize_value(&content, SerializationFormat::Yaml)
}

/// insta's redactions as the snapshot code used them before: bound in the settings, so
/// that maps are sorted (when asked) before redacting.
fn theirs(value: &impl Serialize, redactions: &[(&str, &str)]) -> String {
    let mut settings = insta::Settings::clone_current();
    for (selector, replacement) in redactions {
        settings.add_redaction(selector, *replacement);
    }
    settings.bind(|| serialize_value(value, SerializationFormat::Yaml))
}

#[test]
fn unredacted_content_renders_as_insta_renders_the_value() {
    let value = rich();
    assert_eq!(
        ours(&value, &[]),
        serialize_value(&value, SerializationFormat::Yaml)
    );
}

#[test]
fn each_selector_redacts_what_insta_redacts() {
    let value = rich();
    let unredacted = ours(&value, &[]);
    let mut unchanged = Vec::new();
    for selector in SELECTORS {
        let redactions = [(*selector, "[redacted]")];
        let expected = theirs(&value, &redactions);
        assert_eq!(ours(&value, &redactions), expected, "selector `{selector}`");
        if expected == unredacted {
            unchanged.push(*selector);
        }
    }
    // The table exercises redaction, not only parsing.
    // `["a\b"]` is the key `ab` (a backslash keeps the next character), which is not there.
    assert_eq!(unchanged, [".bytes[0]", "[\"a\\b\"]", ".no_such_field"]);
}

#[test]
fn redactions_in_sequence_and_with_sorted_maps_match_insta() {
    let value = rich();
    let all: Vec<(&str, &str)> = SELECTORS
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 1)
        .map(|(_, s)| (*s, "[x]"))
        .collect();
    assert_eq!(ours(&value, &all), theirs(&value, &all));
    let mut sorted = insta::Settings::clone_current();
    sorted.set_sort_maps(true);
    sorted.bind(|| {
        for selector in SELECTORS {
            let redactions = [(*selector, "[k]")];
            assert_eq!(
                ours(&value, &redactions),
                theirs(&value, &redactions),
                "selector `{selector}` with sorted maps"
            );
        }
    });
}

#[test]
fn selectors_insta_rejects_are_rejected() {
    for selector in INVALID {
        let insta_rejects =
            std::panic::catch_unwind(|| InstaSelector::parse(selector).is_err()).unwrap_or(true);
        assert!(insta_rejects, "insta accepts `{selector}`: fix the table");
        assert!(
            Selector::parse(selector).is_err(),
            "`{selector}` must be rejected"
        );
    }
}

#[test]
fn numbers_insta_misreads_are_rejected() {
    for selector in MISREAD_BY_INSTA {
        assert!(
            insta_reads_as_full_range(selector),
            "`{selector}`: fix the table"
        );
        let err = Selector::parse(selector).unwrap_err();
        assert!(err.to_string().contains("number"), "`{selector}`: {err}");
    }
}

/// Selectors built from a small alphabet of tokens: wherever insta accepts one, ours
/// redacts the same; wherever insta rejects (or panics), ours rejects.
#[test]
fn generated_selectors_agree_with_insta() {
    const TOKENS: &[&str] = &[
        ".steps",
        ".readings",
        ".name",
        ".by_channel",
        ".nested",
        ".$key",
        ".*",
        ".**",
        "[0]",
        "[1]",
        "[-1:]",
        "[:2]",
        "[]",
        "[\"volts\"]",
        ".volts",
        ".timestamp",
        ",",
        " ",
        ".",
        "[",
        "]",
        "-",
        ":",
        "1",
        "\"",
        "é",
        "\\",
        "*",
    ];
    let value = rich();
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..4000 {
        let len = 1 + next() % 7;
        let selector: String = (0..len).map(|_| TOKENS[next() % TOKENS.len()]).collect();
        let insta = std::panic::catch_unwind(|| InstaSelector::parse(&selector).is_ok());
        match (insta, Selector::parse(&selector)) {
            (Ok(true), Ok(_)) => {
                accepted += 1;
                let redactions = [(selector.as_str(), "[r]")];
                assert_eq!(
                    ours(&value, &redactions),
                    theirs(&value, &redactions),
                    "selector `{selector}`"
                );
            }
            (Ok(false) | Err(_), Err(_)) => rejected += 1,
            (Ok(true), Err(e)) => {
                assert!(
                    insta_reads_as_full_range(&selector) && e.to_string().contains("number"),
                    "`{selector}`: insta accepts it, ours rejects it: {e}"
                );
                rejected += 1;
            }
            (Ok(false) | Err(_), Ok(_)) => {
                panic!("`{selector}`: insta rejects it, ours accepts it")
            }
        }
    }
    assert!(
        accepted > 500 && rejected > 500,
        "{accepted} accepted, {rejected} rejected"
    );
}
