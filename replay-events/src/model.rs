//! The recording model: what an event recording holds, independent of the file format.
//!
//! Event data is kept as the exact JSON text it was read as ([`RawValue`]), so numbers keep
//! the digits they were written with (`67500.0`, `1e400`, `12345678901234567890123`) and a
//! recording read then written carries the same data.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Number;
use serde_json::value::RawValue;

/// Keys of a file the model does not know, kept in file order so they round-trip.
pub type ExtraKeys = Vec<(String, Box<RawValue>)>;

/// A whole event recording in memory: the seeds' JSON document.
///
/// Keys are written in the seeds' order (`session_name`, `start_time`, `duration_ms`,
/// `total_events`, `events`); `total_events` is always the number of [`Recording::events`].
#[derive(Clone, Debug)]
pub struct Recording {
    /// The session name given to the recorder (`bull_run_2025`).
    pub session_name: String,
    /// When recording started, as written (ISO 8601; we write `2025-10-17T10:00:00.000000+00:00`).
    pub start_time: String,
    /// How long the recording ran, in milliseconds, as written (integer or float).
    pub duration_ms: Number,
    /// Top-level keys this model does not know, written back after `events`.
    pub extra: ExtraKeys,
    /// The events in file order.
    pub events: Vec<RecordedEvent>,
}

/// The header of a recording: everything but the events.
///
/// In a JSON Lines recording this is the first line.
#[derive(Clone, Debug)]
pub struct Header {
    /// The session name.
    pub session_name: String,
    /// When recording started, as written.
    pub start_time: String,
    /// How long the recording ran, in milliseconds, as written.
    pub duration_ms: Number,
    /// How many events follow.
    pub total_events: u64,
    /// Keys this model does not know, in file order.
    pub extra: ExtraKeys,
}

/// One recorded event, owned.
#[derive(Clone, Debug)]
pub struct RecordedEvent {
    /// Milliseconds since the recording started, as written (the recorder writes integers).
    pub timestamp_offset_ms: Number,
    /// The event's name (for a Rust enum, its variant name).
    pub event_name: String,
    /// The event's payload, exactly as written.
    pub event_data: Box<RawValue>,
    /// Who published the event (`MarketDataAgent`).
    pub source: String,
    /// Keys this model does not know, in file order, written back after `source`.
    pub extra: ExtraKeys,
}

/// A borrowed view of one event, as the streaming readers and analyses see it.
#[derive(Clone, Debug)]
pub struct EventRef<'a> {
    /// Milliseconds since the recording started, as written.
    pub timestamp_offset_ms: Number,
    /// The event's name.
    pub event_name: Cow<'a, str>,
    /// The event's payload, exactly as written.
    pub event_data: &'a RawValue,
    /// Who published the event.
    pub source: Cow<'a, str>,
    /// Keys the model does not know.
    pub extra: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl Recording {
    /// An empty recording named `session_name` that started at `start_time`.
    pub fn new(session_name: impl Into<String>, start_time: impl Into<String>) -> Recording {
        Recording {
            session_name: session_name.into(),
            start_time: start_time.into(),
            duration_ms: Number::from(0u64),
            extra: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The header of this recording (`total_events` is the number of events).
    pub fn header(&self) -> Header {
        Header {
            session_name: self.session_name.clone(),
            start_time: self.start_time.clone(),
            duration_ms: self.duration_ms.clone(),
            total_events: self.events.len() as u64,
            extra: self.extra.clone(),
        }
    }

    /// An empty recording with this header.
    pub fn from_header(header: Header) -> Recording {
        Recording {
            session_name: header.session_name,
            start_time: header.start_time,
            duration_ms: header.duration_ms,
            extra: header.extra,
            events: Vec::new(),
        }
    }

    /// `duration_ms` as a float (0 if it is not a number a float can hold).
    pub fn duration_ms_f64(&self) -> f64 {
        number_f64(&self.duration_ms)
    }
}

impl Header {
    /// `duration_ms` as a float.
    pub fn duration_ms_f64(&self) -> f64 {
        number_f64(&self.duration_ms)
    }
}

pub(crate) fn number_f64(n: &Number) -> f64 {
    n.as_f64().filter(|f| f.is_finite()).unwrap_or(0.0)
}

impl RecordedEvent {
    /// An event at `offset_ms` with `data` as its payload.
    pub fn new(
        offset_ms: u64,
        event_name: impl Into<String>,
        event_data: Box<RawValue>,
        source: impl Into<String>,
    ) -> RecordedEvent {
        RecordedEvent {
            timestamp_offset_ms: Number::from(offset_ms),
            event_name: event_name.into(),
            event_data,
            source: source.into(),
            extra: Vec::new(),
        }
    }

    /// The offset in milliseconds as a float (negative or non-numeric offsets count as 0).
    pub fn offset_ms(&self) -> f64 {
        number_f64(&self.timestamp_offset_ms).max(0.0)
    }

    /// The offset from the start of the recording; an offset too large for a [`Duration`]
    /// (`1e300`) saturates to [`Duration::MAX`], "far future".
    pub fn offset(&self) -> Duration {
        Duration::try_from_secs_f64(self.offset_ms() / 1000.0).unwrap_or(Duration::MAX)
    }

    /// The payload parsed as a [`serde_json::Value`].
    ///
    /// Fails for numbers a float cannot hold (`1e400`); [`RecordedEvent::event_data`] still
    /// has them as written.
    pub fn data_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.event_data.get())
    }

    /// Decodes this event into `E`; see [`decode_event`].
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, serde_json::Error> {
        decode_event(&self.event_name, &self.event_data)
    }

    /// A borrowed view of this event.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            timestamp_offset_ms: self.timestamp_offset_ms.clone(),
            event_name: Cow::Borrowed(&self.event_name),
            event_data: &self.event_data,
            source: Cow::Borrowed(&self.source),
            extra: self
                .extra
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), &**v))
                .collect(),
        }
    }
}

fn extra_eq(a: &ExtraKeys, b: &ExtraKeys) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
}

/// Equal when every field is, event data compared as written (byte for byte).
impl PartialEq for RecordedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.timestamp_offset_ms == other.timestamp_offset_ms
            && self.event_name == other.event_name
            && self.event_data.get() == other.event_data.get()
            && self.source == other.source
            && extra_eq(&self.extra, &other.extra)
    }
}

/// Equal when every field is, event data compared as written (byte for byte).
impl PartialEq for Recording {
    fn eq(&self, other: &Self) -> bool {
        self.session_name == other.session_name
            && self.start_time == other.start_time
            && self.duration_ms == other.duration_ms
            && extra_eq(&self.extra, &other.extra)
            && self.events == other.events
    }
}

/// Equal when every field is.
impl PartialEq for Header {
    fn eq(&self, other: &Self) -> bool {
        self.session_name == other.session_name
            && self.start_time == other.start_time
            && self.duration_ms == other.duration_ms
            && self.total_events == other.total_events
            && extra_eq(&self.extra, &other.extra)
    }
}

impl EventRef<'_> {
    /// The offset in milliseconds as a float (negative or non-numeric offsets count as 0).
    pub fn offset_ms(&self) -> f64 {
        number_f64(&self.timestamp_offset_ms).max(0.0)
    }

    /// An owned copy of this event.
    pub fn to_owned_event(&self) -> RecordedEvent {
        RecordedEvent {
            timestamp_offset_ms: self.timestamp_offset_ms.clone(),
            event_name: self.event_name.clone().into_owned(),
            event_data: self.event_data.to_owned(),
            source: self.source.clone().into_owned(),
            extra: self
                .extra
                .iter()
                .map(|(k, v)| (k.clone().into_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// Decodes a recorded event into the user's type `E`.
///
/// First as serde's externally tagged enum (`{"<event_name>": <event_data>}`, serde's
/// default for enums: the variant named like the event, holding its data), then, if that
/// fails, `E` from the data alone (for a recording of one struct type). The error is the
/// one of the enum form.
pub fn decode_event<E: DeserializeOwned>(
    event_name: &str,
    event_data: &RawValue,
) -> Result<E, serde_json::Error> {
    let data = event_data.get();
    let mut tagged = String::with_capacity(event_name.len() + data.len() + 8);
    tagged.push('{');
    push_json_string(&mut tagged, event_name);
    tagged.push(':');
    tagged.push_str(data);
    tagged.push('}');
    match serde_json::from_str::<E>(&tagged) {
        Ok(event) => Ok(event),
        Err(tagged_error) => serde_json::from_str::<E>(data).map_err(|_| tagged_error),
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                use fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A string that borrows from the input when it can (no escapes in it).
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for EventRef<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = EventRef<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an event object with `timestamp_offset_ms`, `event_name`, `event_data` and `source`",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut offset: Option<Number> = None;
        let mut name: Option<Cow<'de, str>> = None;
        let mut data: Option<&'de RawValue> = None;
        let mut source: Option<Cow<'de, str>> = None;
        let mut extra = Vec::new();
        while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
            match &*key {
                "timestamp_offset_ms" => {
                    check_dup::<A>(offset.is_some(), "timestamp_offset_ms")?;
                    offset = Some(map.next_value()?);
                }
                "event_name" => {
                    check_dup::<A>(name.is_some(), "event_name")?;
                    name = Some(map.next_value::<CowStr<'de>>()?.0);
                }
                "event_data" => {
                    check_dup::<A>(data.is_some(), "event_data")?;
                    data = Some(map.next_value()?);
                }
                "source" => {
                    check_dup::<A>(source.is_some(), "source")?;
                    source = Some(map.next_value::<CowStr<'de>>()?.0);
                }
                _ => {
                    let value: &'de RawValue = map.next_value()?;
                    extra.push((key, value));
                }
            }
        }
        Ok(EventRef {
            timestamp_offset_ms: offset
                .ok_or_else(|| de::Error::missing_field("timestamp_offset_ms"))?,
            event_name: name.ok_or_else(|| de::Error::missing_field("event_name"))?,
            event_data: data.ok_or_else(|| de::Error::missing_field("event_data"))?,
            source: source.ok_or_else(|| de::Error::missing_field("source"))?,
            extra,
        })
    }
}

fn check_dup<'de, A: MapAccess<'de>>(seen: bool, field: &'static str) -> Result<(), A::Error> {
    if seen {
        Err(de::Error::duplicate_field(field))
    } else {
        Ok(())
    }
}

impl<'de> Deserialize<'de> for RecordedEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through an owned seed: `&RawValue` cannot borrow from every deserializer, so read
        // the event as a raw value first, then as an `EventRef` over that text.
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        let event: EventRef<'_> = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
        Ok(event.to_owned_event())
    }
}

/// The document-level fields, shared by the JSON reader (with `events`) and the JSON Lines
/// header reader (without).
pub(crate) struct HeaderFields {
    pub(crate) header: Header,
    pub(crate) events: Option<Vec<RecordedEvent>>,
}

/// Reads a recording document; `allow_events` says whether an `events` key is expected.
pub(crate) struct HeaderSeed {
    pub(crate) with_events: bool,
}

impl<'de> de::DeserializeSeed<'de> for HeaderSeed {
    type Value = HeaderFields;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// A list of events read straight into owned events, borrowing while parsing.
struct EventList(Vec<RecordedEvent>);

impl<'de> Deserialize<'de> for EventList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EventList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of events")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<EventList, A::Error> {
                let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(event) = seq.next_element::<EventRef<'de>>()? {
                    events.push(event.to_owned_event());
                }
                Ok(EventList(events))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

impl<'de> Visitor<'de> for HeaderSeed {
    type Value = HeaderFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.with_events {
            f.write_str("a recording object with `session_name`, `start_time`, `duration_ms`, `total_events` and `events`")
        } else {
            f.write_str("a header object with `session_name`, `start_time`, `duration_ms` and `total_events`")
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut session_name: Option<String> = None;
        let mut start_time: Option<String> = None;
        let mut duration_ms: Option<Number> = None;
        let mut total_events: Option<u64> = None;
        let mut events: Option<Vec<RecordedEvent>> = None;
        let mut extra = Vec::new();
        while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
            match &*key {
                "session_name" => {
                    check_dup::<A>(session_name.is_some(), "session_name")?;
                    session_name = Some(map.next_value()?);
                }
                "start_time" => {
                    check_dup::<A>(start_time.is_some(), "start_time")?;
                    start_time = Some(map.next_value()?);
                }
                "duration_ms" => {
                    check_dup::<A>(duration_ms.is_some(), "duration_ms")?;
                    duration_ms = Some(map.next_value()?);
                }
                "total_events" => {
                    check_dup::<A>(total_events.is_some(), "total_events")?;
                    total_events = Some(map.next_value()?);
                }
                "events" if self.with_events => {
                    check_dup::<A>(events.is_some(), "events")?;
                    events = Some(map.next_value::<EventList>()?.0);
                }
                "events" => {
                    return Err(de::Error::custom(
                        "a JSON Lines header has no `events` (one event per line follows it); \
                         name a whole-document recording `.json`",
                    ));
                }
                _ => {
                    let value: Box<RawValue> = map.next_value()?;
                    extra.push((key.into_owned(), value));
                }
            }
        }
        let events = if self.with_events {
            Some(events.ok_or_else(|| de::Error::missing_field("events"))?)
        } else {
            None
        };
        let header = Header {
            session_name: session_name.ok_or_else(|| de::Error::missing_field("session_name"))?,
            start_time: start_time.ok_or_else(|| de::Error::missing_field("start_time"))?,
            duration_ms: duration_ms.ok_or_else(|| de::Error::missing_field("duration_ms"))?,
            total_events: match (&events, total_events) {
                (Some(events), _) => events.len() as u64,
                (None, Some(total)) => total,
                (None, None) => return Err(de::Error::missing_field("total_events")),
            },
            extra,
        };
        Ok(HeaderFields { header, events })
    }
}

impl Serialize for RecordedEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(4 + self.extra.len()))?;
        map.serialize_entry("timestamp_offset_ms", &self.timestamp_offset_ms)?;
        map.serialize_entry("event_name", &self.event_name)?;
        map.serialize_entry("event_data", &self.event_data)?;
        map.serialize_entry("source", &self.source)?;
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    enum Ev {
        Tick,
        Price { symbol: String, price: f64 },
        Count(u32),
    }

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn decodes_struct_newtype_and_unit_variants() {
        let p: Ev = decode_event("Price", &raw(r#"{"symbol":"BTC","price":1.5}"#)).unwrap();
        assert_eq!(
            p,
            Ev::Price {
                symbol: "BTC".into(),
                price: 1.5
            }
        );
        assert_eq!(
            decode_event::<Ev>("Count", &raw("7")).unwrap(),
            Ev::Count(7)
        );
        assert_eq!(decode_event::<Ev>("Tick", &raw("null")).unwrap(), Ev::Tick);
        assert!(decode_event::<Ev>("Unknown", &raw("{}")).is_err());
    }

    #[test]
    fn decodes_plain_struct_from_data() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct P {
            x: i32,
        }
        assert_eq!(
            decode_event::<P>("Anything", &raw(r#"{"x":3}"#)).unwrap(),
            P { x: 3 }
        );
    }

    #[test]
    fn json_string_escapes() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u0001é""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\n\u{1}é");
    }
}
