//! The serde shape of a session file, shared by the `yaml_serde` reader and the writer.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use base64::Engine as _;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::matching::MatchConfig;

use super::model::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, RecordedErrorKind, Session,
};
use super::rules::InstrumentRules;

/// A mapping that keeps the file's key order.
pub(crate) struct Ordered<V>(pub(crate) Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from instrument alias to `{profile, log}`")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format_args!(
                            "instrument `{key}` appears twice"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WireInstrument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) limits: Vec<crate::safety::Limit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) redact: Vec<crate::safety::RedactRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) matching: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tolerance: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) ignore: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) repeatable: Vec<String>,
    #[serde(default)]
    pub(crate) log: Vec<WireEntry>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WireEntry {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) response_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_s: Option<f64>,
    #[serde(default)]
    pub(crate) timestamp: f64,
}

/// Converts the wire form into the model. What can fail: base64 (at an entry's index), and
/// the matching rules (index `usize::MAX`).
pub(crate) fn to_model(wire: Ordered<WireInstrument>) -> Result<Session, (String, usize, String)> {
    let mut instruments = Vec::with_capacity(wire.0.len());
    for (alias, inst) in wire.0 {
        let matching = MatchConfig::from_keys(
            inst.matching.as_deref(),
            inst.tolerance,
            inst.keywords,
            inst.ignore,
            inst.repeatable,
        )
        .map_err(|e| (alias.clone(), usize::MAX, e))?;
        let matching = (!matching.is_empty()).then_some(matching);
        let mut log = Vec::with_capacity(inst.log.len());
        for (index, entry) in inst.log.into_iter().enumerate() {
            let binary = match entry.response_base64 {
                Some(text) => Some(decode_base64(&text).map_err(|e| (alias.clone(), index, e))?),
                None => None,
            };
            let error = match entry.error {
                Some(kind) => {
                    let timeout = match entry.timeout_s {
                        Some(secs) => {
                            Some(timeout_from_secs(secs).map_err(|e| (alias.clone(), index, e))?)
                        }
                        None => None,
                    };
                    Some(
                        RecordedError::new(
                            RecordedErrorKind::parse(&kind),
                            entry.error_message.unwrap_or_default(),
                        )
                        .with_timeout(timeout),
                    )
                }
                None => None,
            };
            log.push(Interaction {
                kind: InteractionKind::parse(&entry.kind),
                command: entry.command,
                response: entry.response,
                binary,
                error,
                timestamp: entry.timestamp,
            });
        }
        instruments.push((
            alias,
            InstrumentLog {
                profile: inst.profile,
                rules: InstrumentRules {
                    limits: inst.limits,
                    redact: inst.redact,
                    secrets: inst.secrets,
                    matching,
                },
                log,
            },
        ));
    }
    Ok(Session { instruments })
}

/// Reads a `timeout_s` value: a finite, non-negative number of seconds.
pub(crate) fn timeout_from_secs(secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`timeout_s` must be a non-negative number of seconds, not `{secs}`"))
}

/// Decodes a `response_base64` value, ignoring line breaks and spaces.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("`response_base64` is not valid base64: {e}"))
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Converts the model into the wire form the writer serializes.
pub(crate) fn from_model(session: &Session) -> Ordered<WireInstrument> {
    Ordered(
        session
            .instruments
            .iter()
            .map(|(alias, inst)| {
                let m = inst.rules.matching.as_ref();
                let log = inst
                    .log
                    .iter()
                    .map(|i| WireEntry {
                        kind: i.kind.as_str().to_owned(),
                        command: i.command.clone(),
                        response: i.response.clone(),
                        response_base64: i.binary.as_deref().map(encode_base64),
                        error: i.error.as_ref().map(|e| e.kind.as_str().to_owned()),
                        error_message: i.error.as_ref().map(|e| e.message.clone()),
                        timeout_s: i
                            .error
                            .as_ref()
                            .and_then(|e| e.timeout)
                            .map(|d| d.as_secs_f64()),
                        timestamp: i.timestamp,
                    })
                    .collect();
                (
                    alias.clone(),
                    WireInstrument {
                        profile: inst.profile.clone(),
                        limits: inst.rules.limits.clone(),
                        redact: inst.rules.redact.clone(),
                        secrets: inst.rules.secrets.clone(),
                        matching: m.and_then(|m| m.rule).map(|r| r.as_str().to_owned()),
                        tolerance: m.and_then(|m| m.tolerance),
                        keywords: m.map(|m| m.keywords.clone()).unwrap_or_default(),
                        ignore: m.map(|m| m.ignore.clone()).unwrap_or_default(),
                        repeatable: m.map(|m| m.repeatable.clone()).unwrap_or_default(),
                        log,
                    },
                )
            })
            .collect(),
    )
}
