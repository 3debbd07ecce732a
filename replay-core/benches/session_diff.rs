//! Diffing two 100,000-interaction sessions (a re-record with drifted readings and a few
//! inserted and removed commands), and rendering the diff.
//!
//! `cargo bench -p replay-core --bench session_diff`. What it shows: the semantic diff a
//! reviewer or the harness runs after a re-record stays interactive (well under a second)
//! at the sizes the session reader is built for.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use replay_core::diff::{DiffOptions, SessionDiff, session_text};
use replay_core::session::{Interaction, InteractionKind, Session};

#[path = "support/workload.rs"]
#[expect(dead_code, reason = "the workload module serves several benches")]
mod workload;

const INTERACTIONS: usize = 100_000;

/// The same session re-recorded: every 50th text response drifted, a command inserted
/// and one removed every 10,000 interactions of an instrument, timestamps all moved.
fn rerecorded(old: &Session) -> Session {
    let mut new = old.clone();
    for (_, log) in &mut new.instruments {
        for (k, i) in log.log.iter_mut().enumerate() {
            i.timestamp += 0.5;
            if k % 50 == 0
                && i.binary.is_none()
                && let Some(r) = &mut i.response
            {
                r.push('1');
            }
        }
        let len = log.log.len();
        for k in (1..=len / 10_000).rev() {
            log.log.remove(k * 10_000 - 3);
        }
        for k in (1..len / 10_000).rev() {
            log.log.insert(
                k * 10_000,
                Interaction::new(InteractionKind::Write, "*CLS", 0.0),
            );
        }
    }
    new
}

fn session_diff(c: &mut Criterion) {
    let old = workload::session(INTERACTIONS);
    let new = rerecorded(&old);
    let diff = SessionDiff::compute(&old, &new, &DiffOptions::default());
    assert!(!diff.is_empty(), "the workload must differ");
    eprintln!("diff of the workload: {}", diff.summary());

    let mut group = c.benchmark_group("session_diff_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("compute", |b| {
        b.iter(|| SessionDiff::compute(black_box(&old), black_box(&new), &DiffOptions::default()))
    });
    group.bench_function("compute_identical_but_timestamps", |b| {
        let mut later = old.clone();
        for (_, log) in &mut later.instruments {
            for i in &mut log.log {
                i.timestamp += 0.5;
            }
        }
        b.iter(|| {
            let d =
                SessionDiff::compute(black_box(&old), black_box(&later), &DiffOptions::default());
            assert!(d.is_empty());
        })
    });
    group.bench_function("render", |b| {
        b.iter(|| black_box(&diff).render("old.yaml", "new.yaml"))
    });
    group.bench_function("textconv", |b| b.iter(|| session_text(black_box(&new))));
    group.finish();
}

criterion_group!(benches, session_diff);
criterion_main!(benches);
