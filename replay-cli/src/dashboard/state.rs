//! The state shared by the handlers: the directories, the remote recording, the replay
//! simulation, and a cache of file summaries keyed by size and modification time.

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use replay_events::EventRecorder;

use super::errors::ApiResult;
use super::paths::resolve_in;
use super::replay::Replays;

/// What the handlers share; cheap to clone. Extra handlers registered through
/// [`Dashboard::route`](super::Dashboard::route) receive it as axum state.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    recordings: PathBuf,
    sessions: PathBuf,
    spec: serde_json::Value,
    whatif_handler: bool,
    record: Mutex<Option<EventRecorder>>,
    replays: Replays,
    cache: Mutex<HashMap<(PathBuf, String), Cached>>,
}

#[derive(Clone)]
struct Cached {
    stamp: (u64, Option<SystemTime>),
    value: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub(crate) fn new(
        recordings: PathBuf,
        sessions: PathBuf,
        spec: serde_json::Value,
        whatif_handler: bool,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                recordings,
                sessions,
                spec,
                whatif_handler,
                record: Mutex::new(None),
                replays: Replays::new(),
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The directory of event recordings.
    pub fn recordings_dir(&self) -> &Path {
        &self.inner.recordings
    }

    /// The directory of cassettes.
    pub fn sessions_dir(&self) -> &Path {
        &self.inner.sessions
    }

    /// The recording `file` (a file name in the recordings directory), refused (400/404)
    /// when it tries to leave that directory, is hidden or does not exist.
    pub fn recording_path(&self, file: &str) -> ApiResult<PathBuf> {
        resolve_in(&self.inner.recordings, file, false, "recording")
    }

    /// The cassette at `path` (relative to the sessions directory, subdirectories allowed),
    /// refused like [`AppState::recording_path`].
    pub fn session_path(&self, path: &str) -> ApiResult<PathBuf> {
        resolve_in(&self.inner.sessions, path, true, "session")
    }

    /// Whether `POST /api/recording/{file}/replay` runs a what-if (a handler registered with
    /// [`Dashboard::whatif`](super::Dashboard::whatif) or a program's own route).
    pub fn whatif_handler(&self) -> bool {
        self.inner.whatif_handler
    }

    pub(crate) fn spec(&self) -> &serde_json::Value {
        &self.inner.spec
    }

    pub(crate) fn record(&self) -> MutexGuard<'_, Option<EventRecorder>> {
        self.inner
            .record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn replays(&self) -> &Replays {
        &self.inner.replays
    }

    /// A value computed from the file at `path` (`kind` names the computation), recomputed
    /// only when the file's size or modification time changed.
    pub(crate) fn cached<T: Send + Sync + 'static>(
        &self,
        path: &Path,
        kind: &str,
        compute: impl FnOnce() -> ApiResult<T>,
    ) -> ApiResult<Arc<T>> {
        let stamp = file_stamp(path);
        let key = (path.to_owned(), kind.to_owned());
        if let Some(hit) = self.cache().get(&key)
            && hit.stamp == stamp
            && let Ok(value) = Arc::clone(&hit.value).downcast::<T>()
        {
            return Ok(value);
        }
        let value = Arc::new(compute()?);
        self.cache().insert(
            key,
            Cached {
                stamp,
                value: Arc::clone(&value) as Arc<dyn Any + Send + Sync>,
            },
        );
        Ok(value)
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<(PathBuf, String), Cached>> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn file_stamp(path: &Path) -> (u64, Option<SystemTime>) {
    match std::fs::metadata(path) {
        Ok(m) => (m.len(), m.modified().ok()),
        Err(_) => (0, None),
    }
}
