use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn generic<T: Default>(bench: &Bench) {
    let _ = (bench, T::default());
}

struct Suite;

impl Suite {
    #[recorded_test]
    async fn method(&self) {}
}

fn main() {}
