//! The pages and their assets, embedded in the binary (no CDN, no network).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");
const RECORDING: &str = include_str!("assets/recording.html");
const SESSION: &str = include_str!("assets/session.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// `GET /`.
pub(crate) async fn index_page() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /recording/{file}`: the page reads the file name from its URL.
pub(crate) async fn recording_page(Path(_file): Path<String>) -> Html<&'static str> {
    Html(RECORDING)
}

/// `GET /session/{*path}`.
pub(crate) async fn session_page(Path(_path): Path<String>) -> Html<&'static str> {
    Html(SESSION)
}

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}
