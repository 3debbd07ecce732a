//! Loading and replaying a 100,000-interaction session.
//!
//! `cargo bench -p replay-core --bench session_load`. The target (DESIGN.md): load and replay
//! at least 100x faster than PyTestLab 0.2.4 (about 33 s for this size), so well under
//! 0.33 s. Peak memory is measured in a process of its own by
//! `cargo run --release -p replay-core --example replay_100k`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use replay_core::session::__bench::{fast_read, yaml_serde_read};
use replay_core::session::{Session, render_session};

#[path = "support/workload.rs"]
mod workload;

const INTERACTIONS: usize = 100_000;

fn session_load(c: &mut Criterion) {
    let session = workload::session(INTERACTIONS);
    let steps = workload::steps(INTERACTIONS);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("session_100k.yaml");
    let text = render_session(&session);
    replay_core::session::write_session(&path, &session).expect("write the session");
    assert_eq!(
        fast_read(&text).as_ref(),
        Some(&session),
        "the generated session must take the fast path"
    );

    let mut group = c.benchmark_group("session_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(criterion::Throughput::Bytes(text.len() as u64));

    group.bench_function("fast_reader", |b| {
        b.iter(|| -> Option<Session> { black_box(fast_read(black_box(&text))) })
    });
    group.bench_function("yaml_serde", |b| {
        b.iter(|| {
            black_box(yaml_serde_read(
                Path::new("session_100k.yaml"),
                black_box(&text),
            ))
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    group.bench_function("load_and_replay", |b| {
        b.iter(|| {
            runtime
                .block_on(workload::replay(&path, &steps))
                .expect("the replay follows the session")
        })
    });
    group.finish();
}

criterion_group!(benches, session_load);
criterion_main!(benches);
