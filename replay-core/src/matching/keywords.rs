//! The keywords whose long and short forms are the same command: SCPI-99's standard
//! keywords (Volume 2, "Command Reference": root subsystems and the nodes they share) plus
//! the keywords a user declares. Each is written in SCPI's notation: the short form in
//! capitals, the rest of the long form in lower case (`VOLTage` = `VOLT` | `VOLTAGE`).
//!
//! Equivalence is never guessed from the "first four letters" rule (vendors break it); a
//! keyword not in this table only equals itself, up to case. A short form two standard
//! keywords share (`STAT`: `STATe` and `STATus`; `DEL`: `DELay` and `DELete`) names no
//! keyword of its own, so it is compared as written.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::memo::Map;

/// SCPI-99's root subsystems (and the measurement instructions), which may start a header.
pub const STANDARD_ROOTS: &[&str] = &[
    "ABORt",
    "ARM",
    "CALCulate",
    "CALibration",
    "CONFigure",
    "CONTrol",
    "DATA",
    "DIAGnostic",
    "DISPlay",
    "FETCh",
    "FORMat",
    "HCOPy",
    "INITiate",
    "INPut",
    "INSTrument",
    "MEASure",
    "MEMory",
    "MMEMory",
    "OUTPut",
    "PROGram",
    "READ",
    "ROUTe",
    "SENSe",
    "SOURce",
    "STATus",
    "SYSTem",
    "TEST",
    "TRACe",
    "TRIGger",
    "UNIT",
    "VXI",
];

/// Every standard keyword: the root subsystems, then the others.
pub fn standard_keywords() -> impl Iterator<Item = &'static str> {
    STANDARD_ROOTS.iter().chain(STANDARD_KEYWORDS).copied()
}

/// SCPI-99 keywords besides the [root subsystems](STANDARD_ROOTS) (long forms, short form
/// in capitals).
pub const STANDARD_KEYWORDS: &[&str] = &[
    // Measurement functions and quantities.
    "VOLTage",
    "CURRent",
    "POWer",
    "RESistance",
    "FRESistance",
    "FREQuency",
    "PERiod",
    "TEMPerature",
    "PHASe",
    "CAPacitance",
    "CONTinuity",
    "DIODe",
    "AC",
    "DC",
    "ACDC",
    // Common nodes.
    "LEVel",
    "IMMediate",
    "AMPLitude",
    "OFFSet",
    "PROTection",
    "STATe",
    "TRIPped",
    "CLEar",
    "MODE",
    "RANGe",
    "AUTO",
    "UPPer",
    "LOWer",
    "RESolution",
    "NPLCycles",
    "APERture",
    "LIMit",
    "DELay",
    "COUNt",
    "TIMer",
    "SLOPe",
    "SEQuence",
    "LAYer",
    "ZERO",
    "NULL",
    "VALue",
    "TRIGgered",
    "CONTinuous",
    "HYSTeresis",
    "TTLTrg",
    "ECLTrg",
    "LINK",
    // SYSTem.
    "ERRor",
    "NEXT",
    "VERSion",
    "PRESet",
    "BEEPer",
    "DATE",
    "TIME",
    "LOCal",
    "REMote",
    "RWLock",
    "KLOCk",
    "SECurity",
    "COMMunicate",
    "SERial",
    "BAUD",
    "PARity",
    "BITS",
    "SBITs",
    "LAN",
    "GPIB",
    "ADDRess",
    "RS232",
    "CODE",
    "COUNt",
    "ALL",
    "PASSword",
    "CDISable",
    // STATus.
    "OPERation",
    "QUEStionable",
    "EVENt",
    "CONDition",
    "ENABle",
    "PTRansition",
    "NTRansition",
    "QUEue",
    // DISPlay, TRACe, FORMat, MMEMory.
    "WINDow",
    "TEXT",
    "FEED",
    "POINts",
    "BORDer",
    "HEADer",
    "CATalog",
    "DEFine",
    "DELete",
    "SELect",
    "NSELect",
    "NAME",
    "COPY",
    "MOVE",
    "LOAD",
    "STORe",
    "CDIRectory",
    "MSIS",
    "FREE",
    "FILE",
    "BRIGhtness",
    "CONTrast",
    "ENABle",
    // SOURce.
    "SWEep",
    "STARt",
    "STOP",
    "CENTer",
    "SPAN",
    "STEP",
    "SPACing",
    "LIST",
    "DWELl",
    "FUNCtion",
    "SHAPe",
    "SQUare",
    "SINusoid",
    "TRIangle",
    "RAMP",
    "PULSe",
    "WIDTh",
    "DCYCle",
    "DEPTh",
    "DEViation",
    "INTernal",
    "EXTernal",
    "AM",
    "FM",
    "PM",
    "FIXed",
    "CW",
    // SENSe, INPut, OUTPut, ROUTe, CALCulate.
    "FILTer",
    "LPASs",
    "HPASs",
    "ATTenuation",
    "IMPedance",
    "COUPling",
    "GAIN",
    "REFerence",
    "MARKer",
    "MATH",
    "EXPRession",
    "AVERage",
    "TYPE",
    "TCONtrol",
    "DETector",
    "OPEN",
    "CLOSe",
    "SCAN",
    "TRANsform",
    "FORMat",
    "EXCLude",
];

/// Character data with standard long and short forms (`MAXimum` = `MAX`).
pub const STANDARD_PARAMETERS: &[&str] = &[
    "MAXimum",
    "MINimum",
    "DEFault",
    "INFinity",
    "NINFinity",
    "UP",
    "DOWN",
    "ONCE",
];

/// The short form of a keyword written in SCPI notation: its leading capitals and digits.
pub fn short_form(keyword: &str) -> &str {
    let end = keyword
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        .unwrap_or(keyword.len());
    &keyword[..end]
}

/// Checks a declared keyword: letters (then digits), its short form in capitals.
pub fn validate(keyword: &str) -> Result<(), String> {
    let mut chars = keyword.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && keyword
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(format!(
            "keyword `{keyword}` is not a SCPI mnemonic; write it with its short form in capitals, e.g. `CHANnel`"
        ));
    }
    Ok(())
}

/// A lookup from a written form (upper case) to the keyword it names.
#[derive(Clone, Debug, Default)]
pub struct KeywordTable {
    /// Upper-case long or short form → index of the keyword, `None` when two keywords
    /// share the form.
    forms: Map<String, Option<u32>>,
    /// Long forms added so far.
    longs: HashSet<String>,
    /// Forms of root subsystems → their index, `None` when two roots share the form.
    roots: Map<String, Option<u32>>,
    count: u32,
}

impl KeywordTable {
    /// A table of `keywords` (SCPI notation).
    pub fn new<'a>(keywords: impl IntoIterator<Item = &'a str>) -> KeywordTable {
        let mut table = KeywordTable::default();
        table.extend(keywords);
        table
    }

    /// Adds keywords; a keyword already present (same long form) is not added twice.
    pub fn extend<'a>(&mut self, keywords: impl IntoIterator<Item = &'a str>) {
        for keyword in keywords {
            let long = keyword.to_ascii_uppercase();
            if !self.longs.insert(long.clone()) {
                continue;
            }
            let id = self.count;
            self.count += 1;
            let short = short_form(keyword).to_ascii_uppercase();
            let root = STANDARD_ROOTS.contains(&keyword);
            for form in [long, short] {
                if form.is_empty() {
                    continue;
                }
                add(&mut self.forms, form.clone(), id);
                if root {
                    add(&mut self.roots, form, id);
                }
            }
        }
    }

    /// The keyword that `upper` (an upper-case mnemonic) names, if exactly one.
    pub fn lookup(&self, upper: &str) -> Option<u32> {
        self.forms.get(upper).copied().flatten()
    }

    /// The keyword that `upper` names as the first keyword of a header at the root: a form
    /// two keywords share names the one root subsystem among them.
    pub fn lookup_root(&self, upper: &str) -> Option<u32> {
        match self.forms.get(upper) {
            Some(Some(id)) => Some(*id),
            Some(None) => self.roots.get(upper).copied().flatten(),
            None => None,
        }
    }

    /// The forms two keywords share, which therefore name neither.
    pub fn ambiguous(&self) -> Vec<&str> {
        let mut forms: Vec<&str> = self
            .forms
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(form, _)| form.as_str())
            .collect();
        forms.sort_unstable();
        forms
    }
}

fn add(map: &mut Map<String, Option<u32>>, form: String, id: u32) {
    map.entry(form)
        .and_modify(|existing| {
            if *existing != Some(id) {
                *existing = None;
            }
        })
        .or_insert(Some(id));
}

/// The standard keyword table, built once.
pub fn standard() -> &'static KeywordTable {
    static TABLE: OnceLock<KeywordTable> = OnceLock::new();
    TABLE.get_or_init(|| KeywordTable::new(standard_keywords()))
}

/// The standard parameter mnemonics, built once.
pub fn parameters() -> &'static KeywordTable {
    static TABLE: OnceLock<KeywordTable> = OnceLock::new();
    TABLE.get_or_init(|| KeywordTable::new(STANDARD_PARAMETERS.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_short_forms_name_one_keyword() {
        let t = standard();
        assert_eq!(t.lookup("VOLT"), t.lookup("VOLTAGE"));
        assert!(t.lookup("VOLT").is_some());
        assert_eq!(t.lookup("VOLTAG"), None);
        assert_ne!(t.lookup("VOLT"), t.lookup("CURR"));
        assert_eq!(t.lookup("RS232"), t.lookup("RS232"));
        assert!(t.lookup("RS232").is_some());
    }

    #[test]
    fn shared_short_forms_name_nothing() {
        let t = standard();
        assert_eq!(t.ambiguous(), vec!["CONT", "DEL", "RES", "STAT", "TRIG"]);
        assert_eq!(t.lookup("STAT"), None);
        assert_eq!(t.lookup_root("STAT"), t.lookup("STATUS"));
        assert_eq!(t.lookup_root("TRIG"), t.lookup("TRIGGER"));
        assert_eq!(t.lookup_root("CONT"), t.lookup("CONTROL"));
        assert_eq!(t.lookup_root("DEL"), None);
        assert!(t.lookup("STATE").is_some());
        assert_ne!(t.lookup("STATE"), t.lookup("STATUS"));
    }

    #[test]
    fn repeated_keywords_are_one() {
        let mut t = KeywordTable::new(["CHANnel"]);
        t.extend(["CHANnel", "CHANnel"]);
        assert!(t.ambiguous().is_empty());
        assert!(t.lookup("CHAN").is_some());
    }

    #[test]
    fn short_forms() {
        assert_eq!(short_form("VOLTage"), "VOLT");
        assert_eq!(short_form("NPLCycles"), "NPLC");
        assert_eq!(short_form("RS232"), "RS232");
        assert!(validate("CHANnel").is_ok());
        assert!(validate("channel").unwrap_err().contains("`CHANnel`"));
        assert!(validate("").is_err());
        assert!(validate("CH AN").is_err());
    }
}
