//! Reading session files: the streaming fast path, with `yaml_serde` for everything else.

use std::io;
use std::path::Path;

use super::fast_reader;
use super::model::Session;
use super::wire::{self, Ordered, WireInstrument};
use crate::error::{Error, Result};

const MALFORMED_HINT: &str = "fix the file, restore it from version control (`git checkout -- <file>`), or re-record it on the bench";

/// Reads and parses the session file at `path`.
///
/// The common block layout (what our writer and PyTestLab emit) is parsed by a streaming
/// reader; anything else is handed to `yaml_serde`, which also produces the
/// `path:line:column` errors for malformed files.
pub fn read_session(path: impl AsRef<Path>) -> Result<Session> {
    let path = path.as_ref();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::SessionNotFound {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(Error::File {
                action: "read session",
                path: path.to_owned(),
                source,
            });
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(e.as_bytes());
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let column =
                valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
            return Err(Error::malformed(
                "session",
                path,
                &text,
                line,
                column,
                "the file is not valid UTF-8 (binary data belongs in `response_base64`)",
                MALFORMED_HINT,
            ));
        }
    };
    parse_session(path, &text)
}

/// Parses session text; `path` is used in error messages only.
pub fn parse_session(path: impl AsRef<Path>, text: &str) -> Result<Session> {
    if let Some(session) = fast_reader::read(text) {
        return Ok(session);
    }
    read_with_yaml_serde(path.as_ref(), text)
}

/// Parses session text with `yaml_serde` alone (the general path).
pub fn read_with_yaml_serde(path: &Path, text: &str) -> Result<Session> {
    if text.trim().is_empty() {
        return Err(Error::malformed(
            "session",
            path,
            text,
            1,
            1,
            "the file is empty (a session with no interactions is written as `{}`)",
            MALFORMED_HINT,
        ));
    }
    let wire: Ordered<WireInstrument> = match yaml_serde::from_str(text) {
        Ok(wire) => wire,
        Err(e) => return Err(Error::from_yaml("session", path, text, &e, MALFORMED_HINT)),
    };
    wire::to_model(wire).map_err(|(alias, index, message)| {
        if index == usize::MAX {
            // The instrument's matching rules.
            let (line, column) = locate_rules(text, &alias).unwrap_or((1, 1));
            return Error::malformed(
                "session",
                path,
                text,
                line,
                column,
                format!("the matching rules of `{alias}`: {message}"),
                MALFORMED_HINT,
            );
        }
        let (line, column) = locate_bad_base64(text).unwrap_or((1, 1));
        Error::malformed(
            "session",
            path,
            text,
            line,
            column,
            format!("interaction #{} of `{alias}`: {message}", index + 1),
            MALFORMED_HINT,
        )
    })
}

/// The line of the first matching key (`matching:`, `ignore:` …) of `alias`.
fn locate_rules(text: &str, alias: &str) -> Option<(usize, usize)> {
    const KEYS: &[&str] = &[
        "matching:",
        "tolerance:",
        "keywords:",
        "ignore:",
        "repeatable:",
    ];
    let mut inside = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if line.len() == trimmed.len() {
            inside = trimmed
                .strip_suffix(':')
                .is_some_and(|a| a.trim_matches(['\'', '"']) == alias);
        } else if inside && KEYS.iter().any(|k| trimmed.starts_with(k)) {
            return Some((number + 1, line.len() - trimmed.len() + 1));
        }
    }
    None
}

fn locate_bad_base64(text: &str) -> Option<(usize, usize)> {
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(value) = trimmed.strip_prefix("response_base64:") {
            let value = value.trim().trim_matches(|c| c == '\'' || c == '"');
            if wire::decode_base64(value).is_err() {
                let column = line.len() - trimmed.len() + "response_base64: ".len() + 1;
                return Some((number + 1, column));
            }
        }
    }
    None
}
