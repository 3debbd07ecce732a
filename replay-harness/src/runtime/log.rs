//! `REPLAY_LOG`: a log of every exchange through `tracing`, without a subscriber of one's own.
//!
//! `REPLAY_LOG=debug cargo test` prints one line per exchange (instrument, kind, command,
//! response or error, the replayer's match decision) inside a span per test. The lines go
//! through libtest's capture (the test writer), so a passing test stays quiet unless
//! `--nocapture` is given, and a failing one shows its exchanges with its failure.
//! Everything logged is already redacted. A program that installed its own global
//! subscriber keeps it: ours is only installed when none is.

use std::sync::OnceLock;

use tracing_subscriber::filter::LevelFilter;

/// The variable that turns the exchange log on.
pub const LOG_VAR: &str = "REPLAY_LOG";

/// The values `REPLAY_LOG` accepts, for error messages.
pub const LOG_VALUES: &str = "`off` (the default), `error`, `warn`, `info` (one line per test), `debug` (every exchange), `trace`";

/// Parses `REPLAY_LOG` (`None` when unset or empty: no log).
pub fn parse_log_level(value: Option<&str>) -> Result<Option<LevelFilter>, String> {
    let level = match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "off" | "0") => return Ok(None),
        Some("error") => LevelFilter::ERROR,
        Some("warn") => LevelFilter::WARN,
        Some("info") => LevelFilter::INFO,
        Some("debug") => LevelFilter::DEBUG,
        Some("trace") => LevelFilter::TRACE,
        Some(_) => {
            return Err(format!(
                "invalid value `{}` for `{LOG_VAR}`: expected one of {LOG_VALUES}",
                value.unwrap_or_default()
            ));
        }
    };
    Ok(Some(level))
}

/// Installs the fmt subscriber for `level` once per process (later calls do nothing; a
/// subscriber the program set itself wins).
pub(crate) fn install(level: LevelFilter) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Err: another global subscriber is set; the user's choice stands.
        let _ = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_test_writer()
            .with_target(false)
            .try_init();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated() {
        assert_eq!(parse_log_level(None).unwrap(), None);
        assert_eq!(parse_log_level(Some("off")).unwrap(), None);
        assert_eq!(
            parse_log_level(Some("DEBUG")).unwrap(),
            Some(LevelFilter::DEBUG)
        );
        let err = parse_log_level(Some("verbose")).unwrap_err();
        assert!(err.contains("`verbose` for `REPLAY_LOG`"), "{err}");
        assert!(err.contains("`debug` (every exchange)"), "{err}");
    }
}
