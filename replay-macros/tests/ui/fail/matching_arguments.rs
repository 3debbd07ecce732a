use replay_harness::{Bench, recorded_test};

#[recorded_test(matching = "SCPI")]
async fn unknown_rule(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(timing = "paused", tolerance = -1)]
async fn unknown_timing(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(ignore = "SYST:ERR?", keywords = ["chan"], repeatable = [""])]
async fn bad_lists(bench: &Bench) {
    let _ = bench;
}

fn main() {}
