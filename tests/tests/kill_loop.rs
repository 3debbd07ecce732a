//! Kill the writer with SIGKILL at random points, many times: a cassette on disk is always
//! the old one or the complete new one, an event recording is whole or absent (never empty
//! or cut), and the temp files of killed writers are cleaned by the next write.
//!
//! The writers run as child processes: this test binary started again with
//! `REPLAY_KILL_CHILD` set, which makes the `child` test loop forever writing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use replay_harness::Bench;
use replay_harness::session::read_session;
use replay_tests::sim::SimBench;

const CHILD_VAR: &str = "REPLAY_KILL_CHILD";
/// Interactions per cassette: large enough that writing takes a while.
const INTERACTIONS: usize = 1500;
const ITERATIONS: usize = 40;

/// The writer. A no-op unless started by the parent with `REPLAY_KILL_CHILD`.
#[test]
fn child() {
    let Ok(job) = std::env::var(CHILD_VAR) else {
        return;
    };
    let (kind, dir) = job.split_once(':').expect("kind:dir");
    let dir = PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match kind {
        "cassette" => runtime.block_on(write_cassettes_forever(&dir)),
        "events" => write_recordings_forever(&dir),
        other => panic!("unknown child job `{other}`"),
    }
}

/// Records the same procedure again and again into one cassette, alternating between two
/// setpoints so consecutive files differ; every file ends with `OUTP OFF`.
async fn write_cassettes_forever(dir: &Path) {
    let sim = SimBench::builder()
        .psu("psu")
        .noise(None)
        .start()
        .await
        .unwrap();
    let config = dir.join("bench.yaml");
    sim.write_config(&config).unwrap();
    let path = dir.join("sessions/killed.yaml");
    for round in 0.. {
        let bench = Bench::record(&config, &path).await.unwrap();
        let psu = bench.instrument("psu").unwrap();
        for i in 0..INTERACTIONS - 1 {
            psu.write(&format!("VOLT {}.{i:04}, (@1)", round % 2))
                .await
                .unwrap();
        }
        psu.write("OUTP OFF, (@1)").await.unwrap();
        bench.finish().await.unwrap();
        println!("saved {round}");
    }
}

fn write_recordings_forever(dir: &Path) {
    loop {
        let recorder = replay_events::EventRecorder::new("killed", dir);
        for i in 0..5000u32 {
            recorder
                .record_as(
                    "Tick",
                    "feed",
                    &serde_json::json!({ "i": i, "price": 100.5 }),
                )
                .unwrap();
        }
        recorder.save().unwrap();
    }
}

/// A small xorshift: random kill points, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn from_time() -> Rng {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        println!("kill-loop seed {seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn spawn_child(kind: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, format!("{kind}:{}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the test binary starts again as the writer")
}

/// Waits until the child has written at least once (its first "saved" line), so kills hit
/// later rounds at random points.
fn wait_for_first_file(path: &Path, deadline: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < deadline,
            "the writer never wrote `{}`",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_during_finish_leaves_the_old_or_the_new_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions/killed.yaml");
    let mut rng = Rng::from_time();
    let mut outcomes = [0usize; 2];
    let mut leftovers = 0;
    for iteration in 0..ITERATIONS {
        let mut child = spawn_child("cassette", dir.path());
        if iteration == 0 {
            wait_for_first_file(&path, Duration::from_secs(60));
        }
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        leftovers = leftovers.max(temp_files(path.parent().unwrap()).len());

        let session = read_session(&path).unwrap_or_else(|e| {
            panic!("iteration {iteration}: the cassette is not whole after SIGKILL: {e:?}")
        });
        let log = &session.instrument("psu").expect("psu").log;
        assert_eq!(
            log.len(),
            INTERACTIONS,
            "iteration {iteration}: a cut cassette"
        );
        assert_eq!(log.last().unwrap().command, "OUTP OFF, (@1)");
        let setpoint = &log[0].command[..6];
        assert!(
            log[..INTERACTIONS - 1]
                .iter()
                .all(|i| i.command.starts_with(setpoint)),
            "iteration {iteration}: two recordings mixed in one file"
        );
        outcomes[usize::from(setpoint == "VOLT 1")] += 1;
    }
    println!(
        "{ITERATIONS} kills: {} × setpoint 0, {} × setpoint 1, at most {leftovers} temp file(s) left by a kill",
        outcomes[0], outcomes[1]
    );
    // The next write cleans what the killed writers left.
    let session = read_session(&path).unwrap();
    replay_harness::session::write_session(&path, &session).unwrap();
    std::fs::write(dir.path().join("touch"), b"").unwrap();
    let bench_dir = path.parent().unwrap();
    let mut changed = session.clone();
    changed.instruments[0].1.log.pop();
    replay_harness::session::write_session(&path, &changed).unwrap();
    assert_eq!(
        temp_files(bench_dir),
        Vec::<PathBuf>::new(),
        "temp files accumulate"
    );
}
#[test]
fn sigkill_during_an_event_recording_save_never_leaves_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_time();
    let mut whole = 0;
    for iteration in 0..ITERATIONS {
        let mut child = spawn_child("events", dir.path());
        std::thread::sleep(Duration::from_millis(50 + rng.below(300)));
        child.kill().unwrap();
        child.wait().unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let recording = replay_events::parse_json(&path, &text).unwrap_or_else(|e| {
                    panic!(
                        "iteration {iteration}: `{}` is not whole: {e:?}",
                        path.display()
                    )
                });
                assert_eq!(recording.events.len(), 5000, "iteration {iteration}");
                whole += 1;
            }
        }
    }
    println!(
        "{ITERATIONS} kills: {whole} whole recordings seen (re-counted each round), none partial"
    );
    // One more save cleans the temp files of every killed writer.
    let recorder = replay_events::EventRecorder::new("after", dir.path());
    recorder.record_as("Tick", "feed", &1).unwrap();
    recorder.save().unwrap();
    assert_eq!(
        temp_files(dir.path()),
        Vec::<PathBuf>::new(),
        "temp files accumulate"
    );
}
