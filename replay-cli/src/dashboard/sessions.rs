//! The instrument side: cassettes under the sessions directory, one cassette's logs,
//! errors and measured values, and its semantic diff against a git revision.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::Json;
use axum::extract::State;
use replay_core::diff::{DiffOptions, SessionDiff, parse_scpi_number};
use replay_core::session::{InteractionKind, Session, parse_session, read_session};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{ApiError, ApiPath, ApiQuery, ApiResult, blocking};
use super::state::AppState;

/// Binary responses are shown as hex up to this many bytes.
const HEX_LIMIT: usize = 4096;
/// How deep `GET /api/sessions` looks for cassettes.
const MAX_DEPTH: usize = 8;

/// `GET /api/sessions`.
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    blocking(move || {
        let root = state.sessions_dir().to_owned();
        let mut files = Vec::new();
        if root.is_dir() {
            walk(&root, &root, 0, &mut files);
        }
        files.sort();
        let mut out = Vec::new();
        for rel in files {
            let Ok(path) = state.session_path(&rel) else {
                continue;
            };
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.len() == 0 {
                continue;
            }
            let mut item = match state.cached(&path, "session-meta", || {
                let session = read_session(&path)?;
                Ok(session_meta(&session))
            }) {
                Ok(v) => (*v).clone(),
                Err(e) => json!({ "error": e.message }),
            };
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            if let Some(obj) = item.as_object_mut() {
                obj.insert("path".into(), json!(rel));
                obj.insert("size_bytes".into(), json!(meta.len()));
                obj.insert("modified".into(), json!(modified));
            }
            out.push(item);
        }
        Ok(Json(out))
    })
    .await
}

/// Collects `.yaml`/`.yml` files under `dir` as `/`-separated paths relative to `root`;
/// hidden entries and symlinked directories are skipped.
fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            walk(root, &path, depth + 1, out);
        } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
            && let Ok(rel) = path.strip_prefix(root)
        {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}

fn duration_s(session: &Session) -> f64 {
    let times = session
        .instruments
        .iter()
        .flat_map(|(_, log)| log.log.iter().map(|i| i.timestamp));
    let (min, max) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if max >= min { max - min } else { 0.0 }
}

fn error_count(session: &Session) -> usize {
    session
        .instruments
        .iter()
        .map(|(_, log)| log.log.iter().filter(|i| i.error.is_some()).count())
        .sum()
}

fn session_meta(session: &Session) -> Value {
    json!({
        "instruments": session.instruments.len(),
        "interactions": session.len(),
        "errors": error_count(session),
        "duration_s": duration_s(session),
    })
}

/// `GET /api/session/{*path}`: the cassette, or (path ending in `/diff`) its diff.
pub(crate) async fn detail_or_diff(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(file) = path.strip_suffix("/diff") {
        let full = state.session_path(file)?;
        let file = file.to_owned();
        return blocking(move || diff(&full, &file, query.against.as_deref().unwrap_or("HEAD")))
            .await
            .map(Json);
    }
    let full = state.session_path(&path)?;
    blocking(move || {
        let session = read_session(&full)?;
        Ok(Json(session_view(&path, &session)))
    })
    .await
}

/// A cassette for the page: per-instrument logs (binary as hex, errors flagged), the
/// recorded errors, and the numeric query responses as series over the session.
pub(crate) fn session_view(path: &str, session: &Session) -> Value {
    let mut errors = Vec::new();
    let mut instruments = Vec::new();
    for (alias, log) in &session.instruments {
        let mut entries = Vec::with_capacity(log.log.len());
        let mut series: Vec<(String, Vec<[f64; 2]>)> = Vec::new();
        for (i, interaction) in log.log.iter().enumerate() {
            let mut entry = json!({
                "index": i + 1,
                "type": interaction.kind.as_str(),
                "command": interaction.command,
                "response": interaction.response,
                "timestamp": interaction.timestamp,
            });
            if let Some(bytes) = &interaction.binary {
                entry["binary_len"] = json!(bytes.len());
                entry["binary_hex"] = json!(hex_dump(bytes));
            }
            if let Some(error) = &interaction.error {
                entry["error"] = json!({ "kind": error.kind.as_str(), "message": error.message });
                errors.push(json!({
                    "alias": alias,
                    "index": i + 1,
                    "command": interaction.command,
                    "kind": error.kind.as_str(),
                    "message": error.message,
                    "timestamp": interaction.timestamp,
                }));
            }
            if matches!(interaction.kind, InteractionKind::Query)
                && let Some(value) = interaction
                    .response
                    .as_deref()
                    .and_then(|r| parse_scpi_number(r.trim()))
                && value.is_finite()
            {
                entry["value"] = json!(value);
                match series.iter_mut().find(|(c, _)| *c == interaction.command) {
                    Some((_, points)) => points.push([interaction.timestamp, value]),
                    None => series.push((
                        interaction.command.clone(),
                        vec![[interaction.timestamp, value]],
                    )),
                }
            }
            entries.push(entry);
        }
        instruments.push(json!({
            "alias": alias,
            "profile": log.profile,
            "interactions": log.log.len(),
            "errors": log.log.iter().filter(|i| i.error.is_some()).count(),
            "log": entries,
            "series": series
                .into_iter()
                .map(|(command, points)| json!({ "command": command, "points": points }))
                .collect::<Vec<_>>(),
        }));
    }
    json!({
        "path": path,
        "interactions": session.len(),
        "duration_s": duration_s(session),
        "errors": errors,
        "instruments": instruments,
    })
}

/// Offset, 16 bytes in hex, and their ASCII; cut at [`HEX_LIMIT`] bytes.
pub(crate) fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).take(HEX_LIMIT / 16).enumerate() {
        let _ = write!(out, "{:08x}  ", row * 16);
        for b in chunk {
            let _ = write!(out, "{b:02x} ");
        }
        for _ in chunk.len()..16 {
            out.push_str("   ");
        }
        out.push(' ');
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    if bytes.len() > HEX_LIMIT {
        let _ = writeln!(out, "… {} more bytes", bytes.len() - HEX_LIMIT);
    }
    out
}

/// The query of the diff route.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiffQuery {
    against: Option<String>,
}

fn diff(full: &Path, rel: &str, against: &str) -> ApiResult<Value> {
    let valid_rev = !against.is_empty()
        && !against.starts_with('-')
        && against.len() <= 100
        && against
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./~^@-".contains(c));
    if !valid_rev || against.contains("..") {
        return Err(ApiError::bad_request(format!(
            "`against` is `{against}`, not a git revision this server accepts; give a commit, branch or tag such as `HEAD`"
        )));
    }
    let dir = full
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .arg("show")
        .arg(format!("{against}:./{file}"))
        .output()
        .map_err(|e| {
            ApiError::internal(format!(
                "cannot run `git`: {e}; install git to diff cassettes"
            ))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ApiError::not_found(format!(
            "`{rel}` has no committed version at `{against}`: {}; commit it first or choose another revision",
            stderr.trim()
        )));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("the version of `{rel}` at `{against}` is not UTF-8 text"),
        )
    })?;
    let old = parse_session(format!("{against}:{rel}"), &text)?;
    let new = read_session(full)?;
    let diff = SessionDiff::compute(&old, &new, &DiffOptions::default());
    let old_label = format!("{rel} ({against})");
    let new_label = format!("{rel} (working tree)");
    Ok(json!({
        "path": rel,
        "against": against,
        "equal": diff.is_empty(),
        "summary": diff.summary(),
        "text": diff.render(&old_label, &new_label),
        "diff": diff,
    }))
}
