use replay_harness::recorded_test;

#[recorded_test]
struct Lab;

fn main() {}
