//! Every route of the dashboard's REST API through `tower::ServiceExt::oneshot`, with the
//! bad inputs: traversal, symlinks out, malformed JSON, oversized bodies, bad parameters.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use replay_cli::dashboard::{Dashboard, RouteEntry};
use serde_json::{Value, json};
use support::{CASSETTE, SEED, fixture};
use tokio_stream::StreamExt as _;
use tower::ServiceExt as _;

fn router(f: &support::Fixture) -> Router {
    Dashboard::new(f.recordings(), f.sessions()).router()
}

async fn call(router: &Router, method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    call(router, "GET", uri, None).await
}

async fn post(router: &Router, uri: &str, body: &str) -> (StatusCode, Value) {
    call(router, "POST", uri, Some(body)).await
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, needle: &str) {
    assert_eq!(status, expected, "{body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no `error` in {body}"));
    assert!(message.contains(needle), "`{needle}` not in `{message}`");
}

#[tokio::test]
async fn recordings_list_skips_files_being_written_and_links_out() {
    let f = fixture();
    let r = router(&f);
    let (status, list) = get(&r, "/api/recordings").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["filename"].as_str().unwrap())
        .collect();
    assert!(names.contains(&SEED), "{names:?}");
    assert!(names.contains(&"lines.jsonl"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with('.') || n.starts_with("reserved")),
        "{names:?}"
    );
    assert!(
        !names.contains(&"link.json"),
        "a symlink out is listed: {names:?}"
    );
    let seed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["filename"] == SEED)
        .unwrap();
    assert_eq!(seed["session_name"], "bull_run_2025");
    assert_eq!(seed["total_events"], 43);
    assert_eq!(seed["event_count"], 43);
    assert_eq!(seed["format"], "json");
}

#[tokio::test]
async fn a_recording_is_served_whole_in_the_seed_shape() {
    let f = fixture();
    let r = router(&f);
    let (status, doc) = get(&r, &format!("/api/recording/{SEED}")).await;
    assert_eq!(status, StatusCode::OK);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(f.recordings().join(SEED)).unwrap()).unwrap();
    assert_eq!(doc, on_disk);
    // JSON Lines is streamed as the equivalent document, digits kept.
    let (status, doc) = get(&r, "/api/recording/lines.jsonl").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["session_name"], "lines");
    assert_eq!(doc["events"].as_array().unwrap().len(), 4);
    assert_eq!(doc["events"][0]["event_data"]["x"].to_string(), "1.5");
}

#[tokio::test]
async fn events_page_filter_and_search() {
    let f = fixture();
    let r = router(&f);
    let (status, page) = get(
        &r,
        &format!("/api/recording/{SEED}/events?limit=5&offset=10"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total_events"], 43);
    assert_eq!(page["returned_events"], 5);
    assert_eq!(page["offset"], 10);
    assert_eq!(page["events"][0]["index"], 10);
    let (_, page) = get(
        &r,
        &format!("/api/recording/{SEED}/events?event_name=PositionOpened"),
    )
    .await;
    assert_eq!(page["total_events"], 1);
    assert_eq!(page["events"][0]["index"], 6);
    assert_eq!(page["events"][0]["event_data"]["side"], "buy");
    let (_, page) = get(
        &r,
        &format!("/api/recording/{SEED}/events?source=TradingBot&limit=2"),
    )
    .await;
    assert_eq!(page["total_events"], 3);
    assert_eq!(page["returned_events"], 2);
    let (_, page) = get(&r, "/api/recording/lines.jsonl/events?q=NEEDLE").await;
    assert_eq!(page["total_events"], 1);
    assert_eq!(page["events"][0]["event_name"], "B");
    let (_, page) = get(&r, "/api/recording/lines.jsonl/events?limit=1&offset=3").await;
    assert_eq!(page["total_events"], 4);
    assert_eq!(page["events"][0]["event_name"], "C");
    let (status, body) = get(&r, &format!("/api/recording/{SEED}/events?limit=100000")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "largest page");
    let (status, body) = get(&r, &format!("/api/recording/{SEED}/events?offset=minus")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad query string");
}

#[tokio::test]
async fn fields_and_stats() {
    let f = fixture();
    let r = router(&f);
    let (status, fields) = get(&r, &format!("/api/recording/{SEED}/fields")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fields["event_types"],
        json!([
            "MarketDataReceived",
            "OrderFailed",
            "PositionClosed",
            "PositionOpened"
        ])
    );
    assert_eq!(fields["sources"], json!(["MarketDataAgent", "TradingBot"]));
    assert!(
        fields["data_fields"]
            .as_array()
            .unwrap()
            .contains(&json!("pnl"))
    );
    let (status, stats) = get(&r, &format!("/api/recording/{SEED}/stats?bins=10")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats["events"][0],
        json!({"name": "MarketDataReceived", "count": 40})
    );
    assert_eq!(stats["bins"], 10);
    let binned: u64 = stats["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["counts"].as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(binned, 43);
    let (status, body) = get(&r, &format!("/api/recording/{SEED}/stats?bins=0")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "`bins`");
}

#[tokio::test]
async fn create_saves_the_selected_events_rebased() {
    let f = fixture();
    let r = router(&f);
    let body = json!({"source_filename": SEED, "event_indices": [6, 19, 33], "new_session_name": "picked"});
    let (status, out) = post(&r, "/api/recording/create", &body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["success"], true);
    assert_eq!(out["event_count"], 3);
    let name = out["filename"].as_str().unwrap();
    assert!(
        name.starts_with("picked_") && name.ends_with(".json"),
        "{name}"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(f.recordings().join(name)).unwrap()).unwrap();
    assert_eq!(saved["session_name"], "picked");
    assert_eq!(saved["total_events"], 3);
    assert_eq!(saved["source_file"], SEED);
    let events = saved["events"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["PositionOpened", "OrderFailed", "PositionClosed"]);
    assert_eq!(events[0]["timestamp_offset_ms"], 0);
    assert!(events[2]["timestamp_offset_ms"].as_u64().unwrap() > 20_000);
    // Bad inputs.
    let (status, e) = post(&r, "/api/recording/create", "{\"source_filename\": ").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "malformed JSON");
    let (status, e) = post(&r, "/api/recording/create", "{}").await;
    assert_error(
        status,
        &e,
        StatusCode::BAD_REQUEST,
        "`source_filename` is required",
    );
    let (status, e) = post(
        &r,
        "/api/recording/create",
        &json!({"source_filename": SEED, "event_indices": [999]}).to_string(),
    )
    .await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "no events selected");
    let (status, e) = post(
        &r,
        "/api/recording/create",
        &json!({"source_filename": "../secret.json"}).to_string(),
    )
    .await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "without `..`");
    let (status, e) = post(
        &r,
        "/api/recording/create",
        &json!({"source_filename": "nope.json"}).to_string(),
    )
    .await;
    assert_error(
        status,
        &e,
        StatusCode::NOT_FOUND,
        "no recording `nope.json`",
    );
}

#[tokio::test]
async fn traversal_absolute_encoded_and_symlinks_are_refused() {
    let f = fixture();
    let r = router(&f);
    for uri in [
        "/api/recording/..%2Fsecret.json",
        "/api/recording/%2E%2E%2Fsecret.json",
        "/api/recording/%2Fetc%2Fpasswd",
        "/api/recording/..%5Csecret.json",
        "/api/recording/..%2F..%2Frepo%2Fsessions%2Fbench%2Fpsu.yaml/events",
        "/api/session/..%2F..%2Fsecret.json",
        "/api/session/bench/../../../secret.json",
        "/api/session/%2Fetc%2Fpasswd",
    ] {
        let (status, body) = get(&r, uri).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{uri}: {status} {body}"
        );
        assert!(body["error"].is_string(), "{uri}: {body}");
        assert!(
            !body.to_string().contains("secret\\\": true"),
            "{uri} leaked: {body}"
        );
    }
    let (status, body) = get(&r, "/api/recording/link.json").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "no recording `link.json`",
    );
    let (status, body) = get(&r, "/api/recording/.replay-abc.tmp").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "no recording");
    let (status, body) = get(&r, "/api/recording/missing.json").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "GET /api/recordings");
    let (status, body) = get(&r, "/api/nothing/here").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "/api/openapi.json");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let f = fixture();
    let r = router(&f);
    let big = format!(
        "{{\"event_name\": \"x\", \"event_data\": \"{}\"}}",
        "a".repeat(3 << 20)
    );
    let (status, body) = post(&r, "/api/record/event", &big).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "limit");
}

#[tokio::test]
async fn remote_recording_round_trip() {
    let f = fixture();
    let r = router(&f);
    let (status, e) = post(&r, "/api/record/event", "{\"event_name\": \"x\"}").await;
    assert_error(status, &e, StatusCode::CONFLICT, "POST /api/record/start");
    let (status, out) = post(&r, "/api/record/start", "{\"session_name\": \"remote\"}").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, e) = post(&r, "/api/record/start", "").await;
    assert_error(status, &e, StatusCode::CONFLICT, "already active");
    let (status, e) = post(&r, "/api/record/event", "{\"event_data\": {}}").await;
    assert_error(
        status,
        &e,
        StatusCode::BAD_REQUEST,
        "`event_name` is required",
    );
    let (status, e) = post(&r, "/api/record/event", "[1,").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "malformed JSON");
    for i in 0..3 {
        let body = json!({"event_name": "Tick", "event_data": {"n": i}, "source": "Test"});
        let (status, out) = post(&r, "/api/record/event", &body.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(out["event_count"], i + 1);
    }
    let (_, st) = get(&r, "/api/record/status").await;
    assert_eq!(
        st,
        json!({"active": true, "session_name": "remote", "event_count": 3})
    );
    let (status, out) = post(&r, "/api/record/stop", "").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let file = out["filename"].as_str().unwrap();
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(f.recordings().join(file)).unwrap()).unwrap();
    assert_eq!(saved["total_events"], 3);
    assert_eq!(saved["events"][2]["event_data"], json!({"n": 2}));
    let (_, st) = get(&r, "/api/record/status").await;
    assert_eq!(st["active"], false);
    let (status, e) = post(&r, "/api/record/stop", "").await;
    assert_error(status, &e, StatusCode::CONFLICT, "no active recording");
}

#[tokio::test]
async fn replay_simulation_streams_events_with_pause_speed_and_stop() {
    let f = fixture();
    let r = router(&f);
    // The live stream, opened before the start.
    let response = r
        .clone()
        .oneshot(
            Request::get("/api/replay/stream")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut sse = response.into_body().into_data_stream();

    let (status, e) = post(&r, "/api/replay/start/lines.jsonl", "{\"speed\": 0}").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "`speed`");
    let (status, e) = post(&r, "/api/replay/pause", "").await;
    assert_error(status, &e, StatusCode::CONFLICT, "no active replay");
    let (status, out) = post(&r, "/api/replay/start/lines.jsonl", "{\"speed\": 10}").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["total_events"], 4);
    let (status, e) = post(&r, "/api/replay/start/lines.jsonl", "").await;
    assert_error(status, &e, StatusCode::CONFLICT, "already active");

    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while text.matches("event: event").count() < 4 {
        let chunk = tokio::time::timeout_at(deadline, sse.next())
            .await
            .expect("replayed events arrive")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("\"event_name\":\"C\""), "{text}");
    let (_, st) = get(&r, "/api/replay/status").await;
    // The last event is out; the run ends right after.
    assert_eq!(st["current_event"], 4, "{st}");

    // A slow replay: pause, speed, stop.
    let (status, _) = post(&r, "/api/replay/start/lines.jsonl", "{\"speed\": 0.01}").await;
    assert_eq!(status, StatusCode::OK);
    let (_, p) = post(&r, "/api/replay/pause", "").await;
    assert_eq!(p["status"], "paused");
    let (_, st) = get(&r, "/api/replay/status").await;
    assert_eq!(st["state"], "paused");
    assert_eq!(st["paused"], true);
    let (status, out) = post(&r, "/api/replay/speed", "{\"speed\": 5}").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, e) = post(&r, "/api/replay/speed", "{}").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "`speed` is required");
    let (_, p) = post(&r, "/api/replay/pause", "").await;
    assert_eq!(p["status"], "playing");
    let (_, st) = get(&r, "/api/replay/status").await;
    assert_eq!(st["speed"], 5.0);
    let (status, _) = post(&r, "/api/replay/stop", "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, st) = get(&r, "/api/replay/status").await;
    assert_eq!(st["state"], "stopped");
    assert_eq!(st["active"], false);
    let (status, e) = post(&r, "/api/replay/start/..%2Fsecret.json", "").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "without `..`");
}

#[tokio::test]
async fn sessions_list_detail_and_diff_against_head() {
    let f = fixture();
    let r = router(&f);
    let (status, list) = get(&r, "/api/sessions").await;
    assert_eq!(status, StatusCode::OK);
    let psu = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == CASSETTE)
        .unwrap();
    assert_eq!(psu["instruments"], 2);
    assert_eq!(psu["interactions"], 7);
    assert_eq!(psu["errors"], 1);

    let (status, s) = get(&r, &format!("/api/session/{CASSETTE}")).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["errors"][0]["command"], "MEAS:CURR? (@1)");
    assert_eq!(s["errors"][0]["kind"], "timeout");
    let psu_log = &s["instruments"][0];
    assert_eq!(psu_log["series"][0]["command"], "MEAS:VOLT? (@1)");
    assert_eq!(psu_log["series"][0]["points"].as_array().unwrap().len(), 3);
    assert_eq!(
        psu_log["log"][5]["error"]["message"],
        "no answer within 5 s"
    );
    let scope = &s["instruments"][1];
    let hex = scope["log"][0]["binary_hex"].as_str().unwrap();
    assert!(hex.starts_with("00000000  23 31 34 00 01 ff 7f"), "{hex}");

    let (status, d) = get(&r, &format!("/api/session/{CASSETTE}/diff?against=HEAD")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["equal"], false);
    assert!(
        d["text"].as_str().unwrap().contains("VOLT 3.0, (@1)"),
        "{d}"
    );
    assert!(d["summary"].as_str().unwrap().contains("added"), "{d}");
    let (status, e) = get(
        &r,
        &format!("/api/session/{CASSETTE}/diff?against=--output=x"),
    )
    .await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "`against`");
    let (status, e) = get(&r, "/api/session/bench/new.yaml/diff").await;
    assert_error(status, &e, StatusCode::NOT_FOUND, "no committed version");
    let (status, e) = get(&r, "/api/session/bench/missing.yaml").await;
    assert_error(status, &e, StatusCode::NOT_FOUND, "GET /api/sessions");
}

/// Every route the router registers is in `/api/openapi.json` and every documented route
/// is answered by the router (not by its fallback), with the documented method.
#[tokio::test]
async fn openapi_matches_the_router() {
    let f = fixture();
    let (router, entries) = Dashboard::new(f.recordings(), f.sessions()).build();
    let (status, spec) = get(&router, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<RouteEntry> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            assert!(
                op["responses"].is_object(),
                "{method} {path} has no responses"
            );
            documented.push(RouteEntry {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
            });
        }
    }
    let mut registered = entries.clone();
    registered.sort();
    documented.sort();
    assert_eq!(registered, documented);
    for entry in &documented {
        let uri = entry
            .path
            .replace("{file}", "lines.jsonl")
            .replace("{path}", CASSETTE);
        if uri == "/api/replay/stream" {
            // An endless event stream: check that it is one, without reading it.
            let response = router
                .clone()
                .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.headers()["content-type"], "text/event-stream");
            continue;
        }
        let (status, body) = call(&router, &entry.method, &uri, None).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        let fallback = body["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no route"));
        assert!(!fallback, "{} {uri} is not routed: {body}", entry.method);
    }
    let _ = call(&router, "POST", "/api/replay/stop", None).await;
}

#[tokio::test]
async fn a_program_registers_its_own_route_and_it_is_documented() {
    let f = fixture();
    async fn whatif(
        axum::extract::State(state): axum::extract::State<replay_cli::dashboard::AppState>,
        replay_cli::dashboard::ApiPath(file): replay_cli::dashboard::ApiPath<String>,
    ) -> replay_cli::dashboard::ApiResult<axum::Json<Value>> {
        let path = state.recording_path(&file)?;
        Ok(axum::Json(
            json!({ "path": path.file_name().unwrap().to_string_lossy() }),
        ))
    }
    let (router, entries) = Dashboard::new(f.recordings(), f.sessions())
        .route(
            "POST",
            "/api/recording/{file}/replay",
            axum::routing::post(whatif),
            json!({ "summary": "Run a what-if replay" }),
        )
        .build();
    assert!(entries.contains(&RouteEntry {
        method: "POST".into(),
        path: "/api/recording/{file}/replay".into()
    }));
    let (status, out) = post(&router, "/api/recording/lines.jsonl/replay", "{}").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["path"], "lines.jsonl");
    let (status, e) = post(&router, "/api/recording/..%2Fsecret.json/replay", "{}").await;
    assert_error(status, &e, StatusCode::BAD_REQUEST, "without `..`");
    let (_, spec) = get(&router, "/api/openapi.json").await;
    assert_eq!(
        spec["paths"]["/api/recording/{file}/replay"]["post"]["summary"],
        "Run a what-if replay"
    );
}

#[tokio::test]
async fn pages_and_assets_are_embedded() {
    let f = fixture();
    let r = router(&f);
    for (uri, needle) in [
        ("/", "data-page=\"index\""),
        (
            &format!("/recording/{SEED}") as &str,
            "data-page=\"recording\"",
        ),
        ("/session/bench/psu.yaml", "data-page=\"session\""),
        ("/assets/app.js", "EventSource"),
        ("/assets/style.css", "tr.error"),
    ] {
        let (status, body) = get(&r, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let text = body.as_str().unwrap();
        assert!(text.contains(needle), "{uri}");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{uri} names a network address"
        );
    }
}

/// Unfiltered pages of a JSON Lines recording seek through a line index; they must agree
/// with a full scan (here: a filter that keeps everything) at any offset, blank lines included.
#[tokio::test]
async fn indexed_pages_agree_with_a_scan() {
    let f = fixture();
    let mut text = String::from(
        "{\"session_name\":\"many\",\"start_time\":\"t\",\"duration_ms\":0,\"total_events\":10000}\n",
    );
    for i in 0..10_000 {
        text.push_str(&format!(
            "{{\"timestamp_offset_ms\":{i},\"event_name\":\"E\",\"event_data\":{{\"seq\":{i}}},\"source\":\"S\"}}\n"
        ));
        if i % 3000 == 7 {
            text.push_str("   \n");
        }
    }
    std::fs::write(f.recordings().join("many.jsonl"), text).unwrap();
    let r = router(&f);
    for offset in [0, 1, 4095, 4096, 4097, 8191, 9000, 9998] {
        let (_, fast) = get(
            &r,
            &format!("/api/recording/many.jsonl/events?offset={offset}&limit=3"),
        )
        .await;
        let (_, scan) = get(
            &r,
            &format!("/api/recording/many.jsonl/events?offset={offset}&limit=3&source=S"),
        )
        .await;
        assert_eq!(fast["events"], scan["events"], "offset {offset}");
        assert_eq!(fast["total_events"], 10_000);
        assert_eq!(fast["events"][0]["index"], offset);
        assert_eq!(fast["events"][0]["event_data"]["seq"], offset);
    }
    let (_, end) = get(&r, "/api/recording/many.jsonl/events?offset=10000").await;
    assert_eq!(end["returned_events"], 0);
}

/// The what-if route of the session-recorder seed: without a handler it says how to register
/// one; with one it runs it, saves the result next to the recording, and lists it.
#[tokio::test]
async fn whatif_replay_route_with_and_without_a_handler() {
    let f = fixture();
    let plain = router(&f);
    let (status, body) = post(&plain, &format!("/api/recording/{SEED}/replay"), "{}").await;
    assert_error(status, &body, StatusCode::NOT_IMPLEMENTED, "Dashboard::new");
    let (status, body) = post(&plain, "/api/recording/..%2Fsecret.json/replay", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = get(&plain, &format!("/api/recording/{SEED}/replays")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], json!(0));
    assert_eq!(body["whatif_handler"], json!(false), "{body}");
    assert_eq!(body["unreadable"], json!([]), "{body}");

    let with = Dashboard::new(f.recordings(), f.sessions())
        .whatif(support::signal_handler())
        .router();
    let uri = format!("/api/recording/{SEED}/replay");
    let (status, body) = post(
        &with,
        &uri,
        r#"{"modified_parameters": {"every": 10}, "description": "one in ten"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], json!(true), "{body}");
    let (status, body) = post(&with, &uri, r#"{"modified_parameters": {"every": "ten"}}"#).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "modified_parameters",
    );
    let (status, body) = post(&with, &uri, r#"{"modified_parameters": [1]}"#).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "JSON object");
    let (status, body) = get(&with, &format!("/api/recording/{SEED}/replays")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], json!(1), "{body}");
    assert_eq!(
        body["replays"][0]["description"],
        json!("one in ten"),
        "{body}"
    );
    assert_eq!(body["whatif_handler"], json!(true), "{body}");
    let replay = &body["replays"][0];
    let id = replay["replay_id"].as_str().unwrap();
    assert_eq!(replay["result_file"], json!(format!("{id}.result.json")));
    // 40 market data events, one signal in ten: 4 signals, none recorded.
    assert_eq!(
        replay["metrics_formatted"],
        json!([{"name": "#SignalRaised", "original": "0", "replayed": "4", "change": "+4"}]),
        "{body}"
    );
    // A corrupt result file is listed as unreadable; the others still are.
    let dir = replay_events::whatif::results_dir(&f.recordings().join(SEED));
    std::fs::write(dir.join("zz.result.json"), "[").unwrap();
    let (status, body) = get(&with, &format!("/api/recording/{SEED}/replays")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], json!(1), "{body}");
    assert_eq!(
        body["unreadable"][0]["file"],
        json!("zz.result.json"),
        "{body}"
    );
    let reason = body["unreadable"][0]["error"].as_str().unwrap();
    assert!(reason.starts_with("line 1, column 1:"), "{reason}");
    let (status, body) = post(&with, "/api/recording/missing.json/replay", "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// An embedded dashboard shuts down gracefully while a recording page still holds the live
/// stream open: the stream ends (the browser sees the end of the response) and `serve`
/// returns, instead of waiting for the page to close.
#[tokio::test]
async fn a_graceful_shutdown_ends_open_live_streams() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Dashboard::new(f.recordings(), f.sessions()).serve(
        listener,
        async move {
            let _ = stopped.await;
        },
    ));

    let mut page = tokio::net::TcpStream::connect(address).await.unwrap();
    page.write_all(
        b"GET /api/replay/stream HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n",
    )
    .await
    .unwrap();
    // The stream is open: the status event arrives, and the response does not end.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: status") {
        let n = tokio::time::timeout(Duration::from_secs(10), page.read(&mut buf))
            .await
            .expect("the first status event")
            .unwrap();
        assert!(n > 0, "the stream ended before shutdown");
        seen.extend_from_slice(&buf[..n]);
    }

    stop.send(()).unwrap();
    let served = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("serve returns although the page still holds the stream open");
    served.unwrap().unwrap();
    // The page's response ended: the chunked body's last chunk, then the connection closes.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), page.read_to_end(&mut rest))
        .await
        .expect("the connection closes")
        .unwrap();
    seen.extend_from_slice(&rest);
    assert!(
        String::from_utf8_lossy(&seen).ends_with("0\r\n\r\n"),
        "the response did not end cleanly: {:?}",
        String::from_utf8_lossy(&seen)
    );
}
