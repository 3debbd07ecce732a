use replay_harness::{Bench, recorded_test};

#[recorded_test]
#[test]
async fn psu_ramp(bench: &Bench) {
    let _ = bench;
}

#[recorded_test]
#[tokio::test]
async fn psu_ramp_tokio(bench: &Bench) {
    let _ = bench;
}

fn main() {}
