use replay_harness::{Bench, recorded_test};

#[recorded_test]
#[should_panic]
async fn psu_trips(bench: &Bench) {
    let _ = bench;
}

fn main() {}
