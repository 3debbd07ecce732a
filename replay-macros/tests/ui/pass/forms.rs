//! Every accepted form expands, and registers one test each.
use replay_harness::{Bench, recorded_test};

#[recorded_test]
async fn returns_unit(bench: &Bench) {
    let _ = bench;
}

#[recorded_test(session = "psu/ramp.yaml", bench = "benches/lab2.yaml")]
async fn returns_boxed_result(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?;
    Ok(())
}

#[recorded_test(
    matching = "scpi",
    tolerance = 1e-6,
    keywords = ["CHANnel"],
    ignore = ["SYST:ERR?", "/^DIAG:/"],
    repeatable = ["*IDN?"],
    timing = "virtual"
)]
async fn with_matching_and_timing(bench: &Bench) {
    let _ = bench;
}

#[derive(Debug)]
struct MyError;

#[recorded_test]
async fn returns_own_error(_bench: &'_ replay_harness::Bench) -> Result<(), MyError> {
    Err(MyError)
}

mod nested {
    use replay_harness::{Bench, recorded_test};

    /// Doc comments, `#[ignore]` and lint attributes are kept.
    #[recorded_test]
    #[ignore = "needs the lab"]
    #[allow(unused_variables)]
    async fn ignored(bench: &Bench) {
        let unused = 1;
    }
}

fn main() {
    // Names as libtest lists them: the module path without the crate (trybuild renames it).
    let mut names: Vec<String> = replay_harness::__private::TESTS
        .iter()
        .map(|t| t.test_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "nested::ignored",
            "returns_boxed_result",
            "returns_own_error",
            "returns_unit",
            "with_matching_and_timing",
        ]
    );
    for t in replay_harness::__private::TESTS {
        assert!(t.module_path.starts_with(t.crate_name), "{t:?}");
        assert!(t.file.ends_with("forms.rs"), "{t:?}");
    }
    let ramp = replay_harness::__private::TESTS
        .iter()
        .find(|t| t.name == "returns_boxed_result")
        .unwrap();
    assert_eq!(ramp.session, Some("psu/ramp.yaml"));
    assert_eq!(ramp.bench, Some("benches/lab2.yaml"));
    let ignored = replay_harness::__private::TESTS
        .iter()
        .find(|t| t.name == "ignored")
        .unwrap();
    assert!(ignored.ignored);
    assert_eq!(ignored.ignore_reason, Some("needs the lab"));
    assert_eq!(ignored.rules, replay_harness::__private::TestRules::NONE);
    let rules = replay_harness::__private::TESTS
        .iter()
        .find(|t| t.name == "with_matching_and_timing")
        .unwrap()
        .rules;
    assert_eq!(rules.matching, Some("scpi"));
    assert_eq!(rules.tolerance, Some(1e-6));
    assert_eq!(rules.keywords, ["CHANnel"]);
    assert_eq!(rules.ignore, ["SYST:ERR?", "/^DIAG:/"]);
    assert_eq!(rules.repeatable, ["*IDN?"]);
    assert_eq!(rules.timing, Some("virtual"));
}
