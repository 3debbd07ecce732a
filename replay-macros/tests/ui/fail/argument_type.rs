use replay_harness::{Bench, recorded_test};

#[recorded_test(session = 5)]
async fn number(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(bench)]
async fn no_value(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(session = "a.yaml", session = "b.yaml")]
async fn twice(bench: &Bench) {
    let _ = bench;
}

fn main() {}
