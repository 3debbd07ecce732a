//! Writing session files: deterministic YAML, persisted atomically.

use std::io::Write as _;
use std::path::Path;

use super::model::Session;
use super::wire;
use crate::error::{Error, Result};

/// Renders a session as YAML. Same session, same bytes.
///
/// The layout is PyTestLab's (`alias: {profile, log: [...]}`, block style, entries' keys in
/// a fixed order), so PyTestLab can read what we write.
pub fn render_session(session: &Session) -> String {
    if session.instruments.is_empty() {
        return "{}\n".to_owned();
    }
    // Serializing plain strings, floats and ordered maps cannot fail.
    yaml_serde::to_string(&wire::from_model(session))
        .unwrap_or_else(|e| unreachable!("serializing a session model to YAML failed: {e}"))
}

/// Writes `session` to `path` atomically: a temp file in the same directory, then a rename.
///
/// Missing parent directories are created. If the file already holds exactly these bytes it
/// is left untouched (no needless rewrite, no mtime churn).
pub fn write_session(path: impl AsRef<Path>, session: &Session) -> Result<()> {
    write_atomic(
        path.as_ref(),
        render_session(session).as_bytes(),
        "write session",
    )
}

/// Writes `contents` to `path` atomically (temp file in the same directory, then rename).
///
/// If the file already holds exactly these bytes it is left untouched.
pub fn write_atomic(path: &Path, contents: &[u8], action: &'static str) -> Result<()> {
    let fail = |source| Error::File {
        action,
        path: path.to_owned(),
        source,
    };
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".replay-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
