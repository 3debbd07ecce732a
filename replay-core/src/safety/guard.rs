//! What stands between a test and an instrument: its limits and its redactor.

use std::borrow::Cow;

use super::{Limit, Redactor, check_all};
use crate::block;
use crate::error::{Error, Result};
use crate::session::{InstrumentRules, Session};

/// The limits and redaction of one instrument, recording or replaying.
#[derive(Debug, Default)]
pub(crate) struct Guard {
    limits: Vec<Limit>,
    redactor: Redactor,
}

impl Guard {
    /// From the rules of an instrument; secret values come from the environment.
    pub(crate) fn new(rules: &InstrumentRules) -> Guard {
        Guard {
            limits: rules.limits.clone(),
            redactor: Redactor::new(&rules.secrets, &rules.redact),
        }
    }

    /// Refuses `command` when a limit covers it and its value is out of range;
    /// `shown` is the command as messages may show it (redacted).
    pub(crate) fn check(&self, alias: &str, command: &str, shown: &str) -> Result<()> {
        check_all(&self.limits, command).map_err(|refusal| Error::LimitExceeded {
            alias: alias.to_owned(),
            command: shown.to_owned(),
            refusal: Box::new(refusal),
        })
    }

    /// Text as it may be written or shown.
    pub(crate) fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.redactor.text(text)
    }

    /// An IEEE 488.2 block with its payload redacted (and its header fixed to match).
    pub(crate) fn block(&self, raw: Vec<u8>) -> Vec<u8> {
        if self.redactor.is_empty() {
            return raw;
        }
        let Ok(payload) = block::payload(&raw) else {
            return self.redactor.bytes(&raw).into_owned();
        };
        match self.redactor.bytes(payload) {
            Cow::Borrowed(_) => raw,
            Cow::Owned(redacted) => block::encode_block(&redacted),
        }
    }

    /// The command to send to the live instrument: `${NAME}` of declared secrets expanded.
    pub(crate) fn expand<'a>(
        &self,
        alias: &str,
        command: &'a str,
        shown: &str,
    ) -> Result<Cow<'a, str>> {
        self.redactor
            .expand(command)
            .map_err(|name| Error::SecretUnset {
                alias: alias.to_owned(),
                command: shown.to_owned(),
                name,
            })
    }
}

/// Refuses to persist `session` to `path` when the value of a secret it declares (in any
/// instrument's `secrets`, values from the environment) occurs anywhere in it.
pub(crate) fn check_no_secret(path: &std::path::Path, session: &Session) -> Result<()> {
    let names: Vec<String> = session
        .instruments
        .iter()
        .flat_map(|(_, log)| log.rules.secrets.iter().cloned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let redactor = Redactor::new(&names, &[]);
    let leak = |name: &str, location: String| Error::SecretLeak {
        path: path.to_owned(),
        name: name.to_owned(),
        location,
    };
    for (alias, log) in &session.instruments {
        if let Some(name) = redactor.leaked_in(alias.as_bytes()) {
            return Err(leak(name, format!("in the instrument alias `{alias}`")));
        }
        if let Some(name) = log
            .profile
            .as_deref()
            .and_then(|p| redactor.leaked_in(p.as_bytes()))
        {
            return Err(leak(name, format!("in the profile of `{alias}`")));
        }
        for rule in &log.rules.redact {
            if let Some(name) = redactor
                .leaked_in(rule.pattern().as_bytes())
                .or_else(|| redactor.leaked_in(rule.replacement().as_bytes()))
            {
                return Err(leak(name, format!("in a `redact` rule of `{alias}`")));
            }
        }
        for (index, interaction) in log.log.iter().enumerate() {
            let fields = [
                ("command", Some(interaction.command.as_bytes())),
                (
                    "response",
                    interaction.response.as_deref().map(str::as_bytes),
                ),
                ("binary response", interaction.binary.as_deref()),
                (
                    "error message",
                    interaction.error.as_ref().map(|e| e.message.as_bytes()),
                ),
            ];
            for (field, bytes) in fields {
                if let Some(name) = bytes.and_then(|b| redactor.leaked_in(b)) {
                    return Err(leak(
                        name,
                        format!("in the {field} of interaction #{} of `{alias}`", index + 1),
                    ));
                }
            }
        }
    }
    Ok(())
}
