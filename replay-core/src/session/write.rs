//! Writing session files: deterministic YAML, persisted atomically.

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
/// If the file already holds exactly these bytes it is left untouched. The file keeps the
/// permissions it had; a new file gets those of [`std::fs::File::create`].
pub(crate) fn write_atomic(path: &Path, contents: &[u8], action: &'static str) -> Result<()> {
    replay_support::fs::write_atomic(path, contents).map_err(|source| Error::File {
        action,
        path: path.to_owned(),
        source,
    })
}
