//! One recording at a time per bench: an advisory file lock keyed by the bench config.
//!
//! libtest runs the tests of one binary in parallel threads, `cargo test` runs several
//! binaries one after another, nextest runs one process per test, all at once. Recording
//! talks to real instruments, so two tests recording on one bench at the same time corrupt
//! each other's readings (test B's `*RST` while test A measures). Before it opens the bench,
//! a recording takes an exclusive lock on a file named after the bench config's canonical
//! path, in the system temporary directory; it holds it until its cassette is written.
//! Replay takes no lock: it never touches an instrument.
//!
//! The lock is `flock`-style (`std::fs::File::lock`): two opens of the file conflict even in
//! one process, the operating system releases it when the process dies, and it is advisory
//! (only replay's own recordings honour it). Two bench configs naming the same instruments
//! are two benches as far as this lock knows.
//!
//! A second lock keeps one cassette to one recording: two tests whose `session = "…"` name
//! the same file would otherwise both record it, and the last to finish would silently
//! replace the other's recording (on two benches at the same time, or one after the other
//! on one bench). A recording claims its cassette before it waits for the bench and keeps
//! the claim until the cassette is written; a test that finds the cassette claimed fails at
//! once, naming the test that holds it. Replay shares cassettes freely (read-only).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held while a test records on a bench; dropping it releases the bench.
#[derive(Debug)]
pub(crate) struct BenchLock {
    // Closing the file releases the lock.
    _file: File,
    /// How long the recording waited for another one to release the bench (`None`: it
    /// did not wait).
    pub(crate) waited: Option<Duration>,
}

/// The lock file of the bench whose config is `bench` (canonicalised when it exists).
pub(crate) fn lock_path(bench: &Path) -> PathBuf {
    lock_file("bench", bench)
}

/// `<temp>/replay-<kind>-<file stem>-<hash of the canonical path>.lock`: one lock file per
/// file, whatever the spelling of its path. A file that does not exist yet (a new cassette
/// in a new directory) is canonicalised through its nearest existing ancestor.
fn lock_file(kind: &str, file: &Path) -> PathBuf {
    let canonical = file
        .ancestors()
        .find_map(|existing| {
            let rest = file.strip_prefix(existing).ok()?;
            Some(std::fs::canonicalize(existing).ok()?.join(rest))
        })
        .unwrap_or_else(|| file.to_owned());
    let hash = fnv1a(&canonical.to_string_lossy());
    let stem: String = canonical
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(32)
        .collect();
    std::env::temp_dir().join(format!("replay-{kind}-{stem}-{hash:016x}.lock"))
}

/// Held while a test records its cassette; dropping it lets another test record it.
#[derive(Debug)]
pub(crate) struct CassetteClaim {
    // Closing the file releases the claim.
    file: File,
}

impl Drop for CassetteClaim {
    fn drop(&mut self) {
        // Forget the holder's name before the claim is released: a name in the file always
        // belongs to a current holder (or one that is about to write its own).
        let _ = self.file.set_len(0);
    }
}

/// How long a test that finds a cassette claimed waits for the holder to write its name.
const HOLDER_NAME_WAIT: Duration = Duration::from_secs(2);

/// Why a cassette could not be claimed.
#[derive(Debug)]
pub(crate) enum ClaimError {
    /// Another test records it right now: its name and process, as it wrote them into the
    /// claim (`None` if it had not yet).
    Claimed(Option<String>),
    /// The claim file could not be opened or locked.
    Io(String),
}

/// Claims `cassette` for the recording of `test`, without waiting: a cassette claimed by
/// another test (of this process or another) is [`ClaimError::Claimed`].
pub(crate) fn claim_cassette(cassette: &Path, test: &str) -> Result<CassetteClaim, ClaimError> {
    use std::io::{Read as _, Seek as _, Write as _};

    let path = lock_file("cassette", cassette);
    let io = |e: std::io::Error| {
        ClaimError::Io(format!(
            "failed to claim the cassette `{}` for recording (lock file `{}`): {e}
recording claims its cassette so that two tests never record one file at once; check that the temporary directory is writable and supports file locks (or set `TMPDIR`)",
            cassette.display(),
            path.display()
        ))
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            // The holder writes its name right after it takes the claim: give it a moment.
            let start = Instant::now();
            // Only a whole name counts: it ends with the newline written with it, so a read
            // that overlaps the holder's write never shows half a name.
            let holder = loop {
                let mut holder = String::new();
                let _ = file
                    .rewind()
                    .and_then(|()| file.read_to_string(&mut holder));
                if let Some(name) = holder.strip_suffix('\n') {
                    break Some(name.trim().to_owned());
                }
                if start.elapsed() > HOLDER_NAME_WAIT {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            return Err(ClaimError::Claimed(holder.filter(|h| !h.is_empty())));
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    // Who holds it, for the error of a test that finds it claimed.
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    // One write of the whole line (`write!` may split it into several).
    let name = format!("`{test}` (process {})\n", std::process::id());
    file.write_all(name.as_bytes()).map_err(io)?;
    Ok(CassetteClaim { file })
}

/// FNV-1a of `key`: stable across processes and toolchains (the std hasher is not
/// promised to be), for file names shared by the processes of a run.
pub(crate) fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Takes the bench's recording lock, waiting for another recording to finish first.
/// `on_wait` is called once, before waiting, with the lock file (to tell the user).
pub(crate) async fn lock_bench(
    bench: &Path,
    on_wait: impl FnOnce(&Path),
) -> Result<BenchLock, String> {
    let path = lock_path(bench);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            format!(
                "failed to open the bench lock `{}`: {e}\nrecording takes this lock so that tests sharing a bench never talk to it at the same time; check that the temporary directory is writable (or set `TMPDIR`)",
                path.display()
            )
        })?;
    match file.try_lock() {
        Ok(()) => {
            return Ok(BenchLock {
                _file: file,
                waited: None,
            });
        }
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => return Err(lock_error(&path, &e)),
    }
    on_wait(&path);
    let start = Instant::now();
    // Blocking: off the runtime's thread, which another task of this test may need.
    let shown = path.clone();
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| format!("waiting for the bench lock `{}`: {e}", shown.display()))?
        .map_err(|e| lock_error(&shown, &e))?;
    Ok(BenchLock {
        _file: file,
        waited: Some(start.elapsed()),
    })
}

fn lock_error(path: &Path, e: &std::io::Error) -> String {
    format!(
        "failed to lock the bench `{}`: {e}\nrecording locks the bench so that tests sharing it never talk to it at the same time; check that the temporary directory supports file locks (or set `TMPDIR`)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_file_per_bench_config() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("bench.yaml");
        let b = dir.path().join("other.yaml");
        std::fs::write(&a, "instruments: {}\n").unwrap();
        std::fs::write(&b, "instruments: {}\n").unwrap();
        // The same file by another spelling is the same bench.
        let dotted = dir.path().join(".").join("bench.yaml");
        assert_eq!(lock_path(&a), lock_path(&dotted));
        assert_ne!(lock_path(&a), lock_path(&b));
        let name = lock_path(&a)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("replay-bench-bench-"), "{name}");
    }

    #[test]
    fn a_cassette_is_claimed_by_one_recording_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("sessions").join("shared.yaml");
        // Neither the cassette nor its directory exists yet.
        let first = claim_cassette(&cassette, "first").unwrap();
        // Another thread of this process, the same file by another spelling.
        std::fs::create_dir_all(dir.path().join("sessions")).unwrap();
        let dotted = dir.path().join("sessions/../sessions/shared.yaml");
        let second = std::thread::spawn(move || claim_cassette(&dotted, "second"))
            .join()
            .unwrap();
        match second {
            Err(ClaimError::Claimed(Some(holder))) => {
                assert_eq!(holder, format!("`first` (process {})", std::process::id()))
            }
            other => panic!("expected the claim of `first`, got {other:?}"),
        }
        // Another cassette is free; the same one is free again once the first is done.
        claim_cassette(&dir.path().join("sessions/other.yaml"), "second").unwrap();
        drop(first);
        claim_cassette(&cassette, "second").unwrap();
    }

    #[test]
    fn half_a_holder_name_is_never_shown() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("half.yaml");
        // A holder caught between two writes of its name: locked, the name incomplete.
        let mut holder = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(lock_file("cassette", &cassette))
            .unwrap();
        holder.lock().unwrap();
        holder.set_len(0).unwrap();
        holder.write_all(b"`writes_five").unwrap();
        let finish = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            holder.write_all(b"` (process 7)\n").unwrap();
            holder
        });
        match claim_cassette(&cassette, "writes_three") {
            Err(ClaimError::Claimed(Some(name))) => assert_eq!(name, "`writes_five` (process 7)"),
            other => panic!("expected the whole name of the holder, got {other:?}"),
        }
        drop(finish.join().unwrap());
    }

    #[tokio::test]
    async fn a_second_recording_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let bench = dir.path().join("bench.yaml");
        std::fs::write(&bench, "instruments: {}\n").unwrap();
        let first = lock_bench(&bench, |_| panic!("the bench was free"))
            .await
            .unwrap();
        assert_eq!(first.waited, None);

        let (told_tx, told_rx) = std::sync::mpsc::channel();
        let bench2 = bench.clone();
        let second =
            tokio::spawn(
                async move { lock_bench(&bench2, move |_| told_tx.send(()).unwrap()).await },
            );
        // The second one says it waits, and does not get the bench while the first holds it.
        tokio::task::spawn_blocking(move || told_rx.recv().unwrap())
            .await
            .unwrap();
        assert!(!second.is_finished());
        drop(first);
        let second = second.await.unwrap().unwrap();
        assert!(second.waited.is_some());
    }
}
