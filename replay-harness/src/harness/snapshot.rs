//! `bench.snapshot("name", &value)`: a test's measured outcome, stored next to its cassette
//! through insta.
//!
//! - **record**: the value is written as `<cassette stem>@<name>.snap` beside the cassette
//!   (insta's file format), so the recording and its results are committed together. The
//!   file is written only once the test passed and its cassette was written: a failed
//!   recording leaves neither.
//! - **replay**: the value is compared with that file by insta; a difference (or a snapshot
//!   not stored yet) fails the test and, outside CI, leaves a pending `.snap.new` to review
//!   with `cargo insta review`.
//!
//! Dynamic values are redacted before they are stored or compared: any field named
//! `timestamp`, `time`, `date`, `started_at`, `finished_at` becomes `[timestamp]`, any
//! field named `duration`, `elapsed`, `duration_ms`, `elapsed_ms` becomes `[duration]`.

use std::cell::RefCell;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use insta::_macro_support::{
    SerializationFormat, Workspace, assert_snapshot, get_cargo_workspace, serialize_value,
};
use replay_core::{Bench, Mode};
use serde::Serialize;

use super::redact::{Selector, sort_maps, to_content};

/// Field names whose values are timestamps, redacted as `[timestamp]`.
const TIMESTAMP_FIELDS: &[&str] = &["timestamp", "time", "date", "started_at", "finished_at"];
/// Field names whose values are durations, redacted as `[duration]`.
const DURATION_FIELDS: &[&str] = &["duration", "elapsed", "duration_ms", "elapsed_ms"];

thread_local! {
    /// Snapshots that failed on this thread since the last [`take_pending`].
    static PENDING: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Snapshots taken on this thread while recording, written once the test passed.
    static RECORDED: RefCell<Vec<(PathBuf, String)>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the snapshots recorded on this thread (the recording failed, or a new one starts).
pub(crate) fn discard_recorded() {
    RECORDED.with(|r| r.borrow_mut().clear());
}

/// Writes the snapshots recorded on this thread, after the test passed and its cassette
/// was written. Returns the first write error.
pub(crate) fn write_recorded() -> Result<(), String> {
    let recorded = RECORDED.with(|r| std::mem::take(&mut *r.borrow_mut()));
    for (path, contents) in recorded {
        replay_support::fs::write_atomic(&path, contents.as_bytes())
            .map_err(|e| format!("failed to write snapshot `{}`: {e}", path.display()))?;
        // A pending review of the old value is moot once the value is re-recorded.
        let mut pending = path.into_os_string();
        pending.push(".new");
        let _ = std::fs::remove_file(pending);
    }
    Ok(())
}

/// The pending snapshots the test that just ran on this thread left behind.
#[cfg(feature = "custom-harness")]
pub(crate) fn take_pending() -> Vec<PathBuf> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Measured outcomes for [`Bench`]: `bench.snapshot("name", &value)`.
///
/// In scope through `use replay_harness::prelude::*` (or `use replay_harness::BenchExt`).
///
/// ```no_run
/// use replay_harness::prelude::*;
///
/// #[derive(serde::Serialize)]
/// struct Ramp { setpoints: Vec<f64>, readings: Vec<f64> }
///
/// #[recorded_test]
/// async fn psu_ramp(bench: &Bench) -> replay_harness::TestResult {
///     let psu = bench.instrument("psu")?;
///     let mut ramp = Ramp { setpoints: vec![1.0, 2.0], readings: vec![] };
///     for v in &ramp.setpoints {
///         psu.write(&format!("VOLT {v}")).await?;
///         ramp.readings.push(psu.query("MEAS:VOLT?").await?.trim().parse()?);
///     }
///     bench.snapshot("ramp", &ramp); // sessions/<target>/psu_ramp@ramp.snap
///     Ok(())
/// }
/// # fn main() {}
/// ```
pub trait BenchExt {
    /// Stores (record) or checks (replay) `value` as the snapshot `name` of this test.
    ///
    /// `name` must be a plain file-name fragment (letters, digits, `_`, `-`, `.`).
    /// Panics, like insta's assertions, when the value differs in replay or the snapshot
    /// cannot be written.
    #[track_caller]
    fn snapshot<T: Serialize + ?Sized>(&self, name: &str, value: &T) {
        self.snapshot_redacted(name, value, &[]);
    }

    /// [`BenchExt::snapshot`] with extra redactions: `(selector, replacement)` pairs such as
    /// `(".serial", "[serial]")`, applied after the built-in ones.
    ///
    /// Selectors are insta's: `.field`, `["key"]`, `[index]` (a sequence element or a map's
    /// number key), `[]` (every element), `[start:end]`, `[start:]`, `[:end]` (negative
    /// bounds count from the end), `.*` (any one field, key or element), `.**` (any depth,
    /// once per selector), `.$key` (a map's keys), `.` (the whole value), and alternatives
    /// separated by `,`. Each selected value becomes the replacement string. An invalid
    /// selector panics with a message naming it and what is wrong.
    #[track_caller]
    fn snapshot_redacted<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
        redactions: &[(&str, &str)],
    );
}

impl BenchExt for Bench {
    #[track_caller]
    fn snapshot_redacted<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
        redactions: &[(&str, &str)],
    ) {
        let caller = Location::caller();
        if let Err(message) = take_snapshot(self, name, value, redactions, caller) {
            panic!("{message}");
        }
    }
}

fn take_snapshot<T: Serialize + ?Sized>(
    bench: &Bench,
    name: &str,
    value: &T,
    extra: &[(&str, &str)],
    caller: &'static Location<'static>,
) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "invalid snapshot name `{name}`: use letters, digits, `_`, `-` or `.` (it becomes part of a file name)"
        ));
    }
    let cassette = std::path::absolute(bench.session_path()).map_err(|e| {
        format!(
            "cannot locate the cassette `{}`: {e}",
            bench.session_path().display()
        )
    })?;
    let dir = cassette.parent().unwrap_or(Path::new("/")).to_owned();
    let stem = cassette
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let snapshot_name = format!("{stem}@{name}");
    let redactions = redactions(extra)?;
    let settings = settings(&dir);
    let contents = settings.bind(|| serialize(value, &redactions))?;
    match bench.mode() {
        Mode::Record => {
            let path = dir.join(format!("{snapshot_name}.snap"));
            let file = format!(
                "---\nsource: {}\nexpression: {}\n---\n{}\n",
                caller.file().replace('\\', "/"),
                replay_support::text::yaml_quoted(&format!("bench.snapshot(\"{name}\")")),
                contents.trim_end()
            );
            // Written by the runtime once the test passed (`write_recorded`); a later
            // snapshot of the same name replaces this one.
            RECORDED.with(|r| {
                let mut r = r.borrow_mut();
                r.retain(|(p, _)| *p != path);
                r.push((path, file));
            });
            Ok(())
        }
        Mode::Replay => {
            // A snapshot added to a test after its recording: insta writes it as pending
            // (`.snap.new`) for review, since replay computes it from the cassette.
            let path = dir.join(format!("{snapshot_name}.snap"));
            let workspace = workspace_root();
            let result = settings.bind(|| {
                std::panic::catch_unwind(|| {
                    assert_snapshot(
                        (snapshot_name.clone(), contents.as_str()).into(),
                        &workspace,
                        name,
                        module_path!(),
                        caller.file(),
                        caller.line(),
                        &format!("bench.snapshot(\"{name}\")"),
                    )
                })
            });
            match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("snapshot `{name}` could not be checked: {e}")),
                Err(payload) => {
                    PENDING.with(|p| p.borrow_mut().push(path));
                    std::panic::resume_unwind(payload)
                }
            }
        }
    }
}

/// insta's settings for a test's snapshots: stored in the cassette's folder under their own
/// name, on top of whatever settings the test itself bound.
fn settings(dir: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The redactions of a snapshot, in the order they apply: the built-in fields, then `extra`.
fn redactions<'a>(extra: &[(&str, &'a str)]) -> Result<Vec<(Selector, &'a str)>, String> {
    let builtin = |fields: &[&str], replacement: &'static str| {
        fields
            .iter()
            .map(move |field| (format!(".**.{field}"), replacement))
            .collect::<Vec<_>>()
    };
    let mut redactions = Vec::new();
    for (selector, replacement) in builtin(TIMESTAMP_FIELDS, "[timestamp]")
        .into_iter()
        .chain(builtin(DURATION_FIELDS, "[duration]"))
    {
        let selector = Selector::parse(&selector)
            .map_err(|e| format!("invalid built-in redaction selector `{selector}`: {e}"))?;
        redactions.push((selector, replacement));
    }
    for (selector, replacement) in extra {
        let parsed = Selector::parse(selector).map_err(|e| {
            format!(
                "invalid redaction selector `{selector}`: {e}; see `BenchExt::snapshot_redacted` for the syntax"
            )
        })?;
        redactions.push((parsed, *replacement));
    }
    Ok(redactions)
}

/// The value as YAML, exactly as insta serializes it: maps sorted if the bound settings ask
/// (before redacting, as insta does), then `redactions` in order.
fn serialize<T: Serialize + ?Sized>(
    value: &T,
    redactions: &[(Selector, &str)],
) -> Result<String, String> {
    let failed = |reason: &dyn std::fmt::Display| {
        format!("the snapshot value cannot be serialized: {reason}")
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut content = to_content(value).map_err(|e| failed(&e))?;
        if insta::Settings::clone_current().sort_maps() {
            sort_maps(&mut content);
        }
        for (selector, replacement) in redactions {
            selector.redact(&mut content, replacement);
        }
        // Sorted already, before redacting: insta must not sort again after a key redaction.
        let mut written = insta::Settings::clone_current();
        written.set_sort_maps(false);
        Ok(written.bind(|| serialize_value(&content, SerializationFormat::Yaml)))
    }))
    .unwrap_or_else(|payload| Err(failed(&crate::runtime::panic_message(&*payload))))
}

/// The workspace root insta reports paths against: found once per process from the
/// package cargo runs the test in.
fn workspace_root() -> Arc<PathBuf> {
    static MANIFEST_DIR: OnceLock<&'static str> = OnceLock::new();
    let dir = MANIFEST_DIR.get_or_init(|| {
        let dir = std::env::var("CARGO_MANIFEST_DIR")
            .ok()
            .or_else(|| {
                std::env::current_dir()
                    .ok()
                    .map(|d| d.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| ".".to_owned());
        // One small string per process; insta wants it for the process's lifetime.
        Box::leak(dir.into_boxed_str())
    });
    get_cargo_workspace(Workspace::DetectWithCargo(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Run {
        readings: Vec<f64>,
        duration_ms: u64,
        steps: Vec<Step>,
        serial: &'static str,
    }

    #[derive(Serialize)]
    struct Step {
        volts: f64,
        timestamp: f64,
    }

    #[test]
    fn dynamic_values_are_redacted() {
        let run = Run {
            readings: vec![4.99918],
            duration_ms: 1234,
            steps: vec![Step {
                volts: 5.0,
                timestamp: 0.713654,
            }],
            serial: "CN61130056",
        };
        let dir = tempfile::tempdir().unwrap();
        let redactions = redactions(&[(".serial", "[serial]")]).unwrap();
        let yaml = settings(dir.path())
            .bind(|| serialize(&run, &redactions))
            .unwrap();
        assert_eq!(
            yaml,
            "readings:\n  - 4.99918\nduration_ms: \"[duration]\"\nsteps:\n  - volts: 5\n    timestamp: \"[timestamp]\"\nserial: \"[serial]\"\n"
        );
    }

    #[test]
    fn bad_selectors_and_names_are_errors() {
        let Err(err) = redactions(&[(".ok", "x"), ("no dot", "x")]) else {
            panic!("a selector without a leading dot must be rejected");
        };
        assert!(
            err.starts_with("invalid redaction selector `no dot`: expected a segment"),
            "{err}"
        );
        assert!(err.contains("(column 1)"), "{err}");
        let Err(err) = redactions(&[("[-1]", "x")]) else {
            panic!("a negative index must be rejected (insta panics on it)");
        };
        assert!(
            err.starts_with("invalid redaction selector `[-1]`: negative index `[-1]`; to select from the end use a range: `[-1:]`"),
            "{err}"
        );
    }

    #[derive(Serialize)]
    struct Sensors(std::collections::BTreeMap<&'static str, u8>);

    #[test]
    fn bound_settings_sort_maps_before_redacting_as_insta_does() {
        let sensors = Sensors([("b", 2), ("a", 1)].into_iter().collect());
        // A `Vec` of pairs keeps its order; serialized as a map, unsorted.
        struct Unsorted(Vec<(&'static str, u8)>);
        impl Serialize for Unsorted {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let unsorted = Unsorted(vec![("b", 2), ("a", 1)]);
        let keys = redactions(&[(".$key", "[k]")]).unwrap();
        let mut sorted = insta::Settings::clone_current();
        sorted.set_sort_maps(true);
        assert_eq!(
            sorted.bind(|| serialize(&unsorted, &keys)).unwrap(),
            "\"[k]\": 1\n\"[k]\": 2\n"
        );
        assert_eq!(
            serialize(&unsorted, &keys).unwrap(),
            "\"[k]\": 2\n\"[k]\": 1\n"
        );
        assert_eq!(serialize(&sensors, &[]).unwrap(), "a: 1\nb: 2\n");
    }

    struct Uncalibrated;

    impl Serialize for Uncalibrated {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("probe `P1` is not calibrated"))
        }
    }

    #[test]
    fn a_value_that_fails_to_serialize_is_an_error() {
        assert_eq!(
            serialize(&[Uncalibrated], &[]).unwrap_err(),
            "the snapshot value cannot be serialized: probe `P1` is not calibrated"
        );
    }

    #[test]
    fn the_expression_header_reads_back_as_written() {
        // `yaml_quoted` (tested in replay-support) writes what a YAML reader reads back.
        let text = "q\"b\\n\n\u{1}\u{7f}\u{85}é\u{2029}";
        let quoted = replay_support::text::yaml_quoted(text);
        let back: String = yaml_serde::from_str(&quoted).unwrap();
        assert_eq!(back, text);
    }
}
