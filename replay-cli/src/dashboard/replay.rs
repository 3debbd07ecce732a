//! Replay "simulation mode": a recording is played at a chosen speed (with pause, resume,
//! speed changes and stop) and each event is pushed to the pages over server-sent events
//! (`GET /api/replay/stream`). Nothing is published anywhere else.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::sse::{Event, KeepAlive, Sse};
use replay_events::{EventStream, RecordedEvent};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::BroadcastStream;

use super::errors::{ApiError, ApiPath, ApiResult, blocking, parse_body};
use super::state::AppState;

/// Slowest and fastest speeds accepted.
const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.01..=1000.0;

/// The replay of the server (one at a time) and the channel the pages listen to.
#[derive(Debug)]
pub(crate) struct Replays {
    current: Mutex<Option<Run>>,
    live: broadcast::Sender<Value>,
    /// `true` once the server shuts down: every live stream ends.
    closing: watch::Sender<bool>,
}

#[derive(Debug)]
struct Run {
    filename: String,
    total: u64,
    control: watch::Sender<Control>,
    progress: Arc<Mutex<Progress>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Control {
    paused: bool,
    stopped: bool,
    speed: f64,
}

#[derive(Debug, Default)]
struct Progress {
    position: u64,
    finished: bool,
    error: Option<String>,
}

impl Replays {
    pub(crate) fn new() -> Replays {
        Replays {
            current: Mutex::new(None),
            live: broadcast::channel(1024).0,
            closing: watch::channel(false).0,
        }
    }

    /// Ends every open live stream (the server is shutting down).
    pub(crate) fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    fn current(&self) -> MutexGuard<'_, Option<Run>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn status(&self) -> Value {
        let current = self.current();
        let Some(run) = current.as_ref() else {
            return json!({
                "active": false, "paused": false, "state": "idle", "filename": null,
                "current_event": 0, "total_events": 0, "speed": 1.0, "progress": 0.0, "error": null,
            });
        };
        let control = *run.control.borrow();
        let progress = run
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = if progress.error.is_some() {
            "failed"
        } else if control.stopped {
            "stopped"
        } else if progress.finished {
            "finished"
        } else if control.paused {
            "paused"
        } else {
            "playing"
        };
        let active = matches!(state, "playing" | "paused");
        let percent = if run.total > 0 {
            progress.position as f64 * 100.0 / run.total as f64
        } else {
            100.0
        };
        json!({
            "active": active,
            "paused": control.paused && active,
            "state": state,
            "filename": run.filename,
            "current_event": progress.position,
            "total_events": run.total,
            "speed": control.speed,
            "progress": percent,
            "error": progress.error,
        })
    }

    fn publish_status(&self) {
        let mut status = self.status();
        status["type"] = json!("status");
        let _ = self.live.send(status);
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SpeedBody {
    speed: Option<f64>,
}

fn check_speed(speed: f64) -> ApiResult<f64> {
    if speed.is_finite() && SPEED_RANGE.contains(&speed) {
        Ok(speed)
    } else {
        Err(ApiError::bad_request(format!(
            "`speed` is {speed}; give a factor from {} to {} (1 = recorded timing, 10 = ten times faster)",
            SPEED_RANGE.start(),
            SPEED_RANGE.end()
        )))
    }
}

/// `POST /api/replay/start/{file}`.
pub(crate) async fn start(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: SpeedBody = parse_body(body, false)?;
    let speed = check_speed(body.speed.unwrap_or(1.0))?;
    let path = state.recording_path(&file)?;
    let stream = blocking(move || Ok(EventStream::open(&path)?)).await?;
    let total = stream.header().total_events;
    let replays = state.replays();
    let (control, control_rx) = watch::channel(Control {
        paused: false,
        stopped: false,
        speed,
    });
    let progress = Arc::new(Mutex::new(Progress::default()));
    {
        let mut current = replays.current();
        if let Some(run) = current.as_ref() {
            let p = run
                .progress
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !p.finished && !run.control.borrow().stopped {
                return Err(ApiError::conflict(format!(
                    "a replay of `{}` is already active; stop it first with `POST /api/replay/stop`",
                    run.filename
                )));
            }
        }
        *current = Some(Run {
            filename: file.clone(),
            total,
            control,
            progress: Arc::clone(&progress),
        });
    }
    replays.publish_status();
    tokio::spawn(play(state.clone(), stream, control_rx, progress));
    Ok(Json(json!({
        "success": true,
        "message": "Replay started (simulation mode - no events published)",
        "total_events": total,
        "simulation_mode": true,
        "speed": speed,
    })))
}

/// Plays `stream`: waits each event's recorded gap divided by the speed (re-read every
/// 50 ms, so speed changes, pauses and stops take effect at once), then pushes it live.
async fn play(
    state: AppState,
    stream: EventStream,
    mut control: watch::Receiver<Control>,
    progress: Arc<Mutex<Progress>>,
) {
    let (tx, mut rx) = mpsc::channel::<replay_events::Result<RecordedEvent>>(256);
    tokio::task::spawn_blocking(move || {
        for event in stream {
            if tx.blocking_send(event).is_err() {
                break;
            }
        }
    });
    let replays = state.replays();
    let mut previous = 0f64;
    let mut index = 0u64;
    'events: while let Some(event) = rx.recv().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                progress
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .error = Some(e.to_string());
                break;
            }
        };
        let offset = event.offset_ms();
        let mut remaining = (offset - previous).max(0.0);
        previous = offset;
        loop {
            let c = *control.borrow_and_update();
            if c.stopped {
                break 'events;
            }
            if c.paused {
                if control.changed().await.is_err() {
                    break 'events;
                }
                continue;
            }
            if remaining <= 0.0 {
                break;
            }
            let step_ms = (remaining / c.speed).min(50.0);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs_f64(step_ms / 1000.0)) => {
                    remaining -= step_ms * c.speed;
                }
                changed = control.changed() => {
                    if changed.is_err() { break 'events; }
                }
            }
        }
        progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .position = index + 1;
        let data: Value = serde_json::from_str(event.event_data.get()).unwrap_or(Value::Null);
        let _ = replays.live.send(json!({
            "type": "event",
            "index": index,
            "timestamp_offset_ms": event.timestamp_offset_ms,
            "event_name": event.event_name,
            "source": event.source,
            "event_data": data,
        }));
        index += 1;
    }
    progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .finished = true;
    replays.publish_status();
}

fn no_replay() -> ApiError {
    ApiError::conflict("no active replay; start one with `POST /api/replay/start/{file}`")
}

/// Runs `f` on the active replay's control (409 when none is active).
fn with_active(state: &AppState, f: impl FnOnce(&mut Control)) -> ApiResult<Control> {
    let current = state.replays().current();
    let Some(run) = current.as_ref() else {
        return Err(no_replay());
    };
    let finished = run
        .progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .finished;
    if finished || run.control.borrow().stopped {
        return Err(no_replay());
    }
    run.control.send_modify(f);
    Ok(*run.control.borrow())
}

/// `POST /api/replay/pause`: pauses, or resumes a paused replay (the seed's toggle).
pub(crate) async fn pause(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let control = with_active(&state, |c| c.paused = !c.paused)?;
    state.replays().publish_status();
    let status = if control.paused { "paused" } else { "playing" };
    Ok(Json(json!({ "success": true, "status": status })))
}

/// `POST /api/replay/stop`.
pub(crate) async fn stop(State(state): State<AppState>) -> Json<Value> {
    if let Some(run) = state.replays().current().as_ref() {
        run.control.send_modify(|c| c.stopped = true);
    }
    state.replays().publish_status();
    Json(json!({ "success": true, "message": "Replay stopped" }))
}

/// `POST /api/replay/speed`.
pub(crate) async fn speed(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: SpeedBody = parse_body(body, true)?;
    let Some(speed) = body.speed else {
        return Err(ApiError::bad_request(
            "`speed` is required, e.g. `{\"speed\": 5.0}`",
        ));
    };
    let speed = check_speed(speed)?;
    with_active(&state, |c| c.speed = speed)?;
    state.replays().publish_status();
    Ok(Json(json!({ "success": true, "speed": speed })))
}

/// `GET /api/replay/status`.
pub(crate) async fn status(State(state): State<AppState>) -> Json<Value> {
    Json(state.replays().status())
}

/// `GET /api/replay/stream`: the current status, then each replayed event and status change.
pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let replays = state.replays();
    let receiver = replays.live.subscribe();
    let mut first = replays.status();
    first["type"] = json!("status");
    let initial = tokio_stream::once(first);
    let live = BroadcastStream::new(receiver).filter_map(|item| item.ok());
    // A shutdown ends the stream (`None`), so a graceful shutdown does not wait for the
    // browser to close the page.
    let closing = tokio_stream::wrappers::WatchStream::new(replays.closing.subscribe())
        .filter(|closing| *closing)
        .map(|_| None);
    let events = initial
        .chain(live)
        .map(Some)
        .merge(closing)
        .take_while(Option::is_some)
        .filter_map(|value| value)
        .map(|value| {
            let kind = value["type"].as_str().unwrap_or("event").to_owned();
            Ok(Event::default().event(kind).data(value.to_string()))
        });
    Sse::new(events).keep_alive(KeepAlive::default())
}
