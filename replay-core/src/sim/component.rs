//! What a device and its channels share: dialogues, properties with getters and setters.

use std::collections::HashMap;

use super::SimError;
use super::pattern::{Parsed, Pattern};
use super::pyformat;
use super::random::Random;
use super::value::{Kind, Value, ValueError};

/// A reply: bytes to send, or `None` for "no response" (a dialogue or setter without `r`).
pub(crate) type Reply = Option<Vec<u8>>;

/// pyvisa-sim's `to_bytes`: the two-character sequences `\r` and `\n` (as written in a
/// single-quoted or plain YAML scalar) become CR and LF.
pub(crate) fn to_bytes(text: &str) -> Vec<u8> {
    text.replace("\\r", "\r").replace("\\n", "\n").into_bytes()
}

/// `specs:` of a property.
#[derive(Clone, Debug)]
pub(crate) struct Specs {
    pub(crate) kind: Kind,
    pub(crate) min: Option<Value>,
    pub(crate) max: Option<Value>,
    pub(crate) valid: Vec<Value>,
}

/// A property: its specs, default and current value(s). A device property has one value;
/// a channel property one per channel id (the default until set).
#[derive(Clone, Debug)]
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) specs: Option<Specs>,
    pub(crate) default: Value,
    pub(crate) values: HashMap<String, Value>,
}

impl Property {
    /// A property with its default validated, as pyvisa-sim does when it loads the file.
    pub(crate) fn new(name: &str, default: &str, specs: Option<Specs>) -> Result<Property, String> {
        let mut property = Property {
            name: name.to_owned(),
            specs,
            default: Value::Str(String::new()),
            values: HashMap::new(),
        };
        property.default = property
            .validate(Value::Str(default.to_owned()))
            .map_err(|e| format!("the default of property `{name}` is invalid: {e}"))?;
        Ok(property)
    }

    /// pyvisa-sim's `validate_value`: convert to the spec's type, then check min, max, valid.
    pub(crate) fn validate(&self, value: Value) -> Result<Value, ValueError> {
        let Some(specs) = &self.specs else {
            return Ok(value);
        };
        let value = specs.kind.convert(&value)?;
        let name = &self.name;
        let show = Value::to_py_str;
        if let Some(min) = &specs.min
            && value.less_than(min)
        {
            return Err(ValueError(format!(
                "value provided for {name}: {} is less than the minimum {}",
                show(&value),
                show(min)
            )));
        }
        if let Some(max) = &specs.max
            && max.less_than(&value)
        {
            return Err(ValueError(format!(
                "value provided for {name}: {} is more than the maximum {}",
                show(&value),
                show(max)
            )));
        }
        if !specs.valid.is_empty() && !specs.valid.iter().any(|v| v.py_eq(&value)) {
            return Err(ValueError(format!(
                "value provided for {name}: {} is not one of the valid values",
                show(&value)
            )));
        }
        Ok(value)
    }

    /// The value for `key` (`""` for a device property, the channel id otherwise).
    pub(crate) fn get(&self, key: &str) -> &Value {
        self.values.get(key).unwrap_or(&self.default)
    }

    /// Validates and stores `value` for `key`.
    pub(crate) fn set(&mut self, key: &str, value: Value) -> Result<(), ValueError> {
        let value = self.validate(value)?;
        self.values.insert(key.to_owned(), value);
        Ok(())
    }
}

/// A getter: its query and response template.
#[derive(Clone, Debug)]
pub(crate) struct Getter {
    pub(crate) query: Vec<u8>,
    pub(crate) property: usize,
    /// `None`: the getter has no `r` (pyvisa-sim fails when it is used).
    pub(crate) response: Option<String>,
}

/// A setter: its parse pattern, reply on success and reply on a rejected value.
#[derive(Clone, Debug)]
pub(crate) struct Setter {
    pub(crate) property: usize,
    pub(crate) pattern: Pattern,
    pub(crate) source: String,
    pub(crate) reply: Reply,
    pub(crate) error: Reply,
}

/// Dialogues and properties of a device or of its channels.
#[derive(Clone, Debug, Default)]
pub(crate) struct Component {
    pub(crate) dialogues: Vec<(Vec<u8>, Reply)>,
    pub(crate) getters: Vec<Getter>,
    pub(crate) setters: Vec<Setter>,
    pub(crate) properties: Vec<Property>,
}

impl Component {
    /// The property named `name`, if any.
    pub(crate) fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Looks `query` up among `dialogues` (the last definition of a query wins, as in a
    /// Python dict); `RANDOM(…)` responses are generated.
    pub(crate) fn match_dialogue(
        dialogues: &[(Vec<u8>, Reply)],
        query: &[u8],
        random: &mut Random,
    ) -> Result<Option<Reply>, SimError> {
        let Some((_, reply)) = dialogues.iter().rev().find(|(q, _)| q == query) else {
            return Ok(None);
        };
        match reply {
            Some(bytes) => {
                let text = String::from_utf8_lossy(bytes);
                if text.contains("RANDOM") {
                    Ok(Some(Some(random.response(&text)?.into_bytes())))
                } else {
                    Ok(Some(Some(bytes.clone())))
                }
            }
            None => Ok(Some(None)),
        }
    }

    /// Looks `query` up among `getters` (pairs of query and getter), formatting the
    /// property's value for `key`.
    pub(crate) fn match_getter<'g>(
        &self,
        getters: impl DoubleEndedIterator<Item = (Vec<u8>, &'g Getter)>,
        query: &[u8],
        key: &str,
        random: &mut Random,
    ) -> Result<Option<Vec<u8>>, SimError> {
        let Some((_, getter)) = getters.rev().find(|(q, _)| q == query) else {
            return Ok(None);
        };
        let property = &self.properties[getter.property];
        let Some(template) = &getter.response else {
            return Err(SimError::new(format!(
                "the getter of property `{}` has no `r`",
                property.name
            )));
        };
        let text = if template.contains("RANDOM") {
            random.response(template)?
        } else {
            pyformat::format(template, std::slice::from_ref(property.get(key)), &[]).map_err(
                |e| {
                    SimError::new(format!(
                        "formatting `{template}` for property `{}` failed: {e}",
                        property.name
                    ))
                },
            )?
        };
        Ok(Some(text.into_bytes()))
    }

    /// pyvisa-sim's device-level setter matching: the first setter whose pattern matches
    /// and whose value validates answers; a rejected value answers the setter's `e`, or
    /// tries the next setter when it has none.
    pub(crate) fn match_device_setter(&mut self, query: &str) -> Result<Option<Reply>, SimError> {
        for i in 0..self.setters.len() {
            let setter = &self.setters[i];
            let Some(parsed) = setter.pattern.parse(query) else {
                continue;
            };
            let property = setter.property;
            let (reply, error) = (setter.reply.clone(), setter.error.clone());
            let value = match parsed {
                Parsed::One(v) => v,
                other if self.properties[property].specs.is_none() => Value::Str(other.to_py_str()),
                other => {
                    return Err(SimError::new(format!(
                        "setter `{}` yields {} where property `{}` expects one value",
                        self.setters[i].source,
                        other.to_py_str(),
                        self.properties[property].name
                    )));
                }
            };
            match self.properties[property].set("", value) {
                Ok(()) => return Ok(Some(reply)),
                Err(_) => {
                    if error.is_some() {
                        return Ok(Some(error));
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(kind: Kind, min: Option<f64>, max: Option<f64>) -> Option<Specs> {
        Some(Specs {
            kind,
            min: min.map(Value::Float),
            max: max.map(Value::Float),
            valid: vec![],
        })
    }

    #[test]
    fn defaults_are_validated_and_typed() {
        let p = Property::new("v", "1.0", specs(Kind::Float, Some(1.0), Some(6.0))).unwrap();
        assert_eq!(p.default, Value::Float(1.0));
        assert!(Property::new("v", "0.5", specs(Kind::Float, Some(1.0), None)).is_err());
        assert!(Property::new("n", "1.0", specs(Kind::Int, None, None)).is_err());
        // Without specs every value stays the string the YAML file held.
        let p = Property::new("s", "0", None).unwrap();
        assert_eq!(p.default, Value::Str("0".into()));
    }

    #[test]
    fn set_rejects_out_of_range_and_invalid() {
        let mut p = Property::new("v", "1", specs(Kind::Float, Some(1.0), Some(6.0))).unwrap();
        assert!(p.set("", Value::Float(7.0)).is_err());
        assert_eq!(p.get(""), &Value::Float(1.0));
        p.set("", Value::Str("2.5".into())).unwrap();
        assert_eq!(p.get(""), &Value::Float(2.5));
        let mut q = Property::new(
            "o",
            "0",
            Some(Specs {
                kind: Kind::Int,
                min: None,
                max: None,
                valid: vec![Value::Int(0), Value::Int(1)],
            }),
        )
        .unwrap();
        assert!(q.set("", Value::Int(2)).is_err());
        q.set("", Value::Float(1.9)).unwrap();
        assert_eq!(
            q.get(""),
            &Value::Int(1),
            "int(1.9) truncates, as in Python"
        );
    }

    #[test]
    fn escapes_become_control_characters() {
        assert_eq!(to_bytes(r"a\r\nb"), b"a\r\nb");
    }
}
