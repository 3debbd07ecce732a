//! Writing session files: deterministic YAML, persisted atomically.

use std::fs::File;
use std::io::{self, BufWriter, Write as _};
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
/// permissions it had; a new file gets those of [`File::create`] (on unix `0o666` less the
/// umask), not the owner-only mode of temp files.
pub fn write_atomic(path: &Path, contents: &[u8], action: &'static str) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    write_atomic_with(path, action, |out| out.write_all(contents))
}

/// Writes `path` atomically, streaming: `write` fills a temp file in the same directory
/// (missing directories are created), which is synced and then renamed over `path`.
///
/// Permissions: if `path` exists, the new file gets its permissions; otherwise the temp file
/// is opened with mode `0o666` on unix, which the OS narrows by the umask exactly as for
/// [`File::create`] (tempfile's default would be the owner-only `0o600`, and a rename keeps
/// it). Elsewhere the platform default applies.
pub(crate) fn write_atomic_with(
    path: &Path,
    action: &'static str,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<()> {
    let fail = |source| Error::File {
        action,
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".replay-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(fail)?;
    if let Ok(existing) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), existing.permissions()).map_err(fail)?;
    }
    let (file, tmp_path) = tmp.into_parts();
    let mut out = BufWriter::with_capacity(1 << 16, file);
    write(&mut out).map_err(fail)?;
    let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
    file.sync_all().map_err(fail)?;
    tmp_path.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
