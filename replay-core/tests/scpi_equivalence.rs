//! The SCPI equivalence table: pairs of commands with the verdict the standards give and
//! the rule behind it (IEEE 488.2-1992 §7 program messages, SCPI-99 Vol. 1 §6-7).
//! `S` = provably the same command, `D` = different (or not provably the same).
//! The `scpi` rule must agree on every pair, in both directions: zero false "same".

use replay_core::session::{Interaction, InteractionKind};
use replay_core::{Matcher, Request, ScpiMatcher};

/// Whether the `scpi` rule (standard keywords, exact numbers) finds the test's `sent` the
/// same command as the `recorded` one.
fn scpi_same(matcher: &ScpiMatcher, recorded: &str, sent: &str) -> bool {
    let recorded = Interaction::new(InteractionKind::Write, recorded, 0.0);
    matcher.matches(&recorded, &Request::new(&InteractionKind::Write, sent))
}

const S: bool = true;
const D: bool = false;

#[rustfmt::skip]
const TABLE: &[(&str, &str, bool, &str)] = &[
    // Case of mnemonics (488.2 §7.6.1.1: headers are case-insensitive).
    ("*IDN?", "*idn?", S, "common command headers ignore case"),
    ("*RST", "*rst", S, "common command headers ignore case"),
    ("VOLT 5", "volt 5", S, "program headers ignore case"),
    ("MEAS:VOLT?", "meas:volt?", S, "program headers ignore case"),
    ("SYST:ERR?", "SySt:ErR?", S, "program headers ignore case"),
    // Long and short forms of standard keywords (SCPI-99 §6.2.1).
    ("VOLT 5", "VOLTAGE 5", S, "VOLTage: short and long form"),
    ("VOLT 5", "VOLTage 5", S, "VOLTage: long form in mixed case"),
    ("CURR 1", "CURRent 1", S, "CURRent: short and long form"),
    ("MEAS:VOLT:DC?", "MEASure:VOLTage:DC?", S, "every keyword of the path in long form"),
    ("SYST:ERR?", "SYSTem:ERRor?", S, "SYSTem:ERRor"),
    ("SYST:ERR:NEXT?", "SYSTEM:ERROR:NEXT?", S, "SYSTem:ERRor:NEXT"),
    ("OUTP ON", "OUTPUT ON", S, "OUTPut"),
    ("SOUR:FREQ 1000", "SOURce:FREQuency 1000", S, "SOURce:FREQuency"),
    ("TRIG:SOUR BUS", "TRIGger:SOURce BUS", S, "TRIG at the root is TRIGger (TRIGgered is never a root)"),
    ("STAT:OPER:ENAB 512", "STATus:OPERation:ENABle 512", S, "STAT at the root is STATus"),
    ("SENS:VOLT:DC:RANG 10", "SENSe:VOLTage:DC:RANGe 10", S, "SENSe subsystem nodes"),
    ("FREQ 1000", "frequency 1000", S, "long form in lower case"),
    ("CALC:MARK:X 5", "CALCulate:MARKer:X 5", S, "unknown keyword X equals itself"),
    ("ROUT:CLOS (@101)", "ROUTe:CLOSe (@101)", S, "ROUTe:CLOSe"),
    ("MMEM:CAT?", "MMEMory:CATalog?", S, "MMEMory:CATalog"),
    ("DISP:TEXT 'hi'", "DISPlay:TEXT 'hi'", S, "DISPlay"),
    ("SYST:VERS?", "SYSTem:VERSion?", S, "SYSTem:VERSion"),
    ("SYST:BEEP", "SYSTEM:BEEPER", S, "SYSTem:BEEPer"),
    ("FORM:DATA REAL", "FORMat:DATA REAL", S, "FORMat:DATA"),
    ("SENS:FUNC 'VOLT'", "SENSe:FUNCtion 'VOLT'", S, "SENSe:FUNCtion, same string"),
    ("VOLT:PROT 6", "VOLTage:PROTection 6", S, "PROTection"),
    ("CURR:PROT:CLE", "CURRent:PROTection:CLEar", S, "CLEar"),
    ("ABOR", "ABORt", S, "ABORt"),
    ("INIT", "INITIATE", S, "INITiate"),
    ("MMEM:CDIR \"/usr\"", "MMEMory:CDIRectory \"/usr\"", S, "CDIRectory"),
    // Numeric suffixes (SCPI-99 §6.2.5.2: an omitted suffix is 1).
    ("OUTP ON", "OUTP1 ON", S, "omitted suffix = 1"),
    ("SOUR:VOLT 5", "SOUR1:VOLT 5", S, "omitted suffix = 1"),
    ("SOURce1:VOLTage1 5", "SOUR:VOLT 5", S, "suffix 1 on every keyword"),
    ("MEAS1:VOLT?", "MEAS:VOLT?", S, "omitted suffix = 1"),
    ("TRIG1:SOUR BUS", "TRIG:SOUR BUS", S, "suffix on a root keyword"),
    ("OUTP2 ON", "OUTP ON", D, "suffix 2 is not suffix 1"),
    ("SOUR2:VOLT 5", "SOUR:VOLT 5", D, "suffix 2 is not suffix 1"),
    ("OUTP2 ON", "OUTP3 ON", D, "different suffixes"),
    ("SYST:COMM:RS232:BAUD 9600", "SYSTem:COMMunicate:RS232:BAUD 9600", S, "RS232's digits belong to it"),
    ("SYST:COMM:RS232:BAUD 9600", "SYST:COMM:RS:BAUD 9600", D, "keyword digits are not a suffix"),
    ("SYST:COMM:RS232:BAUD 9600", "SYST:COMM:RS2:BAUD 9600", D, "keyword digits are not a suffix"),
    ("CHAN1:SCAL 1", "CHAN:SCAL 1", D, "undeclared keyword: its digits may be its own"),
    ("CHAN1:SCAL 1", "chan1:scal 1", S, "undeclared keyword still ignores case"),
    ("OUTP01 ON", "OUTP1 ON", D, "a suffix with a leading zero is not the number 1 as written"),
    ("OUTP ON", "OUTP0 ON", D, "suffix 0 is not suffix 1"),
    // Leading colon (SCPI-99 §6.2.4: optional at the start of a message).
    (":VOLT 5", "VOLT 5", S, "leading colon of the message"),
    (":MEAS:VOLT?", "MEAS:VOLT?", S, "leading colon of the message"),
    (":SYST:ERR?", "syst:err?", S, "leading colon and case"),
    ("VOLT 5;:CURR 1", "VOLT 5;CURR 1", D, "after `;` a colon returns to the root, its absence does not"),
    ("VOLT 5;:CURR 1", ":VOLT 5;:CURR 1", S, "only the message's first colon is optional"),
    // White space (488.2 §7.4.1.2, §7.4.2.2: around separators).
    ("VOLT 5", "VOLT   5", S, "white space after the header"),
    ("VOLT 5,(@1)", "VOLT 5, (@1)", S, "white space after a comma"),
    ("VOLT 5, (@1)", "VOLT 5 , (@1)", S, "white space before a comma"),
    ("VOLT 5;CURR 1", "VOLT 5 ; CURR 1", S, "white space around `;`"),
    ("VOLT 5", "  VOLT 5  ", S, "leading and trailing white space"),
    ("VOLT 5", "VOLT\t5", S, "a tab is white space"),
    ("*IDN?", "*IDN?\n", S, "the terminator"),
    ("APPL 5,1", "APPL 5 ,1", S, "vendor keyword, white space before a comma"),
    ("VOLT 5", "VOLT5", D, "no space: `VOLT5` is VOLTage suffix 5 with no parameter"),
    ("VOLT 5", "VOLT:5", D, "not well-formed"),
    ("MEAS:VOLT? (@1)", "MEAS:VOLT?  ( @1 )", S, "white space inside an expression, next to separators"),
    ("ROUT:CLOS (@101,102)", "ROUT:CLOS (@101, 102)", S, "channel list separators"),
    ("ROUT:CLOS (@101 102)", "ROUT:CLOS (@101102)", D, "white space inside a token is not around a separator"),
    ("ROUT:CLOS (@1:3)", "ROUT:CLOS (@1,2,3)", D, "channel ranges are not expanded"),
    ("ROUT:CLOS (@01)", "ROUT:CLOS (@1)", D, "channel numbers compared as written"),
    // Decimal numbers (488.2 §7.7.2 <NRf>: exact decimal value, never f64).
    ("VOLT 5", "VOLT 5.0", S, "same value"),
    ("VOLT 5", "VOLT +5.000E+00", S, "sign, mantissa and exponent"),
    ("VOLT 5", "VOLT 500E-2", S, "negative exponent"),
    ("VOLT 5", "VOLT 5.", S, "trailing point"),
    ("VOLT 5", "VOLT 0005", S, "leading zeros"),
    ("VOLT 0.5", "VOLT .5", S, "no integer digits"),
    ("VOLT 0.5", "VOLT 5e-1", S, "lower-case exponent"),
    ("VOLT 1000", "VOLT 1E3", S, "exponent"),
    ("VOLT 1000", "VOLT 1.000e+003", S, "exponent with leading zeros"),
    ("VOLT -0", "VOLT 0", S, "negative zero is zero"),
    ("VOLT 0", "VOLT 0.000E+05", S, "zero with an exponent"),
    ("VOLT -1.5", "VOLT -15E-1", S, "negative value"),
    ("FREQ 1E6", "FREQ 1000000", S, "large value"),
    ("VOLT 5, (@1)", "VOLT 5.00, (@1)", S, "value before a channel list"),
    ("VOLT 0.3", "VOLT 0.30000000000000004", D, "a float printing artefact is a different value"),
    ("VOLT 5.0", "VOLT 5.01", D, "numbers differ"),
    ("VOLT 5", "VOLT -5", D, "sign"),
    ("VOLT 1E-9", "VOLT 0", D, "tiny is not zero"),
    ("VOLT 5", "VOLT 5.0000000000000001", D, "equal as f64, different as decimals"),
    ("FREQ 1E16", "FREQ 10000000000000001", D, "equal as f64, different as decimals"),
    ("VOLT 0.1", "VOLT 0.10000000000000001", D, "equal as f64, different as decimals"),
    ("VOLT 5,1", "VOLT 5", D, "parameter count"),
    ("VOLT 5,1", "VOLT 1,5", D, "parameter order"),
    ("APPL 5,1", "APPL 1,5", D, "parameter order"),
    // Suffix units (488.2 §7.7.3: case-insensitive, never converted).
    ("VOLT 5V", "VOLT 5 V", S, "white space before a unit"),
    ("VOLT 5 V", "VOLT 5 v", S, "units ignore case"),
    ("VOLT 100mV", "VOLT 100MV", S, "units ignore case (M is milli in a suffix)"),
    ("FREQ 1KHZ", "FREQ 1 kHz", S, "units ignore case"),
    ("VOLT 5 V", "VOLT 5", D, "a unit against none"),
    ("VOLT 100 MV", "VOLT 0.1 V", D, "units are not converted"),
    ("FREQ 1 KHZ", "FREQ 1 HZ", D, "different units"),
    ("VOLT 5.0V", "VOLT 5V", S, "value and unit"),
    // Character data (488.2 §7.7.1: case-insensitive; standard long forms).
    ("TRIG:SOUR BUS", "TRIG:SOUR bus", S, "character data ignores case"),
    ("VOLT MAX", "VOLT max", S, "character data ignores case"),
    ("VOLT MAX", "VOLT MAXimum", S, "MAXimum long form"),
    ("VOLT MIN", "VOLT MINIMUM", S, "MINimum long form"),
    ("VOLT DEF", "VOLT default", S, "DEFault long form"),
    ("VOLT MAX", "VOLT MIN", D, "different character data"),
    ("VOLT MAX", "VOLT MAXI", D, "partial parameter form"),
    ("TRIG:SOUR BUS", "TRIG:SOUR IMM", D, "different character data"),
    ("TRIG:SOUR EXT", "trig:sour ext", S, "header and data case"),
    ("VOLT MAX", "VOLT 5", D, "character data is not a number"),
    ("FUNC SIN", "FUNC SQU", D, "different character data"),
    // Booleans (SCPI-99 §7.3: ON = 1, OFF = 0 for boolean parameters).
    ("OUTP ON", "OUTP 1", S, "OUTPut takes a boolean"),
    ("OUTP OFF", "OUTP 0", S, "OUTPut takes a boolean"),
    ("OUTP ON", "outp on", S, "case"),
    ("OUTP:STATE ON", "OUTPut:STATe 1", S, "STATe takes a boolean"),
    ("SYST:BEEP:STATE OFF", "SYSTem:BEEPer:STATe 0", S, "STATe takes a boolean"),
    ("INITiate:CONTinuous ON", "INIT:CONTINUOUS 1", S, "INITiate:CONTinuous takes a boolean"),
    ("INIT:CONT ON", "INITiate:CONTinuous ON", D, "CONT is shared (CONTinuous, CONTinuity, CONTrol): compared as written"),
    ("OUTP ON, (@1)", "OUTP 1,(@1)", S, "first parameter is the boolean"),
    ("OUTP 1", "OUTP 1.0", S, "the value 1"),
    ("OUTP ON", "OUTP 2", D, "nonzero is not assumed to be ON"),
    ("SENS:FUNC ON", "SENS:FUNC 1", D, "FUNCtion does not take a boolean"),
    ("CHAN1:DISP ON", "CHAN1:DISP 1", D, "vendor path: its parameter type is unknown"),
    ("OUTP ON", "OUTP OFF", D, "different booleans"),
    ("OUTP ON, (@1)", "OUTP ON, (@2)", D, "different channels"),
    ("SENS:VOLT:RANG:AUTO ON", "SENSe:VOLTage:RANGe:AUTO 1", S, "AUTO takes a boolean"),
    ("VOLT:PROT:STAT ON", "VOLT:PROT:STATE ON", D, "STAT is shared (STATe, STATus): compared as written"),
    // String data (488.2 §7.7.5: compared exactly).
    ("DISP:TEXT \"Hello\"", "display:text \"Hello\"", S, "header case, same string"),
    ("DISP:TEXT \"Hello\"", "DISP:TEXT \"hello\"", D, "strings are case-sensitive"),
    ("DISP:TEXT \"Hello\"", "DISP:TEXT 'Hello'", D, "delimiters compared as written"),
    ("DISP:TEXT \"a  b\"", "DISP:TEXT \"a b\"", D, "white space inside strings"),
    ("DISP:TEXT \"a,b\"", "DISP:TEXT \"a\", \"b\"", D, "a comma inside a string is not a separator"),
    ("DISP:TEXT \"say \"\"hi\"\"\"", "disp:text \"say \"\"hi\"\"\"", S, "doubled quotes"),
    ("SENS:FUNC \"VOLT\"", "SENS:FUNC \"VOLTAGE\"", D, "strings are not keywords"),
    // Block data (488.2 §7.7.6: compared exactly).
    ("DATA #13abc", "data #13abc", S, "header case, same block"),
    ("DATA #13abc", "DATA #13abd", D, "block bytes"),
    ("DATA #13abc", "DATA #203abc", D, "block headers compared as written"),
    ("DATA #13ABC", "DATA #13abc", D, "block bytes are case-sensitive"),
    // Non-decimal numbers (488.2 §7.7.4).
    ("*ESE #H20", "*ESE #h20", S, "radix letter and digits ignore case"),
    ("*ESE #H20", "*ESE 32", D, "not converted between radixes"),
    ("*ESE #H20", "*ESE #H21", D, "different values"),
    // Common commands (488.2 §10).
    ("*ESE 32", "*ese 32.0", S, "case and value"),
    ("*OPC", "*OPC?", D, "command against query"),
    ("*RST", "*RST;*CLS", D, "one command against two"),
    ("*IDN?", "*IDN", D, "query against command"),
    // Different header paths (only the instrument's tree knows default nodes).
    ("MEAS:VOLT?", "MEAS:VOLT:DC?", D, "implied DC node"),
    ("VOLT 5", "VOLT:LEV 5", D, "implied LEVel node"),
    ("VOLT 5", "SOUR:VOLT 5", D, "implied SOURce root"),
    ("VOLT 5", "VOLT:LEV:IMM:AMPL 5", D, "implied nodes"),
    ("OUTP ON", "OUTP:STATE ON", D, "implied STATe node"),
    ("MEAS:VOLT?", "MEAS:CURR?", D, "different keyword"),
    ("VOLT 5", "CURR 5", D, "different keyword"),
    ("SYST:ERR?", "SYST:ERR:NEXT?", D, "implied NEXT node"),
    // Partial forms (SCPI-99 §6.2.1: only the short or the long form).
    ("VOLT 5", "VOLTAG 5", D, "partial long form"),
    ("SYST:ERR?", "SYST:ERRO?", D, "partial long form"),
    ("VOLT 5", "VOL 5", D, "shorter than the short form"),
    ("MEAS:VOLT?", "MEASU:VOLT?", D, "partial long form"),
    ("FREQ 1000", "FREQU 1000", D, "partial long form"),
    ("SYST:ERR?", "SYSTE:ERR?", D, "partial long form"),
    // Queries.
    ("VOLT?", "VOLT", D, "query against command"),
    ("VOLT? MAX", "VOLTage? maximum", S, "query parameters"),
    ("VOLT? MAX", "VOLT?", D, "query parameter count"),
    // Compound messages (488.2 §7.3.2).
    ("VOLT 5;CURR 1", "VOLTage 5.0;CURRent 1.0", S, "each unit compared"),
    ("VOLT 5;CURR 1", "CURR 1;VOLT 5", D, "order of units"),
    ("VOLT 5;CURR 1", "VOLT 5", D, "number of units"),
    // Short forms two standard keywords share.
    ("TRIG:DEL 1", "TRIG:DELAY 1", D, "DEL is shared (DELay, DELete): compared as written"),
    ("TRIG:DEL 1", "trig:del 1", S, "shared short form equals itself"),
    ("SENS:VOLT:RES 0.001", "SENS:VOLT:RESOLUTION 0.001", D, "RES is shared (RESistance, RESolution)"),
    ("STAT:QUES?", "STATus:QUEStionable?", S, "at the root STAT is STATus"),
    // Not well-formed: compared byte for byte.
    ("VOLT 5,", "VOLT 5", D, "a dangling comma is not SCPI"),
    ("VOLT 5,", "VOLT 5,", S, "identical text"),
    ("DISP:TEXT \"abc", "DISP:TEXT \"abc\"", D, "unterminated string"),
];

#[test]
fn the_table_has_150_pairs_with_traps() {
    assert!(TABLE.len() >= 150, "{} pairs", TABLE.len());
    let different = TABLE.iter().filter(|(_, _, same, _)| !same).count();
    assert!(different >= 60, "{different} traps");
}

#[test]
fn scpi_agrees_with_every_pair_in_both_directions() {
    let scpi = ScpiMatcher::new();
    let mut false_same = Vec::new();
    let mut false_different = Vec::new();
    for (a, b, same, rule) in TABLE {
        for (x, y) in [(a, b), (b, a)] {
            let verdict = scpi_same(&scpi, x, y);
            match (verdict, *same) {
                (true, false) => false_same.push(format!("`{x}` = `{y}` ({rule})")),
                (false, true) => false_different.push(format!("`{x}` ≠ `{y}` ({rule})")),
                _ => {}
            }
        }
    }
    assert!(
        false_same.is_empty(),
        "false \"same\":\n{}",
        false_same.join("\n")
    );
    assert!(
        false_different.is_empty(),
        "false \"different\":\n{}",
        false_different.join("\n")
    );
}

#[test]
fn the_normaliser_never_panics_and_is_reflexive() {
    let scpi = ScpiMatcher::new();
    for (a, b, _, _) in TABLE {
        for text in [a, b] {
            assert!(scpi_same(&scpi, text, text), "`{text}` differs from itself");
            // Every prefix, including ones cut inside a block or a string.
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let _ = scpi_same(&scpi, &text[..end], text);
                let _ = scpi.explain(
                    &Interaction::new(InteractionKind::Write, &text[..end], 0.0),
                    &Request::new(&InteractionKind::Write, text),
                );
            }
        }
    }
}

#[test]
fn remembered_verdicts_agree_with_the_explanations() {
    // `matches` remembers what each text parsed to; `explain` parses afresh. They must
    // agree on every pair, the first time a text is seen and every time after.
    let scpi = ScpiMatcher::new();
    for pass in 1..=2 {
        for (a, b, _, _) in TABLE {
            for (x, y) in [(a, b), (b, a), (a, a)] {
                let recorded = Interaction::new(InteractionKind::Write, *x, 0.0);
                let request = Request::new(&InteractionKind::Write, y);
                let explanation = scpi.explain(&recorded, &request);
                assert_eq!(
                    scpi.matches(&recorded, &request),
                    explanation.is_none(),
                    "pass {pass}: `{x}` vs `{y}`: {explanation:?}"
                );
            }
        }
    }
}
