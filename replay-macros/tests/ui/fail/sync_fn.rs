use replay_harness::{Bench, recorded_test};

#[recorded_test]
fn psu_ramp(bench: &Bench) {
    let _ = bench;
}

fn main() {}
