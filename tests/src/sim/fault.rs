//! Faults a simulated instrument injects on purpose, per command: what real instruments do
//! on a bad day (drop the connection mid-answer, send garbage, stall, answer late, send a
//! block whose header lies, reset the connection while the client writes).

use std::time::Duration;

/// One way to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Send the first half of the answer, then close the connection.
    CloseMidResponse,
    /// Answer with bytes that are not text (`0xFF 0xFE 0x00 …`), then the terminator.
    Garbage,
    /// Answer with the wrong terminator (`\r` instead of `\n`): the client never sees the
    /// end of the message.
    WrongTerminator,
    /// Never answer; the connection stays open.
    Stall,
    /// Answer, but only after this delay (longer than the client's timeout).
    Late(Duration),
    /// A binary block whose header announces more bytes than follow; then silence.
    BlockOverclaim,
    /// A binary block whose header announces fewer bytes than follow.
    BlockUnderclaim,
    /// Reset the connection (TCP RST) as soon as the command arrives.
    ResetDuringWrite,
}

/// A fault injected when a message starts with `command` (ASCII case-insensitive, leading
/// `:` ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) command: String,
    pub(crate) fault: Fault,
}

impl FaultRule {
    /// Injects `fault` for every message that starts with `command`.
    pub fn new(command: impl Into<String>, fault: Fault) -> FaultRule {
        FaultRule {
            command: command.into(),
            fault,
        }
    }

    /// Whether this rule applies to `message`.
    pub(crate) fn applies_to(&self, message: &str) -> bool {
        let message = message.trim_start().trim_start_matches(':').as_bytes();
        let command = self.command.trim_start_matches(':').as_bytes();
        message.len() >= command.len() && message[..command.len()].eq_ignore_ascii_case(command)
    }
}

/// The fault for `message`, if a rule applies (the first that does).
pub(crate) fn fault_for(rules: &[FaultRule], message: &str) -> Option<Fault> {
    rules
        .iter()
        .find(|rule| rule.applies_to(message))
        .map(|rule| rule.fault)
}

/// Rewrites the length in the header of an IEEE 488.2 block (`#<n><len><payload>`) to
/// `len + delta`, keeping the payload. `None` when `bytes` is not such a block.
pub(crate) fn relabel_block(bytes: &[u8], delta: i64) -> Option<Vec<u8>> {
    if bytes.first() != Some(&b'#') {
        return None;
    }
    let n = usize::from(bytes.get(1)?.checked_sub(b'0')?);
    let digits = std::str::from_utf8(bytes.get(2..2 + n)?).ok()?;
    let len: i64 = digits.parse().ok()?;
    let claimed = (len + delta).max(0).to_string();
    let mut out = format!("#{}{claimed}", claimed.len()).into_bytes();
    out.extend_from_slice(&bytes[2 + n..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_prefix_case_and_colon_insensitive() {
        let rule = FaultRule::new("MEAS:VOLT?", Fault::Stall);
        assert!(rule.applies_to(":meas:volt? (@1)"));
        assert!(!rule.applies_to("MEAS:CURR?"));
        let rules = [
            FaultRule::new("*IDN?", Fault::Garbage),
            FaultRule::new("*", Fault::Stall),
        ];
        assert_eq!(fault_for(&rules, "*IDN?"), Some(Fault::Garbage));
        assert_eq!(fault_for(&rules, "*RST"), Some(Fault::Stall));
        assert_eq!(fault_for(&rules, "VOLT 5"), None);
    }

    #[test]
    fn relabel_block_changes_only_the_header() {
        assert_eq!(relabel_block(b"#15abcde", 10).unwrap(), b"#215abcde");
        assert_eq!(relabel_block(b"#15abcde", -2).unwrap(), b"#13abcde");
        assert_eq!(relabel_block(b"+1.0", 1), None);
    }
}
