//! The OpenAPI 3 description of the API (`assets/openapi.json`), served at
//! `/api/openapi.json` with the operations of any routes a program added.

use axum::Json;
use axum::extract::State;

use super::state::AppState;

/// The description of the built-in routes.
pub(crate) fn base_spec() -> serde_json::Value {
    serde_json::from_str(include_str!("assets/openapi.json"))
        .expect("the embedded OpenAPI description is valid JSON (checked by a test)")
}

/// Adds `operation` for `method path` (creating the path item if needed).
pub(crate) fn add_operation(
    spec: &mut serde_json::Value,
    method: &str,
    path: &str,
    operation: &serde_json::Value,
) {
    let mut operation = operation.clone();
    if let Some(op) = operation.as_object_mut() {
        op.entry("responses")
            .or_insert_with(|| serde_json::json!({ "default": { "description": "see the handler's documentation" } }));
    }
    if let Some(paths) = spec.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let item = paths
            .entry(path.to_owned())
            .or_insert_with(|| serde_json::json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(method.to_ascii_lowercase(), operation);
        }
    }
}

/// `GET /api/openapi.json`.
pub(crate) async fn serve_spec(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.spec().clone())
}
