//! Writing the `bench.yaml` that points replay's recorder at the simulated instruments.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use replay_harness::{BenchConfig, DEFAULT_TIMEOUT, InstrumentConfig, Terminators};
use replay_support::text::yaml_quoted;

/// One instrument entry of the config.
pub(crate) struct Entry<'a> {
    pub(crate) alias: &'a str,
    pub(crate) address: String,
    pub(crate) profile: Option<&'a str>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) terminators: Option<&'a Terminators>,
}

/// Renders the entries as `bench.yaml` text (`instruments: {alias: {address, profile?,
/// timeout?, terminators?}}`), in order, every string double-quoted.
pub(crate) fn render(entries: &[Entry<'_>]) -> String {
    let mut out = String::from(
        "# Simulated bench (replay-tests `SimBench`); valid while it runs.\ninstruments:\n",
    );
    for entry in entries {
        let _ = writeln!(out, "  {}:", yaml_quoted(entry.alias));
        let _ = writeln!(out, "    address: {}", yaml_quoted(&entry.address));
        if let Some(profile) = entry.profile {
            let _ = writeln!(out, "    profile: {}", yaml_quoted(profile));
        }
        if let Some(timeout) = entry.timeout {
            let _ = writeln!(out, "    timeout: {}", seconds(timeout));
        }
        if let Some(t) = entry.terminators {
            let _ = writeln!(
                out,
                "    terminators: {{read: {}, write: {}}}",
                yaml_quoted(&t.read),
                yaml_quoted(&t.write)
            );
        }
    }
    out
}

/// The same entries as a loaded [`BenchConfig`] (what `BenchConfig::parse` of
/// [`render`]'s text gives).
pub(crate) fn to_config(entries: &[Entry<'_>]) -> BenchConfig {
    BenchConfig::new(
        PathBuf::from("<simulated bench>"),
        entries
            .iter()
            .map(|e| {
                let mut config = InstrumentConfig::new(e.address.clone());
                config.profile = e.profile.map(str::to_owned);
                config.timeout = e.timeout.unwrap_or(DEFAULT_TIMEOUT);
                config.terminators = e.terminators.cloned().unwrap_or_default();
                (e.alias.to_owned(), config)
            })
            .collect(),
    )
}

/// Seconds as a YAML float that parses back to the same duration (to the nanosecond).
fn seconds(d: Duration) -> String {
    let text = format!("{:.9}", d.as_secs_f64());
    let text = text.trim_end_matches('0');
    if text.ends_with('.') {
        format!("{text}0")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_replay_reads() {
        let crlf = Terminators::new("\n", "\r\n");
        let entries = [
            Entry {
                alias: "psu",
                address: "TCPIP0::127.0.0.1::5025::SOCKET".into(),
                profile: Some("keysight/EDU36311A"),
                timeout: Some(Duration::from_millis(250)),
                terminators: Some(&crlf),
            },
            Entry {
                alias: "odd \"name\"",
                address: "TCPIP0::127.0.0.1::5026::SOCKET".into(),
                profile: None,
                timeout: Some(Duration::from_secs(2)),
                terminators: None,
            },
        ];
        let text = render(&entries);
        assert!(text.contains("    timeout: 0.25\n"), "{text}");
        assert!(text.contains("    timeout: 2.0\n"), "{text}");
        let parsed = BenchConfig::parse("bench.yaml", &text).unwrap();
        let mut expected = to_config(&entries);
        expected.path = PathBuf::from("bench.yaml");
        assert_eq!(parsed, expected);
    }
}
