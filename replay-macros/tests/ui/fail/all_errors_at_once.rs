// Every error is reported in one pass, and the function is still emitted (no "cannot find
// function" below).
use replay_harness::{Bench, recorded_test};

#[recorded_test(sesion = "x.yaml", bench = 1)]
#[test]
fn psu_ramp(bench: Bench, extra: u8) {
    let _ = (bench, extra);
}

fn main() {
    let _ = psu_ramp;
}
