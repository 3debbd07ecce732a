//! Channels: one set of dialogues and properties repeated per channel id.
//!
//! With `can_select: True` (the default) the channel id is part of the command
//! (`CH {ch_id}:VOLT?`); otherwise the device's `selected_channel` property says which
//! channel the commands address.

use super::SimError;
use super::component::{Component, Getter, Reply};
use super::pattern::Parsed;
use super::pyformat;
use super::random::Random;
use super::value::Value;

/// A channel group as defined in the file.
#[derive(Clone, Debug)]
pub(crate) struct Channels {
    pub(crate) ids: Vec<String>,
    pub(crate) can_select: bool,
    pub(crate) component: Component,
    /// The channel the last command addressed (pyvisa-sim keeps it between commands).
    pub(crate) selected: Option<Value>,
}

/// What a channel answers.
pub(crate) enum Answer {
    /// A reply of the channel itself.
    Reply(Reply),
    /// A rejected value without an `e`: the device's command error.
    CommandError,
}

/// The key of a channel's value store for a selected id (ids from the file are strings;
/// a `{ch_id:d}` field selects an int, a different key, as in Python).
fn key(selected: Option<&Value>) -> String {
    match selected {
        None => "\0none".to_owned(),
        Some(Value::Str(s)) => s.clone(),
        Some(other) => format!("\0{}:{}", other.type_name(), other.to_py_str()),
    }
}

impl Channels {
    /// Matches `query` against this channel group. `selected_channel` is the device's
    /// property of that name, if it has one (needed when `can_select` is false).
    pub(crate) fn answer(
        &mut self,
        query: &[u8],
        selected_channel: Option<&Value>,
        random: &mut Random,
    ) -> Result<Option<Answer>, SimError> {
        if !self.can_select {
            let Some(ch_id) = selected_channel else {
                return Err(SimError::new(
                    "a channel group with `can_select: False` needs a device property `selected_channel`",
                ));
            };
            match ch_id {
                Value::Str(s) if self.ids.contains(s) => self.selected = Some(ch_id.clone()),
                _ => return Ok(None),
            }
            let k = key(self.selected.as_ref());
            if let Some(reply) =
                Component::match_dialogue(&self.component.dialogues, query, random)?
            {
                return Ok(Some(Answer::Reply(reply)));
            }
            let getters = self.component.getters.iter().map(|g| (g.query.clone(), g));
            if let Some(bytes) = self.component.match_getter(getters, query, &k, random)? {
                return Ok(Some(Answer::Reply(Some(bytes))));
            }
        } else {
            for id in self.ids.clone() {
                self.selected = Some(Value::Str(id.clone()));
                let dialogues = self
                    .component
                    .dialogues
                    .iter()
                    .map(|(q, r)| Ok((for_channel(q, &id)?, r.clone())))
                    .collect::<Result<Vec<_>, SimError>>()?;
                if let Some(reply) = Component::match_dialogue(&dialogues, query, random)? {
                    return Ok(Some(Answer::Reply(reply)));
                }
                let getters = self
                    .component
                    .getters
                    .iter()
                    .map(|g| Ok((for_channel(&g.query, &id)?, g)))
                    .collect::<Result<Vec<(Vec<u8>, &Getter)>, SimError>>()?;
                if let Some(bytes) =
                    self.component
                        .match_getter(getters.into_iter(), query, &id, random)?
                {
                    return Ok(Some(Answer::Reply(Some(bytes))));
                }
            }
        }
        self.match_setters(query)
    }

    fn match_setters(&mut self, query: &[u8]) -> Result<Option<Answer>, SimError> {
        let text = std::str::from_utf8(query)
            .map_err(|_| SimError::new("the command is not valid UTF-8"))?;
        for setter in &self.component.setters {
            let Some(parsed) = setter.pattern.parse(text) else {
                continue;
            };
            let value = match (&parsed, parsed.get("ch_id")) {
                (Parsed::Dict(_), Some(ch_id)) => {
                    self.selected = Some(ch_id.clone());
                    parsed
                        .get("0")
                        .ok_or_else(|| {
                            SimError::new(format!(
                                "setter `{}` names `{{ch_id}}` but has no value field",
                                setter.source
                            ))
                        })?
                        .to_py_str()
                }
                _ => parsed.to_py_str(),
            };
            let k = key(self.selected.as_ref());
            let property = &mut self.component.properties[setter.property];
            return Ok(Some(match property.set(&k, Value::Str(value)) {
                Ok(()) => Answer::Reply(setter.reply.clone()),
                Err(_) if setter.error.is_some() => Answer::Reply(setter.error.clone()),
                Err(_) => Answer::CommandError,
            }));
        }
        Ok(None)
    }
}

/// A channel query key with `{ch_id}` filled in (`"CH {ch_id}:VOLT?".format(ch_id=id)`).
fn for_channel(query: &[u8], id: &str) -> Result<Vec<u8>, SimError> {
    let text = String::from_utf8_lossy(query);
    pyformat::format(&text, &[], &[("ch_id", Value::Str(id.to_owned()))])
        .map(String::into_bytes)
        .map_err(|e| SimError::new(format!("channel query `{text}`: {e}")))
}
