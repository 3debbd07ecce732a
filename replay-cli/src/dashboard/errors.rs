//! API errors: every failure is a status code and a JSON body `{ "error": "…" }` whose
//! message says what to do next.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// An error answered as `{ "error": message }` with a status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The message, lowercase, values in backticks.
    pub message: String,
}

/// What API handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such file (or not one this server may serve).
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: the request conflicts with the current state (a replay already running…).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// 500: a failure of the server or of the file system.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

impl From<replay_events::Error> for ApiError {
    fn from(e: replay_events::Error) -> ApiError {
        // A file that cannot be read or parsed: the message names the file and the place.
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

impl From<replay_core::Error> for ApiError {
    fn from(e: replay_core::Error) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

/// Parses a JSON request body. An empty body is `T::default()` when `required` is false (the
/// seed's `request.json or {}`); a body over the limit is a 413, malformed JSON a 400.
pub fn parse_body<T: DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
    required: bool,
) -> ApiResult<T> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the limit of {} bytes; send less",
                    super::BODY_LIMIT
                ),
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {}", e.body_text()))
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        if required {
            return Err(ApiError::bad_request(
                "the request needs a JSON body; see `/api/openapi.json` for its fields",
            ));
        }
        return Ok(T::default());
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "malformed JSON body: {e}; fix the request body (fields in `/api/openapi.json`)"
        ))
    })
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad_request(format!(
            "bad query string: {}; check the parameters in `/api/openapi.json`",
            e.body_text().to_lowercase()
        ))
    }
}

/// Runs blocking file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("a worker task failed: {e}")))?
}

/// A query string whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path parameter whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::bad_request(format!(
            "bad path: {}; give a file name from the list",
            e.body_text().to_lowercase()
        ))
    }
}
