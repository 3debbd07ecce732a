//! The cost of the matching rules: replaying 100,000 interactions (the `session_load`
//! workload, already in memory) under `exact` and under `scpi`.
//!
//! ```text
//! cargo bench -p replay-core --bench matching
//! ```
//!
//! - `exact`: the test sends what was recorded;
//! - `scpi/same text`: the same, under `scpi` (equal bytes need no parsing);
//! - `scpi/respelled`: every command sent in lower case, so `scpi` parses both sides of
//!   every comparison (the worst case);
//! - `scpi/ignore`: as `scpi/respelled`, with `ignore = [":SYSTem:ERRor?"]` (every command
//!   is also classified against the pattern).

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use replay_core::session::{InteractionKind, Session};
use replay_core::{Bench, MatchConfig, ReplayOptions, Rule};

#[path = "support/workload.rs"]
#[expect(
    dead_code,
    reason = "the file-based `replay` is for `session_load` and the example"
)]
mod workload;

const INTERACTIONS: usize = 100_000;

/// A benchmark: its name, the calls the test makes, the options it replays with.
type Case<'a> = (&'static str, &'a [workload::Step], fn() -> ReplayOptions);

async fn replay(session: Session, steps: &[workload::Step], options: ReplayOptions) -> usize {
    let bench = Bench::replay_session("bench.yaml", session, options);
    let instruments: Vec<_> = workload::ALIASES
        .iter()
        .map(|(alias, _)| bench.instrument(alias).expect("instrument"))
        .collect();
    let mut bytes = 0;
    for step in steps {
        let instrument = &instruments[step.instrument];
        match step.kind {
            InteractionKind::Write => instrument.write(&step.command).await.expect("write"),
            InteractionKind::QueryRaw => {
                bytes += instrument
                    .query_binary(&step.command)
                    .await
                    .expect("block")
                    .len()
            }
            _ => bytes += instrument.query(&step.command).await.expect("query").len(),
        }
    }
    bench.finish().await.expect("every interaction replayed");
    bytes
}

fn matching(c: &mut Criterion) {
    let session = workload::session(INTERACTIONS);
    let steps = workload::steps(INTERACTIONS);
    let respelled: Vec<workload::Step> = workload::steps(INTERACTIONS)
        .into_iter()
        .map(|mut step| {
            step.command = step.command.to_lowercase();
            step
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let mut group = c.benchmark_group("replay 100k interactions");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(criterion::Throughput::Elements(INTERACTIONS as u64));
    let cases: [Case<'_>; 4] = [
        ("exact", &steps, ReplayOptions::default),
        ("scpi/same text", &steps, || {
            ReplayOptions::default().rules(MatchConfig::new().with_rule(Rule::Scpi))
        }),
        ("scpi/respelled", &respelled, || {
            ReplayOptions::default().rules(MatchConfig::new().with_rule(Rule::Scpi))
        }),
        ("scpi/ignore", &respelled, || {
            ReplayOptions::default().rules(
                MatchConfig::new()
                    .with_rule(Rule::Scpi)
                    .with_ignore([":SYSTem:ERRor?"]),
            )
        }),
    ];
    for (name, steps, options) in cases {
        group.bench_function(name, |b| {
            b.iter_batched(
                || session.clone(),
                |session| runtime.block_on(replay(session, steps, options())),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
