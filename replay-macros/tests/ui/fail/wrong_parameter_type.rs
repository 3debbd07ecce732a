use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn by_value(bench: Bench) {
    let _ = bench;
}

#[recorded_test]
async fn by_mut_ref(bench: &mut Bench) {
    let _ = bench;
}

#[recorded_test]
async fn not_a_bench(bench: &str) {
    let _ = bench;
}

fn main() {}
