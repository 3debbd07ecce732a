use replay_harness::recorded_test;

#[recorded_test]
async fn psu_ramp() {}

fn main() {}
