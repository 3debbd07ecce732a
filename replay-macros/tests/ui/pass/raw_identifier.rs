//! A raw identifier (`r#match`) names the test without the `r#`, as libtest does.
use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn r#match(bench: &Bench) {
    let _ = bench;
}

fn main() {
    let mut names: Vec<String> = replay_harness::__private::TESTS
        .iter()
        .map(|t| t.test_name())
        .collect();
    names.sort();
    assert_eq!(names, ["match"]);
}
