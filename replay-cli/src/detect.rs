//! What a file given on the command line is: an event recording or an instrument cassette.

use std::path::Path;

use replay_events::{FileKind, Format, sniff};

use super::{CliError, CliResult};

/// The kinds of file the CLI understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An event recording (`.json` document or `.jsonl`).
    Events(Format),
    /// An instrument cassette (YAML session file).
    Cassette,
}

/// Decides from the extension when it is explicit (`.json`, `.jsonl`, `.yaml`, `.yml`),
/// otherwise from the content (so that git's temporary files without extension work): a
/// file whose first line opens a JSON object with `session_name` is a recording, anything
/// else is read as a cassette.
pub(crate) fn detect(path: &Path) -> CliResult<Kind> {
    if !path.exists() {
        return Err(CliError::new(format!(
            "file `{}` does not exist\ncheck the path (event recordings are `.json`/`.jsonl`, cassettes `.yaml`)",
            path.display()
        )));
    }
    if path.is_dir() {
        return Err(CliError::new(format!(
            "`{}` is a directory; give a recording or cassette file",
            path.display()
        )));
    }
    if let Some(format) = Format::from_extension(path) {
        return Ok(Kind::Events(format));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("yaml" | "yml")) {
        return Ok(Kind::Cassette);
    }
    Ok(match sniff(path)? {
        FileKind::Events(format) => Kind::Events(format),
        FileKind::Other => Kind::Cassette,
    })
}

/// Fails with a clear message unless `path` is an event recording (for the commands that
/// only read recordings).
pub(crate) fn require_events(path: &Path, command: &str) -> CliResult<()> {
    match detect(path)? {
        Kind::Events(_) => Ok(()),
        Kind::Cassette => Err(CliError::new(format!(
            "`replay {command}` reads event recordings (`.json`, `.jsonl`), and `{}` is an instrument cassette\n\
             use `replay info` or `replay diff` for cassettes",
            path.display()
        ))),
    }
}
