//! Reading pyvisa-sim device files (spec 1.0 and 1.1).
//!
//! Every scalar is read as the string written in the file, as pyvisa-sim's YAML
//! `BaseLoader` does (`default: 1.0` is the text `1.0` until a spec's `type` converts it).
//! Problems are reported with `path:line:column`.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::channels::Channels;
use super::component::{Component, Getter, Property, Reply, Setter, Specs, to_bytes};
use super::device::{DeviceDef, Queue, Register, SimDevice};
use super::pattern::Pattern;
use super::resource;
use super::value::{Kind, Value, parse_py_int};
use crate::error::{Error, Result};

/// The newest spec version this reader knows (pyvisa-sim 0.7's).
const SPEC_VERSION: (u32, u32) = (1, 1);

const HINT: &str = "the device file format is pyvisa-sim's: \
https://pyvisa.readthedocs.io/projects/pyvisa-sim/en/latest/definitions.html";

/// A mapping that keeps the file's key order; `~` or an empty value is an empty mapping.
struct Entries<V>(Vec<(String, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.is_empty() {
                    Ok(Entries(Vec::new()))
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// A file: its spec version and what it defines.
#[derive(Deserialize)]
struct WireFile {
    #[expect(
        dead_code,
        reason = "validated while reading; nothing depends on the minor version"
    )]
    spec: SpecVersion,
    #[serde(default)]
    devices: Entries<WireDevice>,
    #[serde(default)]
    resources: Entries<WireResource>,
}

struct SpecVersion;

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parts: Option<Vec<u32>> = text.split('.').map(|p| p.trim().parse().ok()).collect();
        let Some(parts) = parts else {
            return Err(de::Error::custom(format_args!(
                "invalid spec version `{text}`: expected `X.Y` with integers, e.g. `1.1`"
            )));
        };
        let major = parts.first().copied().unwrap_or(0);
        let minor = parts.get(1).copied().unwrap_or(0);
        if major != SPEC_VERSION.0 || (major, minor) > SPEC_VERSION {
            return Err(de::Error::custom(format_args!(
                "spec version `{text}` is not supported: this reader knows 1.0 and 1.1 (pyvisa-sim 0.7)"
            )));
        }
        Ok(SpecVersion)
    }
}

/// `{q, r}`: spaces around both are stripped, as pyvisa-sim does.
#[derive(Deserialize)]
struct WirePair {
    q: String,
    #[serde(default)]
    r: Option<String>,
}

/// `{q, r, e}` of a setter.
#[derive(Deserialize)]
struct WireTriplet {
    q: String,
    #[serde(default)]
    r: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

fn strip(s: &str) -> &str {
    s.trim_matches(' ')
}

fn reply(text: Option<&String>) -> Reply {
    text.map(|t| to_bytes(strip(t)))
}

#[derive(Deserialize)]
struct RawSpecs {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
    #[serde(default)]
    valid: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawProperty {
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    getter: Option<WirePair>,
    #[serde(default)]
    setter: Option<WireTriplet>,
    #[serde(default)]
    specs: Option<WireSpecs>,
}

/// `specs:`, validated where it is read. Empty specs are no specs.
#[derive(Deserialize)]
#[serde(try_from = "RawSpecs")]
struct WireSpecs(Option<Specs>);

impl TryFrom<RawSpecs> for WireSpecs {
    type Error = String;
    fn try_from(s: RawSpecs) -> Result<Self, String> {
        if s.kind.is_none() && s.min.is_none() && s.max.is_none() && s.valid.is_none() {
            return Ok(WireSpecs(None));
        }
        let Some(word) = s.kind else {
            return Err(
                "the property's `specs` need a `type` (`int`, `float` or `str`)".to_owned(),
            );
        };
        let kind = Kind::parse(&word).ok_or_else(|| {
            format!("invalid property type `{word}`: valid types are `int`, `float`, `str`")
        })?;
        let convert = |text: &str, what: &str| {
            kind.convert(&Value::Str(text.to_owned()))
                .map_err(|e| format!("the spec `{what}` is not a valid {word}: {e}"))
        };
        Ok(WireSpecs(Some(Specs {
            kind,
            min: s.min.as_deref().map(|m| convert(m, "min")).transpose()?,
            max: s.max.as_deref().map(|m| convert(m, "max")).transpose()?,
            valid: s
                .valid
                .unwrap_or_default()
                .iter()
                .map(|v| convert(v, "valid"))
                .collect::<Result<_, _>>()?,
        })))
    }
}

/// A property, validated where it is read (so errors point at it).
#[derive(Deserialize)]
#[serde(try_from = "RawProperty")]
struct WireProperty {
    default: String,
    specs: Option<Specs>,
    getter: Option<(Vec<u8>, Option<String>)>,
    setter: Option<(Pattern, String, Reply, Reply)>,
}

impl TryFrom<RawProperty> for WireProperty {
    type Error = String;
    fn try_from(raw: RawProperty) -> Result<Self, String> {
        let specs = raw.specs.and_then(|s| s.0);
        let setter = match raw.setter {
            Some(t) => {
                let source = strip(&t.q).to_owned();
                let pattern = Pattern::new(&source)
                    .map_err(|e| format!("the setter pattern `{source}` cannot be used: {e}"))?;
                Some((pattern, source, reply(t.r.as_ref()), reply(t.e.as_ref())))
            }
            None => None,
        };
        Ok(WireProperty {
            default: raw.default.unwrap_or_default(),
            specs,
            getter: raw.getter.map(|g| {
                (
                    to_bytes(strip(&g.q)),
                    g.r.as_deref().map(|r| strip(r).to_owned()),
                )
            }),
            setter,
        })
    }
}

/// Builds a component from dialogues and properties; a property's default is validated
/// here (the error names it).
fn component(
    dialogues: Option<Vec<WirePair>>,
    properties: Entries<WireProperty>,
) -> Result<Component, String> {
    let mut c = Component::default();
    for d in dialogues.unwrap_or_default() {
        c.dialogues
            .push((to_bytes(strip(&d.q)), reply(d.r.as_ref())));
    }
    for (name, p) in properties.0 {
        let index = c.properties.len();
        c.properties
            .push(Property::new(&name, &p.default, p.specs)?);
        if let Some((query, response)) = p.getter {
            c.getters.push(Getter {
                query,
                property: index,
                response,
            });
        }
        if let Some((pattern, source, reply, error)) = p.setter {
            c.setters.push(Setter {
                property: index,
                pattern,
                source,
                reply,
                error,
            });
        }
    }
    Ok(c)
}

#[derive(Deserialize)]
struct RawChannel {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    can_select: Option<String>,
    #[serde(default)]
    dialogues: Option<Vec<WirePair>>,
    #[serde(default)]
    properties: Entries<WireProperty>,
    #[serde(default, deserialize_with = "no_bases")]
    #[expect(dead_code, reason = "present only to reject `bases`")]
    bases: (),
}

#[derive(Deserialize)]
#[serde(try_from = "RawChannel")]
struct WireChannel(Channels);

impl TryFrom<RawChannel> for WireChannel {
    type Error = String;
    fn try_from(raw: RawChannel) -> Result<Self, String> {
        Ok(WireChannel(Channels {
            ids: raw.ids.unwrap_or_default(),
            // pyvisa-sim compares with the exact text `False`.
            can_select: raw.can_select.as_deref() != Some("False"),
            component: component(raw.dialogues, raw.properties)?,
            selected: None,
        }))
    }
}

fn no_bases<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Err(de::Error::custom(
        "`bases` is not supported (pyvisa-sim does not implement it either): copy the definitions instead",
    ))
}

/// `error:`: one string for every error, or `{response, status_register, error_queue}`.
struct WireError {
    command_error: Reply,
    registers: Vec<(Vec<u8>, Register)>,
    queues: Vec<(Vec<u8>, Queue)>,
}

#[derive(Deserialize)]
struct RawResponses {
    #[serde(default)]
    command_error: Option<String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "accepted as pyvisa-sim accepts it; never answered"
    )]
    query_error: Option<String>,
}

impl<'de> Deserialize<'de> for WireError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ErrorVisitor;
        impl<'de> Visitor<'de> for ErrorVisitor {
            type Value = WireError;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error message, or a mapping of `response`, `status_register`, `error_queue`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireError, E> {
                Ok(WireError {
                    command_error: Some(to_bytes(v)),
                    registers: Vec::new(),
                    queues: Vec::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireError, A::Error> {
                let mut out = WireError {
                    command_error: None,
                    registers: Vec::new(),
                    queues: Vec::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "response" => {
                            let r: RawResponses = map.next_value()?;
                            // `query_error` is accepted; pyvisa-sim never answers it.
                            out.command_error = r.command_error.as_deref().map(to_bytes);
                        }
                        "status_register" => {
                            for entries in map.next_value::<Vec<Entries<String>>>()? {
                                out.registers
                                    .push(register(entries).map_err(de::Error::custom)?);
                            }
                        }
                        "error_queue" => {
                            for entries in map.next_value::<Vec<Entries<String>>>()? {
                                out.queues.push(queue(entries).map_err(de::Error::custom)?);
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(ErrorVisitor)
    }
}

fn register(entries: Entries<String>) -> Result<(Vec<u8>, Register), String> {
    let mut query = None;
    let mut bits = Vec::new();
    for (name, value) in entries.0 {
        if name == "q" {
            query = Some(to_bytes(&value));
            continue;
        }
        let n = parse_py_int(&value, 10)
            .map_err(|_| format!("status register bit `{name}: {value}` is not an integer"))?;
        bits.push((name, n as i64));
    }
    let query = query.ok_or("a status register needs its query `q`")?;
    Ok((query, Register { bits, value: 0 }))
}

fn queue(entries: Entries<String>) -> Result<(Vec<u8>, Queue), String> {
    let mut query = None;
    let mut default = None;
    let mut messages = Vec::new();
    for (name, value) in entries.0 {
        match name.as_str() {
            "q" => query = Some(to_bytes(&value)),
            "default" => default = Some(to_bytes(&value)),
            "strict" => {}
            _ => messages.push((name, to_bytes(&value))),
        }
    }
    Ok((
        query.ok_or("an error queue needs its query `q`")?,
        Queue {
            messages,
            default: default
                .ok_or("an error queue needs a `default` (the answer when it is empty)")?,
            queued: Default::default(),
        },
    ))
}

#[derive(Deserialize)]
struct RawDevice {
    #[serde(default)]
    eom: Entries<WirePair>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    dialogues: Option<Vec<WirePair>>,
    #[serde(default)]
    properties: Entries<WireProperty>,
    #[serde(default)]
    channels: Entries<WireChannel>,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default, deserialize_with = "no_bases")]
    #[expect(dead_code, reason = "present only to reject `bases`")]
    bases: (),
}

#[derive(Deserialize)]
#[serde(try_from = "RawDevice")]
struct WireDevice(DeviceDef);

impl TryFrom<RawDevice> for WireDevice {
    type Error = String;
    fn try_from(raw: RawDevice) -> Result<Self, String> {
        let mut eoms = Vec::new();
        for (key, pair) in raw.eom.0 {
            let (interface, class) = key
                .split_once(' ')
                .filter(|(_, class)| !class.contains(' '))
                .ok_or_else(|| {
                    format!("eom key `{key}` should be an interface type and a resource class, e.g. `TCPIP INSTR`")
                })?;
            let interface = resource::interface_key(interface).ok_or_else(|| {
                format!("eom key `{key}`: unknown interface type `{interface}` (ASRL, TCPIP, USB, GPIB, VXI, …)")
            })?;
            let response = pair
                .r
                .as_deref()
                .map(strip)
                .ok_or_else(|| format!("eom `{key}` needs both `q` and `r`"))?;
            eoms.push((
                (interface, class.to_owned()),
                (to_bytes(strip(&pair.q)), to_bytes(response)),
            ));
        }
        let error = raw.error.unwrap_or(WireError {
            command_error: None,
            registers: Vec::new(),
            queues: Vec::new(),
        });
        let component = component(raw.dialogues, raw.properties)?;
        Ok(WireDevice(DeviceDef {
            delimiter: raw.delimiter.unwrap_or_else(|| ";".to_owned()).into_bytes(),
            eoms,
            component,
            channels: raw.channels.0.into_iter().map(|(n, c)| (n, c.0)).collect(),
            command_error: error.command_error,
            registers: error.registers,
            queues: error.queues,
        }))
    }
}

#[derive(Deserialize)]
struct WireResource {
    device: String,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    bundled: Option<String>,
    #[serde(default)]
    channel_ids: Entries<Vec<String>>,
}

/// One resource of a file: its name and the device bound to it.
#[derive(Clone, Debug)]
struct Bound {
    name: String,
    device: String,
    interface: String,
    class: String,
    def: DeviceDef,
}

/// A pyvisa-sim device file, loaded and checked: its resources and their devices.
///
/// Each [`device`](SimFile::device) call builds a fresh device (its own state), as each
/// pyvisa-sim session of a resource does.
#[derive(Clone, Debug)]
pub struct SimFile {
    path: PathBuf,
    resources: Vec<Bound>,
}

fn read(path: &Path) -> Result<(String, WireFile)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::File {
        action: "read device file",
        path: path.to_owned(),
        source,
    })?;
    let file = yaml_serde::from_str::<WireFile>(&text)
        .map_err(|e| Error::from_yaml("device file", path, &text, &e, HINT))?;
    Ok((text, file))
}

/// The 1-based line and column of the first occurrence of `needle` in `text` (1:1 if absent).
fn position(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|col| (i + 1, col + 1)))
        .unwrap_or((1, 1))
}

impl SimFile {
    /// Reads a device file and the files its resources name (relative to its directory).
    pub fn load(path: impl AsRef<Path>) -> Result<SimFile> {
        let path = path.as_ref();
        let (text, file) = read(path)?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut others: Vec<(String, Entries<WireDevice>)> = Vec::new();
        let mut resources = Vec::new();
        for (name, r) in file.resources.0 {
            let (line, column) = position(&text, &name);
            let fail = |message: String, hint: &str| {
                Error::malformed("device file", path, &text, line, column, message, hint)
            };
            if r.bundled
                .as_deref()
                .is_some_and(|b| !matches!(b, "" | "false" | "False"))
            {
                return Err(fail(
                    format!("resource `{name}` uses a device bundled with pyvisa-sim"),
                    "copy that file next to this one and name it with `filename:` instead of `bundled:`",
                ));
            }
            let Some(parsed) = resource::parse(&name) else {
                return Err(fail(
                    format!("`{name}` is not a VISA resource name"),
                    "write e.g. `TCPIP::localhost::INSTR`, `ASRL1::INSTR`, `USB::0x1111::0x2222::0x1234::INSTR`",
                ));
            };
            let devices = match &r.filename {
                None => &file.devices,
                Some(other) => {
                    if !others.iter().any(|(f, _)| f == other) {
                        let (_, loaded) = read(&base.join(other))?;
                        others.push((other.clone(), loaded.devices));
                    }
                    &others
                        .iter()
                        .find(|(f, _)| f == other)
                        .expect("loaded above")
                        .1
                }
            };
            let Some((_, WireDevice(def))) = devices.0.iter().find(|(n, _)| *n == r.device) else {
                let known: Vec<_> = devices.0.iter().map(|(n, _)| format!("`{n}`")).collect();
                let place = r.filename.as_deref().map_or_else(
                    || "this file".to_owned(),
                    |f| format!("`{}`", base.join(f).display()),
                );
                return Err(fail(
                    format!(
                        "resource `{name}` names device `{}`, which {place} does not define",
                        r.device
                    ),
                    &format!(
                        "devices there: {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            };
            let mut def = def.clone();
            for (group, channels) in &mut def.channels {
                if let Some((_, ids)) = r.channel_ids.0.iter().find(|(g, _)| g == group)
                    && !ids.is_empty()
                {
                    channels.ids = ids.clone();
                }
            }
            resources.push(Bound {
                name,
                device: r.device,
                interface: parsed.interface,
                class: parsed.class,
                def,
            });
        }
        Ok(SimFile {
            path: path.to_owned(),
            resources,
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The resource names, as written in the file.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|r| r.name.as_str())
    }

    /// The one resource of a file that has exactly one (a `sim:` address may omit it).
    pub(crate) fn only_resource(&self) -> Result<String, String> {
        match self.resources.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => Err(format!(
                "`{}` defines no `resources:`; add one",
                self.path.display()
            )),
            many => Err(format!(
                "`{}` defines several resources; name one after `#`: {}",
                self.path.display(),
                many.iter()
                    .map(|r| format!("`sim:…#{}`", r.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// A fresh device for `resource` (as written in the file, or any equivalent VISA form:
    /// `TCPIP::host::INSTR` is `TCPIP0::host::inst0::INSTR`).
    pub fn device(&self, resource: &str) -> Result<SimDevice> {
        let bound = self
            .resources
            .iter()
            .find(|r| r.name == resource.trim())
            .or_else(|| {
                self.resources
                    .iter()
                    .find(|r| resource::same(&r.name, resource))
            })
            .ok_or_else(|| Error::UnknownInstrument {
                alias: resource.to_owned(),
                where_: format!("device file `{}`", self.path.display()),
                known: self.resources().map(str::to_owned).collect(),
                hint: "name one of its `resources:` after `#` in the `sim:` address".to_owned(),
            })?;
        Ok(SimDevice::new(
            &bound.device,
            &bound.name,
            &bound.interface,
            &bound.class,
            bound.def.clone(),
        ))
    }
}

impl SimDevice {
    /// Loads `path` and builds the device of `resource` (see [`SimFile::device`]).
    pub fn open(path: impl AsRef<Path>, resource: &str) -> Result<SimDevice> {
        SimFile::load(path)?.device(resource)
    }
}
