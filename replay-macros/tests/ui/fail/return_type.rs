use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn returns_a_number(bench: &Bench) -> u32 {
    let _ = bench;
    3
}

fn main() {}
