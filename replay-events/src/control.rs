//! Pausing, resuming and stopping a replay from another task.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

const RUNNING: u8 = 0;
const PAUSED: u8 = 1;
const STOPPED: u8 = 2;

/// The state of a replay as its [`ReplayControl`] sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayState {
    /// Delivering events.
    Running,
    /// Waiting for [`ReplayControl::resume`]; the recorded gaps resume where they left off.
    Paused,
    /// Ended by [`ReplayControl::stop`]; no further event is delivered.
    Stopped,
}

/// A handle that pauses, resumes and stops a replay from another task. Cheap to clone.
///
/// Changes take effect between events and interrupt a wait for the next event at once.
#[derive(Clone, Debug, Default)]
pub struct ReplayControl {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: AtomicU8,
    changed: Notify,
}

impl ReplayControl {
    /// A new handle in the running state.
    pub fn new() -> ReplayControl {
        ReplayControl::default()
    }

    /// Pauses the replay after the event being delivered (no effect once stopped).
    pub fn pause(&self) {
        self.set_unless_stopped(PAUSED);
    }

    /// Resumes a paused replay (no effect once stopped).
    pub fn resume(&self) {
        self.set_unless_stopped(RUNNING);
    }

    /// Stops the replay for good; it returns with [`ReplayReport::stopped`](super::ReplayReport::stopped) set.
    pub fn stop(&self) {
        self.inner.state.store(STOPPED, Ordering::SeqCst);
        self.inner.changed.notify_waiters();
    }

    /// The current state.
    pub fn state(&self) -> ReplayState {
        match self.inner.state.load(Ordering::SeqCst) {
            RUNNING => ReplayState::Running,
            PAUSED => ReplayState::Paused,
            _ => ReplayState::Stopped,
        }
    }

    fn set_unless_stopped(&self, new: u8) {
        let _ = self
            .inner
            .state
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                (s != STOPPED).then_some(new)
            });
        self.inner.changed.notify_waiters();
    }

    /// Waits while paused. `Err(())` when stopped; otherwise how long the replay was paused.
    pub(crate) async fn checkpoint(&self) -> Result<Duration, ()> {
        if self.inner.state.load(Ordering::Relaxed) == RUNNING {
            return Ok(Duration::ZERO);
        }
        let mut paused_since: Option<Instant> = None;
        loop {
            let mut notified = pin!(self.inner.changed.notified());
            notified.as_mut().enable();
            match self.state() {
                ReplayState::Running => {
                    return Ok(paused_since.map_or(Duration::ZERO, |t| t.elapsed()));
                }
                ReplayState::Stopped => return Err(()),
                ReplayState::Paused => {
                    paused_since.get_or_insert_with(Instant::now);
                    notified.await;
                }
            }
        }
    }

    /// Sleeps until `due`, honouring pauses (which push `due` back by their length) and
    /// stops (`Err(())`). Returns the total time spent paused.
    pub(crate) async fn sleep_until(&self, mut due: Instant) -> Result<Duration, ()> {
        let mut paused_total = Duration::ZERO;
        loop {
            let mut notified = pin!(self.inner.changed.notified());
            notified.as_mut().enable();
            if self.state() != ReplayState::Running {
                let paused = self.checkpoint().await?;
                due += paused;
                paused_total += paused;
                continue;
            }
            if Instant::now() >= due {
                return Ok(paused_total);
            }
            tokio::select! {
                () = tokio::time::sleep_until(due) => return Ok(paused_total),
                () = notified => {}
            }
        }
    }
}
