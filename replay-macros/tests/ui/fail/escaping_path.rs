use replay_harness::{Bench, recorded_test};

#[recorded_test(session = "../other/ramp.yaml")]
async fn parent(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(bench = "/etc/lab/bench.yaml")]
async fn absolute(bench: &Bench) {
    let _ = bench;
}

fn main() {}
