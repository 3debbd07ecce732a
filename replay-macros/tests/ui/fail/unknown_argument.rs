use replay_harness::{Bench, recorded_test};

#[recorded_test(sesion = "psu/ramp.yaml")]
async fn misspelt(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(timeout = 5)]
async fn unknown(bench: &Bench) {
    let _ = bench;
}

fn main() {}
