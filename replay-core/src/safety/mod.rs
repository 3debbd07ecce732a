//! Bench safety: redaction of what is written, declared secrets, and safety limits on
//! what is sent. (The maximum response size lives with the transports that enforce it.)

mod guard;
mod limits;
mod redact;
mod redact_bytes;
mod scpi;

pub(crate) use guard::{Guard, check_no_secret};
pub(crate) use limits::check_all;
pub use limits::{Limit, Refusal};
pub use redact::RedactRule;
pub(crate) use redact::{Redactor, check_secret_name};

#[doc(hidden)]
pub mod __bench {
    //! Entry points for the redaction benchmark; not part of the public API.
    use super::{Guard, RedactRule, Redactor};
    use crate::session::InstrumentRules;

    /// `text` as recording writes it under `rules`.
    pub fn redact_text(rules: &[RedactRule], text: &str) -> String {
        Redactor::with_values(Vec::new(), rules)
            .text(text)
            .into_owned()
    }

    /// An IEEE 488.2 block as recording writes it under `rules` (payload redacted, header
    /// fixed to the new length).
    pub fn redact_block(rules: &[RedactRule], raw: Vec<u8>) -> Vec<u8> {
        let rules = InstrumentRules {
            redact: rules.to_vec(),
            ..InstrumentRules::default()
        };
        Guard::new(&rules).block(raw)
    }
}
