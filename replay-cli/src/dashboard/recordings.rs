//! The recording routes: list, whole recording, paged and filtered events, fields, stats,
//! and creating a filtered recording from selected events.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use replay_events::{EventRef, EventStream, Format, Recording};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{ApiError, ApiPath, ApiQuery, ApiResult, blocking, parse_body};
use super::state::AppState;

/// Events per page when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 1000;
/// The largest page.
pub(crate) const MAX_LIMIT: usize = 10_000;

/// `GET /api/recordings`.
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    blocking(move || {
        let dir = state.recordings_dir();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            ApiError::internal(format!(
                "cannot read the recordings directory `{}`: {e}; check `--recordings`",
                dir.display()
            ))
        })?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || Format::from_extension(Path::new(&name)).is_none() {
                continue;
            }
            // Only regular files inside the directory; an empty file is a name reserved by a
            // recorder that has not saved yet.
            let Ok(path) = state.recording_path(&name) else {
                continue;
            };
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.len() == 0 {
                continue;
            }
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let mut item = match state.cached(&path, "meta", || metadata(&path)) {
                Ok(v) => (*v).clone(),
                Err(e) => json!({ "error": e.message }),
            };
            if let Some(obj) = item.as_object_mut() {
                obj.insert("filename".into(), json!(name));
                obj.insert("size_bytes".into(), json!(meta.len()));
                obj.insert("modified".into(), json!(modified));
            }
            out.push(item);
        }
        out.sort_by(|a, b| {
            b["modified"]
                .as_u64()
                .cmp(&a["modified"].as_u64())
                .then_with(|| a["filename"].as_str().cmp(&b["filename"].as_str()))
        });
        Ok(Json(out))
    })
    .await
}

fn metadata(path: &Path) -> ApiResult<Value> {
    let stream = EventStream::open(path)?;
    let header = stream.header();
    let format = if stream.is_streamed() {
        "jsonl"
    } else {
        "json"
    };
    Ok(json!({
        "format": format,
        "session_name": header.session_name,
        "start_time": header.start_time,
        "duration_ms": header.duration_ms,
        "total_events": header.total_events,
        "event_count": header.total_events,
    }))
}

/// `GET /api/recording/{file}`: the seeds' JSON document.
pub(crate) async fn detail(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> ApiResult<Response> {
    let path = state.recording_path(&file)?;
    if Format::from_extension(&path) == Some(Format::Json) {
        // Served as written: the file is only ever replaced by an atomic rename.
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| ApiError::internal(format!("cannot read `{file}`: {e}")))?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response());
    }
    // JSON Lines: stream the equivalent JSON document, one chunk per batch of events.
    let stream = blocking(move || Ok(EventStream::open(&path)?)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || stream_document(stream, &tx));
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn stream_document(
    mut stream: EventStream,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let header = stream.header().clone();
    let mut buf = Vec::with_capacity(1 << 16);
    let _ = write!(
        buf,
        "{{\"session_name\":{},\"start_time\":{},\"duration_ms\":{},\"total_events\":{}",
        Value::from(header.session_name.as_str()),
        Value::from(header.start_time.as_str()),
        header.duration_ms,
        header.total_events
    );
    for (key, value) in &header.extra {
        let _ = write!(buf, ",{}:{}", Value::from(key.as_str()), value.get());
    }
    buf.extend_from_slice(b",\"events\":[");
    let mut first = true;
    let result = stream.for_each_ref(|event| {
        if !first {
            buf.push(b',');
        }
        first = false;
        let mut line = String::new();
        replay_events::render_event_line(event, &mut line);
        buf.extend_from_slice(line.trim_end().as_bytes());
        if buf.len() > 1 << 16 {
            let chunk = Bytes::from(std::mem::take(&mut buf));
            if tx.blocking_send(Ok(chunk)).is_err() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    });
    match result {
        Ok(()) => {
            buf.extend_from_slice(b"]}");
            let _ = tx.blocking_send(Ok(Bytes::from(buf)));
        }
        Err(e) => {
            // The status is sent already: end the body with an error (the client sees a
            // truncated transfer, never a well-formed half document).
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    }
}

/// The query of `GET /api/recording/{file}/events`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventsQuery {
    event_name: Option<String>,
    source: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// The filters of the events page.
#[derive(Debug, Default, Clone)]
pub(crate) struct PageFilter {
    pub(crate) event_name: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) q: Option<String>,
}

impl PageFilter {
    fn is_all(&self) -> bool {
        self.event_name.is_none() && self.source.is_none() && self.q.is_none()
    }

    fn matches(&self, event: &EventRef<'_>) -> bool {
        if self
            .event_name
            .as_deref()
            .is_some_and(|n| n != event.event_name)
        {
            return false;
        }
        if self.source.as_deref().is_some_and(|s| s != event.source) {
            return false;
        }
        match &self.q {
            None => true,
            Some(q) => {
                contains_ci(&event.event_name, q)
                    || contains_ci(&event.source, q)
                    || contains_ci(event.event_data.get(), q)
            }
        }
    }
}

/// Case-insensitive `contains`; `needle` is already lowercase.
fn contains_ci(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let h = haystack.as_bytes();
        let n = needle.as_bytes();
        return n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// One page of events: those matching `filter`, skipping `offset`, at most `limit`; and how
/// many match in all. Streams through the file.
pub(crate) fn page(
    path: &Path,
    filter: &PageFilter,
    offset: usize,
    limit: usize,
) -> ApiResult<(Vec<Value>, usize)> {
    let mut stream = EventStream::open(path)?;
    let known_total = (filter.is_all())
        .then(|| usize::try_from(stream.header().total_events).ok())
        .flatten()
        .filter(|_| stream.is_streamed());
    let mut events = Vec::with_capacity(limit.min(1024));
    let mut index = 0usize;
    let mut matched = 0usize;
    stream.for_each_ref(|event| {
        let i = index;
        index += 1;
        if !filter.matches(event) {
            return Ok(ControlFlow::Continue(()));
        }
        matched += 1;
        if matched > offset && events.len() < limit {
            events.push(event_json(i, event));
        }
        if known_total.is_some() && events.len() >= limit && matched >= offset {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok((events, known_total.unwrap_or(matched)))
}

fn event_json(index: usize, event: &EventRef<'_>) -> Value {
    let data: Value = serde_json::from_str(event.event_data.get()).unwrap_or(Value::Null);
    let mut obj = serde_json::Map::new();
    obj.insert("index".into(), json!(index));
    obj.insert(
        "timestamp_offset_ms".into(),
        json!(event.timestamp_offset_ms),
    );
    obj.insert("event_name".into(), json!(event.event_name));
    obj.insert("event_data".into(), data);
    obj.insert("source".into(), json!(event.source));
    for (key, value) in &event.extra {
        if let Ok(v) = serde_json::from_str::<Value>(value.get()) {
            obj.insert(key.to_string(), v);
        }
    }
    Value::Object(obj)
}

/// `GET /api/recording/{file}/events`.
pub(crate) async fn events(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Json<Value>> {
    let path = state.recording_path(&file)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "`limit` is {limit}, more than the largest page of {MAX_LIMIT}; page with `offset`"
        )));
    }
    let offset = query.offset.unwrap_or(0);
    let filter = PageFilter {
        event_name: non_empty(query.event_name),
        source: non_empty(query.source),
        q: non_empty(query.q).map(|q| q.to_lowercase()),
    };
    blocking(move || {
        let (events, total) =
            if filter.is_all() && Format::from_extension(&path) == Some(Format::JsonLines) {
                let index = state.cached(&path, "line-index", || LineIndex::build(&path))?;
                index.page(&path, offset, limit)?
            } else {
                page(&path, &filter, offset, limit)?
            };
        Ok(Json(json!({
            "filename": file,
            "total_events": total,
            "returned_events": events.len(),
            "offset": offset,
            "limit": limit,
            "events": events,
        })))
    })
    .await
}

/// `GET /api/recording/{file}/fields`: the seed's shape.
pub(crate) async fn fields(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let path = state.recording_path(&file)?;
    blocking(move || {
        let value = state.cached(&path, "fields", || {
            let mut names = BTreeSet::new();
            let mut sources = BTreeSet::new();
            let mut data_fields = BTreeSet::new();
            let mut stream = EventStream::open(&path)?;
            stream.for_each_ref(|event| {
                if !names.contains(event.event_name.as_ref()) {
                    names.insert(event.event_name.to_string());
                }
                if !sources.contains(event.source.as_ref()) {
                    sources.insert(event.source.to_string());
                }
                if event.event_data.get().starts_with('{')
                    && let Ok(map) = serde_json::from_str::<HashMap<String, serde::de::IgnoredAny>>(
                        event.event_data.get(),
                    )
                {
                    for key in map.into_keys() {
                        data_fields.insert(key);
                    }
                }
                Ok(ControlFlow::Continue(()))
            })?;
            Ok(json!({
                "event_types": names,
                "sources": sources,
                "data_fields": data_fields,
            }))
        })?;
        Ok(Json((*value).clone()))
    })
    .await
}

/// The query of `GET /api/recording/{file}/stats`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatsQuery {
    bins: Option<usize>,
}

/// Names shown as their own series in the timeline; the rest are summed as `(other)`.
const TIMELINE_SERIES: usize = 12;

/// `GET /api/recording/{file}/stats`.
pub(crate) async fn stats(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let path = state.recording_path(&file)?;
    let bins = query.bins.unwrap_or(60);
    if !(1..=500).contains(&bins) {
        return Err(ApiError::bad_request(format!(
            "`bins` is {bins}; give 1 to 500"
        )));
    }
    blocking(move || {
        let value = state.cached(&path, &format!("stats{bins}"), || {
            recording_stats(&path, bins)
        })?;
        let mut value = (*value).clone();
        value["filename"] = json!(file);
        Ok(Json(value))
    })
    .await
}

/// Counts by name and source, and a histogram of events over time by name.
pub(crate) fn recording_stats(path: &Path, bins: usize) -> ApiResult<Value> {
    // First pass: counts and the span (a JSON Lines header's duration may be 0 or stale).
    let mut stream = EventStream::open(path)?;
    let header = stream.header().clone();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_source: HashMap<String, usize> = HashMap::new();
    let mut last = 0f64;
    let mut total = 0usize;
    stream.for_each_ref(|event| {
        total += 1;
        bump(&mut by_name, &event.event_name);
        bump(&mut by_source, &event.source);
        last = last.max(event.offset_ms());
        Ok(ControlFlow::Continue(()))
    })?;
    let names = sorted_counts(by_name);
    let sources = sorted_counts(by_source);
    let shown: HashMap<&str, usize> = names
        .iter()
        .take(TIMELINE_SERIES)
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    let other = names.len() > TIMELINE_SERIES;
    let span = last
        .max(header.duration_ms.as_f64().unwrap_or(0.0))
        .max(1.0);
    let bin_ms = span / bins as f64;
    let mut series = vec![vec![0usize; bins]; shown.len() + usize::from(other)];
    let mut stream = EventStream::open(path)?;
    stream.for_each_ref(|event| {
        let bin = ((event.offset_ms() / bin_ms) as usize).min(bins - 1);
        let row = shown
            .get(event.event_name.as_ref())
            .copied()
            .unwrap_or(series.len() - 1);
        series[row][bin] += 1;
        Ok(ControlFlow::Continue(()))
    })?;
    let mut series_json: Vec<Value> = names
        .iter()
        .take(TIMELINE_SERIES)
        .zip(&series)
        .map(|((name, _), counts)| json!({ "name": name, "counts": counts }))
        .collect();
    if other {
        series_json.push(json!({ "name": "(other)", "counts": series[series.len() - 1] }));
    }
    Ok(json!({
        "session_name": header.session_name,
        "start_time": header.start_time,
        "duration_ms": header.duration_ms,
        "total_events": total,
        "span_ms": last,
        "events": names.iter().map(|(n, c)| json!({"name": n, "count": c})).collect::<Vec<_>>(),
        "sources": sources.iter().map(|(n, c)| json!({"name": n, "count": c})).collect::<Vec<_>>(),
        "bins": bins,
        "bin_ms": bin_ms,
        "series": series_json,
    }))
}

fn bump(map: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else {
        map.insert(key.to_owned(), 1);
    }
}

fn sorted_counts(map: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The body of `POST /api/recording/create`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CreateBody {
    source_filename: Option<String>,
    #[serde(default)]
    event_indices: Vec<u64>,
    new_session_name: Option<String>,
}

/// `POST /api/recording/create`.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: CreateBody = parse_body(body, true)?;
    let Some(source) = body.source_filename.filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad_request(
            "`source_filename` is required; give a file name from `GET /api/recordings`",
        ));
    };
    let path = state.recording_path(&source)?;
    let name = body
        .new_session_name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "filtered_session".to_owned());
    blocking(move || {
        let wanted: HashSet<u64> = body.event_indices.iter().copied().collect();
        let mut stream = EventStream::open(&path)?;
        let mut selected = Vec::new();
        let mut index = 0u64;
        while let Some(event) = stream.next_event()? {
            if wanted.is_empty() || wanted.contains(&index) {
                selected.push(event);
            }
            index += 1;
        }
        if selected.is_empty() {
            return Err(ApiError::bad_request(format!(
                "no events selected: `{source}` has {index} events (indices are 0-based); select at least one"
            )));
        }
        let first = selected[0].offset_ms();
        for event in &mut selected {
            event.timestamp_offset_ms = rebase(&event.timestamp_offset_ms, first);
        }
        let mut recording = Recording::new(name.clone(), now_iso());
        recording.duration_ms = selected
            .last()
            .map_or_else(|| 0u64.into(), |e| e.timestamp_offset_ms.clone());
        recording.extra.push((
            "source_file".to_owned(),
            serde_json::value::to_raw_value(&source)
                .map_err(|e| ApiError::internal(e.to_string()))?,
        ));
        let count = selected.len();
        recording.events = selected;
        let target = unique_path(state.recordings_dir(), &name)?;
        recording.save(&target)?;
        let filename = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Json(json!({
            "success": true,
            "filename": filename,
            "event_count": count,
        })))
    })
    .await
}

/// `offset - first`, an integer when both are.
fn rebase(offset: &serde_json::Number, first: f64) -> serde_json::Number {
    if let Some(o) = offset.as_u64()
        && first.fract() == 0.0
    {
        return serde_json::Number::from(o.saturating_sub(first as u64));
    }
    let value = (offset.as_f64().unwrap_or(0.0) - first).max(0.0);
    serde_json::Number::from_f64(value).unwrap_or_else(|| 0u64.into())
}

/// A file name for a new recording named `name`: `<name>_<UTC stamp>.json`, with `_2`, `_3`…
/// when taken.
pub(crate) fn unique_path(dir: &Path, name: &str) -> ApiResult<PathBuf> {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = file_stamp_now();
    for n in 1..1000 {
        let file = if n == 1 {
            format!("{clean}_{stamp}.json")
        } else {
            format!("{clean}_{stamp}_{n}.json")
        };
        let path = dir.join(file);
        if !path.exists() {
            return Ok(path);
        }
    }
    Err(ApiError::conflict(format!(
        "too many recordings named `{clean}` this second; choose another `new_session_name`"
    )))
}

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn now_iso() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

fn file_stamp_now() -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Where every [`LineIndex::EVERY`]th event line of a JSON Lines recording starts, so that an
/// unfiltered page at any offset reads only its own lines. Built in one pass over the raw
/// lines (no JSON parsing) and cached until the file changes.
#[derive(Debug)]
pub(crate) struct LineIndex {
    header: Vec<u8>,
    checkpoints: Vec<u64>,
    events: usize,
}

impl LineIndex {
    /// Events between checkpoints.
    const EVERY: usize = 4096;

    pub(crate) fn build(path: &Path) -> ApiResult<LineIndex> {
        use std::io::BufRead as _;
        let file = std::fs::File::open(path)
            .map_err(|e| ApiError::internal(format!("cannot open `{}`: {e}", path.display())))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let mut line = Vec::with_capacity(512);
        let mut position = 0u64;
        let mut header = Vec::new();
        let mut checkpoints = Vec::new();
        let mut events = 0usize;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| {
                ApiError::internal(format!("cannot read `{}`: {e}", path.display()))
            })?;
            if n == 0 {
                break;
            }
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                if header.is_empty() {
                    header = line.clone();
                } else {
                    if events.is_multiple_of(Self::EVERY) {
                        checkpoints.push(position);
                    }
                    events += 1;
                }
            }
            position += n as u64;
        }
        Ok(LineIndex {
            header,
            checkpoints,
            events,
        })
    }

    /// The unfiltered page at `offset`: seek to the checkpoint before it, skip the rest
    /// unparsed, parse `limit` events.
    pub(crate) fn page(
        &self,
        path: &Path,
        offset: usize,
        limit: usize,
    ) -> ApiResult<(Vec<Value>, usize)> {
        use std::io::{BufRead as _, Read as _, Seek as _};
        if offset >= self.events || limit == 0 {
            return Ok((Vec::new(), self.events));
        }
        let checkpoint = offset / Self::EVERY;
        let mut file = std::fs::File::open(path)
            .map_err(|e| ApiError::internal(format!("cannot open `{}`: {e}", path.display())))?;
        file.seek(std::io::SeekFrom::Start(self.checkpoints[checkpoint]))
            .map_err(|e| ApiError::internal(format!("cannot read `{}`: {e}", path.display())))?;
        let mut body = std::io::BufReader::with_capacity(1 << 16, file);
        // Skip the events between the checkpoint and the offset without parsing them.
        let mut line = Vec::with_capacity(512);
        let mut skip = offset - checkpoint * Self::EVERY;
        while skip > 0 {
            line.clear();
            let n = body.read_until(b'\n', &mut line).map_err(|e| {
                ApiError::internal(format!("cannot read `{}`: {e}", path.display()))
            })?;
            if n == 0 {
                break;
            }
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                skip -= 1;
            }
        }
        // The header line first, so that the reader checks and reports as usual.
        let reader = std::io::Cursor::new(self.header.clone()).chain(body);
        let mut reader = replay_events::JsonlReader::from_reader(reader, path)?;
        let mut events = Vec::with_capacity(limit.min(1024));
        let mut index = offset;
        while events.len() < limit {
            let Some(event) = reader.next_event()? else {
                break;
            };
            events.push(event_json(index, &event));
            index += 1;
        }
        Ok((events, self.events))
    }
}
