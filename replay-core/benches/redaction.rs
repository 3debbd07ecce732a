//! The cost of `redact:` rules and `/regex/` match patterns, the regular expressions a
//! recording or a replay runs on every interaction.
//!
//! ```text
//! cargo bench -p replay-core --bench redaction
//! ```
//!
//! - `redact/block 1 MB`: a 1,000,000-byte IEEE 488.2 block (a noisy waveform: every byte
//!   value occurs, with a serial number and a host name every 64 KiB) under three rules;
//! - `redact/text 10k lines`: a 10,000-line text response under the same three rules;
//! - `patterns/classify 10k`: 10,000 commands classified against three `/regex/` patterns
//!   (`ignore` and `repeatable`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use replay_core::__redact::{redact_block, redact_text};
use replay_core::{MatchConfig, RedactRule};

const BLOCK_BYTES: usize = 1_000_000;
const LINES: usize = 10_000;
const COMMANDS: usize = 10_000;

fn rules() -> Vec<RedactRule> {
    [
        (r"CN\d{8}", "<serial>"),
        (r"host=(\w+)\.lab", "host=$1.<domain>"),
        (r"(?i)token:[0-9a-f]{16}", "token:<redacted>"),
    ]
    .into_iter()
    .map(|(pattern, replace)| RedactRule::new(pattern, replace).expect("valid rule"))
    .collect()
}

/// `#71000000` and a payload of pseudo-random bytes (SplitMix64) with a serial number and
/// a host name every 64 KiB.
fn block() -> Vec<u8> {
    let mut state = 0x5EED_u64;
    let mut payload: Vec<u8> = (0..BLOCK_BYTES)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect();
    for at in (0..BLOCK_BYTES - 64).step_by(65_536) {
        payload[at..at + 10].copy_from_slice(b"CN61130056");
        payload[at + 20..at + 34].copy_from_slice(b"host=psu1.lab;");
    }
    let mut raw = format!("#{}{}", BLOCK_BYTES.to_string().len(), BLOCK_BYTES).into_bytes();
    raw.extend_from_slice(&payload);
    raw
}

/// A 10,000-line response; one line in ten holds something to redact.
fn text() -> String {
    (0..LINES)
        .map(|i| match i % 10 {
            0 => format!(
                "{i},CN{:08},host=psu{}.lab,TOKEN:00ff00ff00ff00ff\n",
                i,
                i % 7
            ),
            _ => format!("{i},{:.6},{:.6},V,OK\n", i as f64 * 0.001, i as f64 * 1e-4),
        })
        .collect()
}

fn commands() -> Vec<String> {
    (0..COMMANDS)
        .map(|i| match i % 5 {
            0 => "SYST:ERR?".to_owned(),
            1 => format!("MEAS:VOLT? (@{})", i % 3 + 1),
            2 => format!("VOLT {:.3},(@1)", i as f64 * 0.01),
            3 => "*OPC?".to_owned(),
            _ => format!("CURR {:.3}", i as f64 * 0.001),
        })
        .collect()
}

fn redaction(c: &mut Criterion) {
    let rules = rules();
    let block = block();
    let text = text();
    let mut group = c.benchmark_group("redact");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("block 1 MB", |b| {
        b.iter_batched(
            || block.clone(),
            |raw| redact_block(&rules, raw).len(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("text 10k lines", |b| {
        b.iter(|| redact_text(&rules, black_box(&text)).len())
    });
    group.finish();

    let compiled = MatchConfig::new()
        .with_ignore(["/^SYST:ERR/", r"/^\*OPC\?$/"])
        .with_repeatable([r"/^MEAS:(VOLT|CURR)\? \(@\d+\)$/"])
        .compile()
        .expect("valid patterns");
    let commands = commands();
    let mut group = c.benchmark_group("patterns");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("classify 10k", |b| {
        b.iter(|| {
            commands
                .iter()
                .filter(|command| compiled.classify(black_box(command)).as_str() != "sequenced")
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, redaction);
criterion_main!(benches);
