use super::*;
use crate::session::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, RecordedErrorKind, Session,
};

fn i(kind: InteractionKind, cmd: &str, resp: Option<&str>, t: f64) -> Interaction {
    Interaction {
        kind,
        command: cmd.into(),
        response: resp.map(Into::into),
        binary: None,
        error: None,
        timestamp: t,
    }
}

fn w(cmd: &str, t: f64) -> Interaction {
    i(InteractionKind::Write, cmd, None, t)
}

fn q(cmd: &str, resp: &str, t: f64) -> Interaction {
    i(InteractionKind::Query, cmd, Some(resp), t)
}

fn session(logs: Vec<(&str, Option<&str>, Vec<Interaction>)>) -> Session {
    Session {
        instruments: logs
            .into_iter()
            .map(|(alias, profile, log)| {
                (
                    alias.to_owned(),
                    InstrumentLog {
                        profile: profile.map(Into::into),
                        rules: Default::default(),
                        log,
                    },
                )
            })
            .collect(),
    }
}

const IDN: &str = "Keysight Technologies,EDU36311A,CN61130056,K-01.08.03";

fn psu(t: f64, volts: &str, meas: &str) -> Session {
    session(vec![(
        "psu",
        Some("keysight/EDU36311A"),
        vec![
            q("*IDN?", IDN, t + 0.01),
            w("OUTP ON, (@1)", t + 0.02),
            w(volts, t + 0.03),
            q("MEAS:VOLT? (@1)", meas, t + 0.04),
            w("OUTP OFF", t + 0.05),
        ],
    )])
}

fn diff(old: &Session, new: &Session) -> SessionDiff {
    SessionDiff::compute(old, new, &DiffOptions::default())
}

#[test]
fn rerecord_of_unchanged_procedure_differs_only_in_timestamps() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let new = psu(0.5, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let d = diff(&old, &new);
    assert!(d.is_empty());
    assert!(d.timestamps_differ);
    assert_eq!(
        d.summary(),
        "no semantic difference (only timestamps differ)"
    );
    assert_eq!(
        d.render("a.yaml", "b.yaml"),
        "no semantic difference (only timestamps differ): `a.yaml` and `b.yaml`\n"
    );

    let strict = SessionDiff::compute(
        &old,
        &new,
        &DiffOptions {
            ignore_timestamps: false,
            ..DiffOptions::default()
        },
    );
    assert!(!strict.is_empty());
    assert_eq!(strict.summary(), "5 timestamps changed");
    assert!(
        strict
            .changes()
            .all(|(_, c)| matches!(c, Change::TimestampChanged { .. }))
    );
}

#[test]
fn identical_sessions_have_no_difference() {
    let s = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let d = diff(&s, &s);
    assert!(d.is_empty());
    assert!(!d.timestamps_differ);
    assert_eq!(d.summary(), "no semantic difference");
}

#[test]
fn changed_command_renders_in_insta_layout() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let new = psu(0.0, "VOLT 3.0, (@1)", "+4.99918100E+00");
    let d = diff(&old, &new);
    assert_eq!(d.summary(), "1 interaction changed");
    assert_eq!(
        d.changes().map(|(a, c)| (a, c.clone())).collect::<Vec<_>>(),
        vec![(
            "psu",
            Change::CommandChanged {
                old: 3,
                new: 3,
                old_kind: "write".into(),
                old_command: "VOLT 5.0, (@1)".into(),
                new_kind: "write".into(),
                new_command: "VOLT 3.0, (@1)".into(),
            }
        )]
    );
    let expected = "\
cassette diff: 1 interaction changed
  recorded: old.yaml
  new:      new.yaml
instrument `psu`: 1 interaction changed
─────────┬────────────────────────────────────────────────────────────────────────────
   1   1 │  query  *IDN?            → Keysight Technologies,EDU36311A,CN61130056,K-01…
   2   2 │  write  OUTP ON, (@1)
   3     │- write  VOLT 5.0, (@1)   ← first difference
       3 │+ write  VOLT 3.0, (@1)
   4   4 │  query  MEAS:VOLT? (@1)  → +4.99918100E+00
   5   5 │  write  OUTP OFF
─────────┴────────────────────────────────────────────────────────────────────────────
to accept it, commit new.yaml
";
    let text = d.render_with(
        "old.yaml",
        "new.yaml",
        &RenderOptions {
            accept: Some("to accept it, commit new.yaml".into()),
            ..RenderOptions::default()
        },
    );
    assert_eq!(text, expected);
}

#[test]
fn added_and_removed_commands_are_aligned_not_cascaded() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let mut new = old.clone();
    let log = &mut new.instruments[0].1.log;
    log.insert(1, w("*RST", 0.015));
    log.insert(2, w("*CLS", 0.016));
    log.remove(6); // OUTP OFF, moved from 4 to 6 by the inserts
    let d = diff(&old, &new);
    assert_eq!(d.summary(), "2 interactions added, 1 removed");
    let kinds: Vec<_> = d.changes().map(|(_, c)| c.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            Change::Added {
                new: 2,
                kind: "write".into(),
                command: "*RST".into()
            },
            Change::Added {
                new: 3,
                kind: "write".into(),
                command: "*CLS".into()
            },
            Change::Removed {
                old: 5,
                kind: "write".into(),
                command: "OUTP OFF".into()
            },
        ]
    );
    let text = d.render("old.yaml", "new.yaml");
    assert!(text.contains("       2 │+ write  *RST"), "{text}");
    assert!(text.contains("   5     │- write  OUTP OFF"), "{text}");
}

#[test]
fn context_is_limited_and_hunks_are_separated() {
    let old = session(vec![(
        "psu",
        None,
        (0..20).map(|k| w(&format!("STEP {k}"), 0.0)).collect(),
    )]);
    let mut new = old.clone();
    new.instruments[0].1.log[2] = w("STEP two", 0.0);
    new.instruments[0].1.log[17] = w("STEP seventeen", 0.0);
    let text = diff(&old, &new).render("a", "b");
    assert!(
        text.contains("┈┼┈"),
        "hunks separated by a dotted rule:\n{text}"
    );
    assert!(
        !text.contains("STEP 9"),
        "far context is not shown:\n{text}"
    );
    assert!(
        text.contains("STEP 0") && text.contains("STEP 19"),
        "{text}"
    );
    assert_eq!(text.matches("first difference").count(), 1, "{text}");
}

#[test]
fn numeric_drift_beyond_and_within_tolerance() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let beyond = psu(0.0, "VOLT 5.0, (@1)", "+5.10000000E+00");
    let d = diff(&old, &beyond);
    assert_eq!(d.summary(), "1 response changed (1 drifted beyond 0.1%)");
    assert!(d.drifted_beyond_tolerance());
    let text = d.render("a", "b");
    assert!(
        text.contains("   4     │- query  MEAS:VOLT? (@1)  → +4.99918100E+00"),
        "{text}"
    );
    assert!(
        text.contains("       4 │+ query  MEAS:VOLT? (@1)  → +5.10000000E+00   (drift +2.017% beyond tolerance)"),
        "{text}"
    );

    let within = psu(0.0, "VOLT 5.0, (@1)", "+4.99920000E+00");
    let d = diff(&old, &within);
    assert_eq!(d.summary(), "1 response changed (1 drifted within 0.1%)");
    assert!(!d.drifted_beyond_tolerance());
    match d.changes().next() {
        Some((
            _,
            Change::ResponseChanged {
                drift: Some(drift), ..
            },
        )) => {
            assert!(!drift.beyond_tolerance);
            assert_eq!(drift.readings, vec![(4.999181, 4.9992)]);
            assert!(drift.max_relative < 1e-5);
        }
        other => panic!("expected a drift, got {other:?}"),
    }

    let loose = SessionDiff::compute(
        &old,
        &beyond,
        &DiffOptions {
            tolerance: 0.05,
            ..DiffOptions::default()
        },
    );
    assert_eq!(loose.summary(), "1 response changed (1 drifted within 5%)");
}

#[test]
fn one_definition_of_drift_in_text_json_and_tolerance() {
    // 5.0 V recorded, 6.25 V now: +25% relative to the recorded reading, everywhere.
    let old = psu(0.0, "VOLT 5.0, (@1)", "+5.00000000E+00");
    let new = psu(0.0, "VOLT 5.0, (@1)", "+6.25000000E+00");
    let at = |tolerance: f64| {
        SessionDiff::compute(
            &old,
            &new,
            &DiffOptions {
                tolerance,
                ..DiffOptions::default()
            },
        )
    };
    // Beyond 22% (it used to say "within 22%" next to "+25%"), within 26%.
    let d = at(0.22);
    assert_eq!(d.summary(), "1 response changed (1 drifted beyond 22%)");
    assert!(d.render("a", "b").contains("(drift +25% beyond tolerance)"));
    let json = serde_json::to_value(&d).unwrap();
    let drift = &json["instruments"][0]["changes"][0]["drift"];
    assert_eq!(drift["relative"], 0.25);
    assert_eq!(drift["max_relative"], 0.25);
    assert_eq!(drift["beyond_tolerance"], true);
    let d = at(0.26);
    assert_eq!(d.summary(), "1 response changed (1 drifted within 26%)");
    assert!(d.render("a", "b").contains("(drift +25% within tolerance)"));
}

#[test]
fn a_reading_after_a_changed_command_is_not_drift() {
    // An intended setpoint change: 5.0 V → 6.25 V, and the reading follows.
    let old = psu(0.0, "VOLT 5.0, (@1)", "+5.00000000E+00");
    let new = psu(0.0, "VOLT 6.25, (@1)", "+6.25000000E+00");
    let d = diff(&old, &new);
    assert!(!d.drifted_beyond_tolerance(), "{d:?}");
    assert_eq!(
        d.summary(),
        "1 interaction changed; 1 response changed (1 after a changed command)"
    );
    let text = d.render("a", "b");
    assert!(
        text.contains("(changed +25% after a changed command)"),
        "{text}"
    );
    assert!(!text.contains("drift"), "{text}");

    // Across instruments, by time: the psu's setpoint changed before the dmm read it.
    let two = |volts: &str, reading: &str| {
        session(vec![
            ("psu", None, vec![w(volts, 0.1)]),
            ("dmm", None, vec![q("MEAS:VOLT:DC?", reading, 0.2)]),
        ])
    };
    let d = diff(&two("VOLT 5.0", "+5.0E+00"), &two("VOLT 6.25", "+6.25E+00"));
    assert!(!d.drifted_beyond_tolerance(), "{d:?}");
    // The same reading change with the same commands is drift.
    let d = diff(&two("VOLT 5.0", "+5.0E+00"), &two("VOLT 5.0", "+6.25E+00"));
    assert!(d.drifted_beyond_tolerance(), "{d:?}");
}

#[test]
fn numbers_in_lists_compare_numerically() {
    let old = session(vec![(
        "psu",
        None,
        vec![q("SYST:ERR?", "+0,\"No error\"", 0.0)],
    )]);
    let same_number = session(vec![(
        "psu",
        None,
        vec![q("SYST:ERR?", "0,\"No error\"", 0.0)],
    )]);
    let d = diff(&old, &same_number);
    assert_eq!(d.summary(), "1 response changed");
    match d.changes().next() {
        Some((
            _,
            Change::ResponseChanged {
                drift: Some(drift), ..
            },
        )) => {
            assert_eq!(drift.max_relative, 0.0);
            assert!(drift.readings.is_empty());
        }
        other => panic!("expected a zero drift, got {other:?}"),
    }
    let new_error = session(vec![(
        "psu",
        None,
        vec![q("SYST:ERR?", "-113,\"Undefined header\"", 0.0)],
    )]);
    match diff(&old, &new_error).changes().next() {
        Some((_, Change::ResponseChanged { drift: None, .. })) => {}
        other => panic!("expected a text change, got {other:?}"),
    }
}

#[test]
fn changed_firmware_string_is_shown_where_it_differs() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let mut new = old.clone();
    let long_idn = format!("{IDN} extended build information, serial XYZ 1234567890 rev A");
    new.instruments[0].1.log[0].response = Some(long_idn.replace("K-01.08.03", "K-01.09.01"));
    let mut old_long = old.clone();
    old_long.instruments[0].1.log[0].response = Some(long_idn);
    let d = diff(&old_long, &new);
    assert_eq!(d.summary(), "1 response changed");
    let text = d.render("a", "b");
    assert!(text.contains("K-01.08.03"), "{text}");
    assert!(text.contains("K-01.09.01"), "{text}");
}

#[test]
fn binary_payload_compared_by_bytes() {
    let block = |bytes: &[u8]| {
        let mut it = i(
            InteractionKind::QueryRaw,
            ":WAV:DATA?",
            Some("#14abcd"),
            0.0,
        );
        it.binary = Some(bytes.to_vec());
        it
    };
    let old = session(vec![("scope", None, vec![block(b"#14abcd")])]);
    let new = session(vec![("scope", None, vec![block(b"#14abXd")])]);
    let d = diff(&old, &new);
    assert_eq!(d.summary(), "1 binary payload changed");
    assert_eq!(
        d.changes().next().map(|(_, c)| c.clone()),
        Some(Change::BinaryChanged {
            old: 1,
            new: 1,
            kind: "query_raw".into(),
            command: ":WAV:DATA?".into(),
            old_len: Some(7),
            new_len: Some(7),
            first_difference: 5,
        })
    );
    assert!(
        d.render("a", "b")
            .contains("‹binary block, 7 bytes›   (bytes differ from offset 5)")
    );
    // The same bytes: no difference, whatever the lossy text says.
    let mut same = old.clone();
    same.instruments[0].1.log[0].response = Some("other".into());
    assert!(diff(&old, &same).is_empty());
}

#[test]
fn recorded_error_changes() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let mut new = old.clone();
    new.instruments[0].1.log[3].error = Some(RecordedError::new(
        RecordedErrorKind::Timeout,
        "no response within 5 s",
    ));
    new.instruments[0].1.log[3].response = None;
    let d = diff(&old, &new);
    assert_eq!(d.summary(), "1 recorded error changed");
    match d.changes().next() {
        Some((
            _,
            Change::ErrorChanged {
                old_error,
                new_error,
                ..
            },
        )) => {
            assert_eq!(old_error, &None);
            assert_eq!(
                new_error.as_deref(),
                Some("timeout: no response within 5 s")
            );
        }
        other => panic!("expected an error change, got {other:?}"),
    }
    assert!(
        d.render("a", "b")
            .contains("⚠ timeout: no response within 5 s")
    );
}

#[test]
fn profile_and_instruments_added_or_removed() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let mut new = old.clone();
    new.instruments[0].1.profile = Some("keysight/EDU36312A".into());
    let d = diff(&old, &new);
    assert!(!d.is_empty());
    assert_eq!(d.summary(), "profile of `psu` changed");
    assert!(d.render("a", "b").contains(
        "instrument `psu`: profile changed from `keysight/EDU36311A` to `keysight/EDU36312A`"
    ));

    let mut with_dmm = old.clone();
    with_dmm.instruments.push((
        "dmm".into(),
        InstrumentLog {
            profile: None,
            rules: Default::default(),
            log: vec![q("MEAS:VOLT:DC?", "1.499663", 0.1)],
        },
    ));
    let d = diff(&old, &with_dmm);
    assert_eq!(d.summary(), "instrument `dmm` added; 1 interaction added");
    assert!(
        d.render("a", "b")
            .contains("instrument `dmm`: added, 1 interaction")
    );
    let d = diff(&with_dmm, &old);
    assert_eq!(
        d.summary(),
        "instrument `dmm` removed; 1 interaction removed"
    );
}

#[test]
fn colour_only_when_asked() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let new = psu(0.0, "VOLT 3.0, (@1)", "+4.99918100E+00");
    let d = diff(&old, &new);
    assert!(!d.render("a", "b").contains('\x1b'));
    let coloured = d.render_with(
        "a",
        "b",
        &RenderOptions {
            color: true,
            ..RenderOptions::default()
        },
    );
    assert!(
        coloured.contains("\x1b[31m│- write  VOLT 5.0"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[32m│+ write  VOLT 3.0"),
        "{coloured}"
    );
}

#[test]
fn serializes_for_machines() {
    let old = psu(0.0, "VOLT 5.0, (@1)", "+4.99918100E+00");
    let new = psu(0.0, "VOLT 5.0, (@1)", "+5.10000000E+00");
    let json = serde_json::to_value(diff(&old, &new)).unwrap();
    let change = &json["instruments"][0]["changes"][0];
    assert_eq!(change["change"], "response_changed");
    assert_eq!(change["old_response"], "+4.99918100E+00");
    assert_eq!(change["drift"]["beyond_tolerance"], true);
    assert_eq!(json["timestamps_ignored"], true);
}

#[test]
fn a_removed_reading_among_identical_queries_does_not_shift_the_others() {
    let readings = ["+1.0E+00", "+2.0E+00", "+3.0E+00", "+4.0E+00", "+5.0E+00"];
    let old = session(vec![(
        "dmm",
        None,
        readings.iter().map(|r| q("READ?", r, 0.0)).collect(),
    )]);
    let mut new = old.clone();
    new.instruments[0].1.log.remove(1);
    new.instruments[0].1.log[3].response = Some("+5.5E+00".into());
    let d = diff(&old, &new);
    assert_eq!(
        d.summary(),
        "1 interaction removed; 1 response changed (1 drifted beyond 0.1%)"
    );
    let changes: Vec<Change> = d.changes().map(|(_, c)| c.clone()).collect();
    assert!(
        matches!(&changes[0], Change::Removed { old: 2, .. }),
        "{changes:?}"
    );
    assert!(
        matches!(&changes[1], Change::ResponseChanged { old: 5, new: 4, .. }),
        "{changes:?}"
    );
}

#[test]
fn text_and_diff_escape_responses_alike() {
    // A literal backslash-n, a newline, and quotes (which stay as they are).
    let old = session(vec![(
        "dmm",
        None,
        vec![q("A?", "x\\ny", 1.0), q("B?", "\"ok\"", 2.0)],
    )]);
    let new = session(vec![(
        "dmm",
        None,
        vec![q("A?", "x\ny", 1.0), q("B?", "\"ok\"", 2.0)],
    )]);
    let old_text = session_text(&old);
    let new_text = session_text(&new);
    assert!(old_text.contains("→ x\\\\ny"), "{old_text}");
    assert!(new_text.contains("→ x\\ny"), "{new_text}");
    assert!(old_text.contains("→ \"ok\""), "{old_text}");
    let rendered = diff(&old, &new).render("a", "b");
    assert!(rendered.contains("x\\\\ny"), "{rendered}");
    assert!(rendered.contains("x\\ny"), "{rendered}");
}
