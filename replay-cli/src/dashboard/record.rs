//! Remote recording: `POST /api/record/start|event|stop`, `GET /api/record/status`. Events
//! go to a [`replay_events::EventRecorder`]; the file appears (atomically) at the stop.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use replay_events::EventRecorder;
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{ApiError, ApiResult, blocking, parse_body};
use super::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartBody {
    session_name: Option<String>,
}

/// `POST /api/record/start`.
pub(crate) async fn start(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: StartBody = parse_body(body, false)?;
    let name = body
        .session_name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "session".to_owned());
    let mut active = state.record();
    if let Some(recorder) = active.as_ref() {
        return Err(ApiError::conflict(format!(
            "recording `{}` is already active; stop it first with `POST /api/record/stop`",
            recorder.session_name()
        )));
    }
    *active = Some(EventRecorder::new(name.clone(), state.recordings_dir()));
    Ok(Json(json!({
        "success": true,
        "message": "Recording started",
        "session_name": name,
    })))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventBody {
    event_name: Option<String>,
    #[serde(default)]
    event_data: Option<Value>,
    source: Option<String>,
}

/// `POST /api/record/event`.
pub(crate) async fn event(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: EventBody = parse_body(body, true)?;
    let Some(name) = body.event_name.filter(|n| !n.is_empty()) else {
        return Err(ApiError::bad_request(
            "`event_name` is required; send `{\"event_name\": …, \"event_data\": {…}, \"source\": …}`",
        ));
    };
    let data = body.event_data.unwrap_or_else(|| json!({}));
    let raw = serde_json::value::to_raw_value(&data)
        .map_err(|e| ApiError::bad_request(format!("`event_data` cannot be stored: {e}")))?;
    let active = state.record();
    let Some(recorder) = active.as_ref() else {
        return Err(no_recording());
    };
    recorder.record_raw(name, body.source.as_deref().unwrap_or("Unknown"), raw);
    Ok(Json(
        json!({ "success": true, "event_count": recorder.len() }),
    ))
}

fn no_recording() -> ApiError {
    ApiError::conflict("no active recording session; start one with `POST /api/record/start`")
}

/// `POST /api/record/stop`.
pub(crate) async fn stop(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let Some(recorder) = state.record().take() else {
        return Err(no_recording());
    };
    recorder.stop();
    let count = recorder.len();
    let path = blocking(move || Ok(recorder.save()?)).await?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Json(json!({
        "success": true,
        "message": "Recording saved",
        "filename": filename,
        "event_count": count,
    })))
}

/// `GET /api/record/status`.
pub(crate) async fn status(State(state): State<AppState>) -> Json<Value> {
    let active = state.record();
    Json(match active.as_ref() {
        Some(r) => {
            json!({ "active": true, "session_name": r.session_name(), "event_count": r.len() })
        }
        None => json!({ "active": false, "session_name": null, "event_count": 0 }),
    })
}
