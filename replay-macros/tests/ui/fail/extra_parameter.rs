use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn psu_ramp(bench: &Bench, volts: f64) {
    let _ = (bench, volts);
}

fn main() {}
