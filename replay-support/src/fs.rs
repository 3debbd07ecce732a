//! Atomic file writes: a reader of the final path sees the old file or the whole new one,
//! never a partial one.

use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::Path;

/// Writes `contents` to `path` atomically (temp file in the same directory, then rename).
///
/// If the file already holds exactly these bytes it is left untouched (no needless rewrite,
/// no mtime churn). Permissions as for [`write_atomic_with`].
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    write_atomic_with(path, |out| out.write_all(contents))
}

/// Writes `path` atomically, streaming: `write` fills a temp file in the same directory
/// (missing directories are created), which is synced and then renamed over `path`.
///
/// Temp files are named `.replay-<pid>-*.tmp`; a process killed before the rename leaves one
/// behind, never a partial file under the final name, and the next write into the same
/// directory removes it once that process is gone.
///
/// Permissions: if `path` exists, the new file gets its permissions; otherwise the temp file
/// is opened with mode `0o666` on unix, which the OS narrows by the umask exactly as for
/// [`File::create`] (tempfile's default would be the owner-only `0o600`, and a rename keeps
/// it). Elsewhere the platform default applies.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    persist(path, write, Replace::Yes)
}

/// `.replay-<pid>-`: the temp files of this process, told apart from those of others.
fn temp_prefix() -> String {
    format!(".replay-{}-", std::process::id())
}

/// Removes `.replay-<pid>-*.tmp` files in `dir` left by a writer that was killed before its
/// rename (a crash, SIGKILL, a power cut): those whose process no longer runs (on Linux,
/// no `/proc/<pid>`), elsewhere those older than an hour. Files of running processes,
/// this one included, are never touched. Best effort: failures are ignored.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else {
            continue;
        };
        if pid != me && !process_is_alive(pid, &entry) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in a temp file name `.replay-<pid>-<random>.tmp`.
fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".replay-")?.strip_suffix(".tmp")?;
    rest.split_once('-')?.0.parse().ok()
}

fn process_is_alive(pid: u32, entry: &std::fs::DirEntry) -> bool {
    if cfg!(target_os = "linux") {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    // No cheap liveness check: keep anything younger than an hour.
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age < std::time::Duration::from_secs(3600))
}

/// Persists `path` atomically like [`write_atomic_with`], but refuses to replace an existing
/// file: the rename fails with [`io::ErrorKind::AlreadyExists`] instead. For files whose name
/// is reserved by whoever writes first (event recordings named after their start time).
pub fn write_atomic_new(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    persist(path, write, Replace::No)
}

/// Whether [`persist`] may replace an existing file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replace {
    Yes,
    No,
}

/// The one atomic write: temp file in the same directory (stale ones of dead writers
/// removed first), filled by `write`, synced, then renamed over `path` (or, with
/// [`Replace::No`], linked only where nothing exists yet).
fn persist(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    replace: Replace,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    remove_stale_temp_files(dir);
    let prefix = temp_prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir)?;
    if replace == Replace::Yes
        && let Ok(existing) = std::fs::metadata(path)
    {
        std::fs::set_permissions(tmp.path(), existing.permissions())?;
    }
    let (file, tmp_path) = tmp.into_parts();
    let mut out = BufWriter::with_capacity(1 << 16, file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    match replace {
        Replace::Yes => tmp_path.persist(path).map_err(|e| e.error)?,
        Replace::No => tmp_path.persist_noclobber(path).map_err(|e| e.error)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_creates_directories_and_leaves_identical_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.txt");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        write_atomic(&path, b"one").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "c.txt")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
    }

    #[cfg(unix)]
    #[test]
    fn permissions_of_new_files_follow_the_umask_and_rewrites_keep_them() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let new = dir.path().join("new");
        write_atomic_with(&new, |out| out.write_all(b"x")).unwrap();
        assert_eq!(
            mode(&new),
            mode(&plain),
            "not the temp file's owner-only 0o600"
        );
        std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic_with(&new, |out| out.write_all(b"y")).unwrap();
        assert_eq!(mode(&new), 0o640);
    }

    #[test]
    fn temp_files_of_dead_processes_are_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0 is never a user process (no /proc/0); our own pid is alive.
        let dead = dir.path().join(".replay-0-abc123.tmp");
        let mine = dir
            .path()
            .join(format!(".replay-{}-inflight.tmp", std::process::id()));
        let other = dir.path().join("notes.tmp");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, b"half").unwrap();
        }
        write_atomic(&dir.path().join("c.yaml"), b"x").unwrap();
        if cfg!(target_os = "linux") {
            assert!(!dead.exists(), "the dead writer's temp file is cleaned");
        }
        assert!(mine.exists(), "a live writer's temp file is never touched");
        assert!(other.exists(), "files not ours are never touched");
        assert_eq!(temp_file_pid(".replay-123-x.tmp"), Some(123));
        assert_eq!(temp_file_pid(".replay-x.tmp"), None);
    }

    #[test]
    fn new_refuses_to_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomic_new(&path, |out| out.write_all(b"first")).unwrap();
        let err = write_atomic_new(&path, |out| out.write_all(b"second")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }
}
