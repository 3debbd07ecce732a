//! End-to-end: the `replay serve` binary driven in headless Chromium through chromedriver
//! (fantoccini). Open the list, open a recording, filter by name, select events and save
//! them (then read the file on disk), replay at 10x and see events arrive, pause; open a
//! cassette and its diff against git HEAD; the what-if replays of a recording (listed, a
//! hostile description shown as text, the empty state) and, on a server embedding the
//! dashboard with a what-if handler, the form that runs one. Screenshots of each page go to
//! `$CARGO_TARGET_TMPDIR/dashboard-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test says so and
//! passes, unless `REPLAY_REQUIRE_PEERS=1` (as in `.ci/run`), where it fails.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use support::{SEED, fixture, signal_handler};

/// The whole browser session must finish within this.
const BUDGET: Duration = Duration::from_secs(110);
/// How long one page state may take to appear.
const STEP: Duration = Duration::from_secs(15);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on port {port} after 10 s");
}

async fn ready(client: &Client) {
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("body[data-ready='1']"))
        .await
        .expect("the page finished loading without an error");
}

/// Waits until the text of `css` satisfies `ok`; returns it.
async fn wait_text(client: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if ok(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{css}` never got the expected text; last: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the element `css` selects (it must exist).
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` to click: {e}"))
        .click()
        .await
        .unwrap();
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

async fn shot(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(dir.join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    let required = std::env::var("REPLAY_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let browser = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find_program(&["chromedriver"]);
    let (Some(browser), Some(driver)) = (browser, driver) else {
        assert!(
            !required,
            "REPLAY_REQUIRE_PEERS=1 but chromium or chromedriver is missing; install them: apt-get install -y chromium chromium-driver"
        );
        eprintln!(
            "skipped: chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)"
        );
        return;
    };
    tokio::time::timeout(BUDGET, run(&browser, &driver))
        .await
        .expect("the browser suite finished within its budget");
}

async fn run(browser: &Path, driver: &Path) {
    let f = fixture();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    // The real binary, on a free loopback port; it prints its URL.
    let mut server = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(["serve", "--port", "0", "--recordings"])
        .arg(f.recordings())
        .arg("--sessions")
        .arg(f.sessions())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    let server = Killed(server);

    let port = free_port();
    let _driver = Killed(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port).await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": browser,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1100",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver starts a headless chromium session");

    steps(&client, &url, &f, &shots).await;
    whatif_steps(&client, &url, &f, &shots).await;
    let _ = client.close().await;
    drop(_driver);
    stop_cleanly(server, stdout);
}

async fn steps(client: &Client, url: &str, f: &support::Fixture, shots: &Path) {
    // 1. The list.
    client.goto(&format!("{url}/")).await.unwrap();
    ready(client).await;
    let link = client
        .find(Locator::Css(&format!(
            "#recordings a[href='/recording/{SEED}']"
        )))
        .await
        .expect("the seed recording is listed");
    assert_eq!(
        count(client, "#recordings tbody tr").await,
        2,
        "seed and lines.jsonl"
    );
    assert!(
        count(client, "#sessions tbody tr.error").await >= 1,
        "a cassette with errors is flagged"
    );
    wait_text(client, "#stats", |t| t.contains("47")).await; // 43 + 4 events
    shot(client, shots, "01-index.png").await;

    // 2. A recording: timeline, counts.
    link.click().await.unwrap();
    ready(client).await;
    assert!(
        count(client, "#timeline-svg rect").await > 10,
        "the timeline is drawn"
    );
    assert_eq!(count(client, "#counts div[data-name]").await, 4);
    wait_text(client, "#page-info", |t| t == "1–43 of 43").await;
    shot(client, shots, "02-recording.png").await;

    // 3. Filter by name, select three events, save them.
    client
        .find(Locator::Css("#filter-name"))
        .await
        .unwrap()
        .select_by_value("MarketDataReceived")
        .await
        .unwrap();
    wait_text(client, "#page-info", |t| t == "1–40 of 40").await;
    assert_eq!(count(client, "#events tbody tr").await, 40);
    let boxes = client
        .find_all(Locator::Css("#events tbody input.pick"))
        .await
        .unwrap();
    for b in &boxes[1..4] {
        b.click().await.unwrap();
    }
    wait_text(client, "#selected-count", |t| t == "3 selected").await;
    let name = client.find(Locator::Css("#new-name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("browser_pick").await.unwrap();
    click(client, "#save-selection").await;
    let saved = client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("#saved-link"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(saved.starts_with("browser_pick_"), "{saved}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.recordings().join(&saved)).unwrap())
            .unwrap();
    assert_eq!(doc["session_name"], "browser_pick");
    assert_eq!(doc["total_events"], 3);
    let events = doc["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .all(|e| e["event_name"] == "MarketDataReceived")
    );
    assert_eq!(events[0]["timestamp_offset_ms"], 0);
    assert_eq!(
        events[1]["timestamp_offset_ms"], 1125,
        "offsets rebased on the first"
    );
    shot(client, shots, "03-filtered-and-saved.png").await;

    // 4. Replay at 10x: events arrive live; pause holds them.
    client
        .find(Locator::Css("#speed"))
        .await
        .unwrap()
        .select_by_value("10")
        .await
        .unwrap();
    click(client, "#replay-start").await;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("#live .live-event:nth-child(3)"))
        .await
        .expect("replayed events arrive in the page");
    let first = wait_text(client, "#live .live-event:last-child", |t| !t.is_empty()).await;
    assert!(first.starts_with("#0 0 ms MarketDataReceived"), "{first}");
    click(client, "#replay-pause").await;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("#replay-status[data-state='paused']"))
        .await
        .expect("the replay pauses");
    // An event already on its way when the pause landed may still arrive; then nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = count(client, "#live .live-event").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        count(client, "#live .live-event").await,
        held,
        "no event while paused"
    );
    assert!(held < 43, "paused before the end ({held})");
    let status = wait_text(client, "#replay-status", |t| t.starts_with("paused")).await;
    assert!(status.ends_with("at 10x"), "{status}");
    shot(client, shots, "04-replay-paused.png").await;
    click(client, "#replay-stop").await;

    // 5. A cassette: errors highlighted, hex, plots; its diff against HEAD.
    client
        .goto(&format!("{url}/session/bench/psu.yaml"))
        .await
        .unwrap();
    ready(client).await;
    let error_row = wait_text(client, "#errors tbody tr.error", |t| !t.is_empty()).await;
    assert!(error_row.contains("no answer within 5 s"), "{error_row}");
    assert!(count(client, ".instrument table.log tr.error").await >= 1);
    let hex = wait_text(client, "pre.hex", |t| !t.is_empty()).await;
    assert!(hex.contains("23 31 34 00 01 ff 7f"), "{hex}");
    assert!(
        count(client, "svg.plot polyline").await >= 1,
        "measured values plotted"
    );
    shot(client, shots, "05-session.png").await;
    click(client, "#diff").await;
    let diff = wait_text(client, "#diff-text", |t| t.contains("VOLT 3.0")).await;
    assert!(diff.contains("VOLT 5.0, (@1)"), "{diff}");
    assert!(count(client, "#diff-text span.del").await >= 1);
    assert!(count(client, "#diff-text span.add").await >= 1);
    shot(client, shots, "06-session-diff.png").await;
}

const HOSTILE: &str = "<script>document.title='pwned'</script><b>bold</b> & co";

async fn whatif_steps(client: &Client, url: &str, f: &support::Fixture, shots: &Path) {
    // 6. A saved what-if result (made with the real API) is listed under `replay serve`,
    // its hostile description as text; no form without a handler.
    let seed = f.recordings().join(SEED);
    let first = signal_handler()
        .replay(
            &seed,
            serde_json::json!({ "every": 20 }),
            Some(HOSTILE.to_owned()),
        )
        .await
        .unwrap();
    client
        .goto(&format!("{url}/recording/{SEED}"))
        .await
        .unwrap();
    ready(client).await;
    assert_eq!(count(client, "#whatif > tbody > tr").await, 1);
    let row = format!("#whatif tr[data-replay-id='{}']", first.replay_id);
    let description = wait_text(client, &format!("{row} .description"), |t| !t.is_empty()).await;
    assert_eq!(description, HOSTILE.replace("  ", " "));
    assert_eq!(
        count(client, "#whatif script, #whatif .description b").await,
        0
    );
    assert_ne!(client.title().await.unwrap(), "pwned");
    let params = wait_text(client, &format!("{row} code.params"), |t| !t.is_empty()).await;
    assert_eq!(params, r#"{"every":20}"#);
    // 40 market data events, one signal in twenty: 2 signals where none were recorded.
    let metrics = wait_text(client, &format!("{row} table.metrics tbody"), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(
        metrics.split_whitespace().collect::<Vec<_>>(),
        ["#SignalRaised", "0", "2", "+2"]
    );
    let displayed = |css: &'static str| async move {
        client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    };
    assert!(
        !displayed("#whatif-form").await,
        "no form without a handler"
    );
    assert!(displayed("#whatif-no-handler").await);
    assert!(!displayed("#whatif-empty").await);
    shot(client, shots, "07-whatif-listed.png").await;

    // The empty state says how to make one.
    client
        .goto(&format!("{url}/recording/lines.jsonl"))
        .await
        .unwrap();
    ready(client).await;
    assert!(displayed("#whatif-empty").await);
    let empty = wait_text(client, "#whatif-empty", |t| !t.is_empty()).await;
    assert!(
        empty.contains("cargo run -p replay-events --example whatif_threshold"),
        "{empty}"
    );
    assert!(
        empty.contains("POST /api/recording/lines.jsonl/replay"),
        "{empty}"
    );
    assert_eq!(count(client, "#whatif > tbody > tr").await, 0);

    // 7. A program embedding the dashboard with a handler: the form runs a what-if and the
    // new row appears without a reload; a refused request shows the API's error.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let embedded = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(
        replay_cli::dashboard::Dashboard::new(f.recordings(), f.sessions())
            .whatif(signal_handler())
            .serve(listener, std::future::pending()),
    );
    client
        .goto(&format!("{embedded}/recording/{SEED}"))
        .await
        .unwrap();
    ready(client).await;
    assert!(displayed("#whatif-form").await);
    assert!(!displayed("#whatif-no-handler").await);
    // Marks the page: a reload would drop the mark.
    client
        .execute("document.body.dataset.mark = 'kept'; return null;", vec![])
        .await
        .unwrap();
    let params = client.find(Locator::Css("#whatif-params")).await.unwrap();
    params.clear().await.unwrap();
    params.send_keys(r#"{"every": 10}"#).await.unwrap();
    let note = client
        .find(Locator::Css("#whatif-description"))
        .await
        .unwrap();
    note.send_keys("one in ten").await.unwrap();
    let run = client.find(Locator::Css("#whatif-run")).await.unwrap();
    run.click().await.unwrap();
    let saved = wait_text(client, "#whatif-result", |t| t.starts_with("saved replay ")).await;
    let id = saved.trim_start_matches("saved replay ").to_owned();
    let row = format!("#whatif tr[data-replay-id='{id}']");
    let metrics = wait_text(client, &format!("{row} table.metrics tbody"), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(
        metrics.split_whitespace().collect::<Vec<_>>(),
        ["#SignalRaised", "0", "4", "+4"]
    );
    assert_eq!(count(client, "#whatif > tbody > tr").await, 2);
    let last = wait_text(
        client,
        "#whatif > tbody > tr:last-child .description",
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(last, "one in ten", "the new result is last (oldest first)");
    assert!(
        client
            .find(Locator::Css("body[data-mark='kept']"))
            .await
            .is_ok(),
        "the row appeared without a reload"
    );
    let listed = replay_events::whatif::list_results(&seed).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].1.parameters, serde_json::json!({ "every": 10 }));
    shot(client, shots, "08-whatif-run.png").await;
    // Parameters the system's type refuses: the API's 400 message, no new row.
    params.clear().await.unwrap();
    params.send_keys(r#"{"every": "ten"}"#).await.unwrap();
    run.click().await.unwrap();
    let error = wait_text(client, "#whatif-result.err", |t| !t.is_empty()).await;
    assert!(error.contains("modified_parameters"), "{error}");
    assert!(error.contains("invalid type"), "{error}");
    // Not JSON at all: said before anything is sent.
    params.clear().await.unwrap();
    params.send_keys("{every").await.unwrap();
    run.click().await.unwrap();
    let error = wait_text(client, "#whatif-result.err", |t| t.contains("not JSON")).await;
    assert!(
        error.starts_with("the modified parameters are not JSON"),
        "{error}"
    );
    assert_eq!(count(client, "#whatif > tbody > tr").await, 2);
    assert_eq!(replay_events::whatif::list_results(&seed).unwrap().len(), 2);
    // The test's server: stopped with the test (the page's replay event stream stays open,
    // so a graceful shutdown would wait for it).
    server.abort();
}

/// Ctrl-C (SIGINT) stops the server cleanly: exit status 0 and `stopped`.
fn stop_cleanly(mut server: Killed, mut stdout: impl BufRead) {
    let pid = server.0.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "the server exits 0 on Ctrl-C: {exit}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest:?}");
}
