//! The SCPI-aware matcher (`matching = "scpi"`): never panics on any pair of commands, and
//! its verdict is an equivalence: reflexive, symmetric (the recorded and the sent command
//! may swap), and transitive; `explain` gives a reason exactly when the commands differ.
//!
//! Input: UTF-8 lines `recorded`, `sent`, `third`, then keywords the user declares (SCPI
//! notation such as `FUNCtion`). With one line, `sent` is `recorded` lightly edited (case,
//! spacing, a leading colon, respelled numbers), so nearly-equal pairs are common. Seeds:
//! the pairs of the equivalence table (`replay-core/tests/scpi_equivalence.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::session::{Interaction, InteractionKind};
use replay_core::{Matcher, Request, ScpiMatcher};

fn edit(text: &str) -> String {
    match text.len() % 5 {
        0 => text.to_lowercase(),
        1 => text.to_uppercase(),
        2 => text.replace(',', " , ").replace(' ', "  "),
        3 => format!(":{text}"),
        _ => text.replace('5', "5.000").replace('1', "1E0"),
    }
}

fn same(matcher: &ScpiMatcher, recorded: &str, sent: &str) -> bool {
    let interaction = Interaction::new(InteractionKind::Write, recorded, 0.0);
    let kind = InteractionKind::Write;
    let request = Request::new(&kind, sent);
    let verdict = matcher.matches(&interaction, &request);
    let reason = matcher.explain(&interaction, &request);
    assert_eq!(
        verdict,
        reason.is_none(),
        "`{recorded}` vs `{sent}`: matches = {verdict}, explain = {reason:?}"
    );
    verdict
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let a = lines.next().unwrap_or("");
    let b = lines.next().map_or_else(|| edit(a), str::to_owned);
    let c = lines.next().unwrap_or("").to_owned();
    // The bench config refuses malformed keywords, but `ScpiMatcher::keywords` takes any
    // text: the properties must hold for any table.
    let matcher = ScpiMatcher::new().keywords(lines);
    assert!(same(&matcher, a, a), "`{a}` does not match itself");
    let ab = same(&matcher, a, &b);
    assert_eq!(ab, same(&matcher, &b, a), "not symmetric: `{a}` / `{b}`");
    if ab {
        let bc = same(&matcher, &b, &c);
        let ac = same(&matcher, a, &c);
        assert_eq!(
            bc, ac,
            "not transitive: `{a}` = `{b}`, but `{b}`/`{c}` is {bc} and `{a}`/`{c}` is {ac}"
        );
    }
});
