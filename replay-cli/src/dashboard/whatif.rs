//! What-if replays over HTTP (the session-recorder seed's `POST /api/recording/<f>/replay`):
//! run a registered [`WhatIfHandler`] with changed parameters, and list a recording's
//! what-if results.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use replay_events::whatif::{WhatIfHandler, scan_results};
use serde::Deserialize;

use super::errors::{ApiError, ApiPath, ApiResult, parse_body};
use super::state::AppState;
use crate::analysis::{error_line, metric_cells};

/// How to register a handler, for the 501 a dashboard without one answers.
pub(crate) const HOW_TO_REGISTER: &str = "no what-if handler is registered with this server: \
     `replay serve` cannot run your system; embed the dashboard in your own program with \
     `replay_cli::dashboard::Dashboard::new(recordings, sessions).whatif(WhatIfHandler::new(base, configure, system))` \
     (see docs/what-if.md and docs/dashboard.md)";

/// The body of `POST /api/recording/{file}/replay`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// Keys overriding the handler's base parameters.
    #[serde(default)]
    modified_parameters: serde_json::Value,
    /// A note stored with the result.
    #[serde(default)]
    description: Option<String>,
}

/// `POST /api/recording/{file}/replay` with a handler: runs it, saves the result next to the
/// recording, answers the seed's response shape.
pub(crate) async fn run(
    handler: WhatIfHandler,
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let path = state.recording_path(&file)?;
    let request: ReplayRequest = parse_body(body, false)?;
    if !(request.modified_parameters.is_null() || request.modified_parameters.is_object()) {
        return Err(ApiError::bad_request(
            "`modified_parameters` must be a JSON object of the parameters to change",
        ));
    }
    let result = handler
        .replay(&path, request.modified_parameters, request.description)
        .await
        .map_err(|e| match e {
            replay_events::Error::RecordingNotFound { .. } => ApiError::not_found(e.to_string()),
            replay_events::Error::InvalidOption { .. } => ApiError::bad_request(e.to_string()),
            other => ApiError::from(other),
        })?;
    Ok(axum::Json(result.api_response()))
}

/// `POST /api/recording/{file}/replay` without a handler: 501, saying how to register one.
pub(crate) async fn unregistered(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> ApiResult<()> {
    state.recording_path(&file)?;
    Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, HOW_TO_REGISTER))
}

/// `GET /api/recording/{file}/replays`: the what-if results saved next to the recording,
/// oldest first, each with its metrics formatted as `replay report` prints them; result files
/// that cannot be read under `unreadable` (file and reason); whether this server runs
/// what-ifs (`whatif_handler`).
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let path = state.recording_path(&file)?;
    let scanned = tokio::task::spawn_blocking(move || scan_results(&path))
        .await
        .map_err(|e| ApiError::internal(format!("listing what-if results failed: {e}")))??;
    let mut replays = Vec::new();
    let mut unreadable = Vec::new();
    for (path, result) in scanned {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match result {
            Ok(result) => {
                let mut value = serde_json::to_value(&result).map_err(|e| {
                    ApiError::internal(format!("cannot render what-if result `{name}`: {e}"))
                })?;
                let formatted: Vec<serde_json::Value> = result
                    .metrics
                    .iter()
                    .map(|m| {
                        let [name, original, replayed, change] = metric_cells(m);
                        serde_json::json!({
                            "name": name,
                            "original": original,
                            "replayed": replayed,
                            "change": change,
                        })
                    })
                    .collect();
                if let Some(object) = value.as_object_mut() {
                    object.insert("result_file".into(), name.into());
                    object.insert("metrics_formatted".into(), formatted.into());
                }
                replays.push(value);
            }
            Err(e) => unreadable.push(serde_json::json!({
                "file": name,
                "error": error_line(&e),
            })),
        }
    }
    Ok(axum::Json(serde_json::json!({
        "success": true,
        "count": replays.len(),
        "replays": replays,
        "unreadable": unreadable,
        "whatif_handler": state.whatif_handler(),
    })))
}
