//! Redaction rules (`redact: [{pattern, replace}]`) and declared secrets (`secrets: [VAR]`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::redact_bytes::{self, Template};

/// One `redact:` rule: every match of `pattern` (a [`regex_lite`] pattern: the `regex`
/// crate's syntax with ASCII-only `\d`, `\w`, `\s`, `\b` and `(?i)`) in a command or a
/// response, binary responses included, is replaced by `replace` before anything is written.
///
/// `replace` may refer to capture groups (`$1`, `${name}`); write `$$` for a literal `$`.
/// A binary payload is searched byte by byte: `.` is one byte and `\xHH` the byte `HH`
/// (see `docs/bench-safety.md`).
///
/// ```
/// let rule = replay_core::RedactRule::new(r"CN\d{8}", "<serial>").unwrap();
/// assert_eq!(rule.pattern(), r"CN\d{8}");
/// assert!(replay_core::RedactRule::new("(", "x").is_err());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "WireRule", into = "WireRule")]
pub struct RedactRule {
    regex: regex_lite::Regex,
    replace: String,
    /// `replace` parsed for binary payloads.
    template: Template,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRule {
    pattern: String,
    replace: String,
}

impl TryFrom<WireRule> for RedactRule {
    type Error = String;
    fn try_from(wire: WireRule) -> Result<Self, String> {
        RedactRule::new(&wire.pattern, &wire.replace)
    }
}

impl From<RedactRule> for WireRule {
    fn from(rule: RedactRule) -> WireRule {
        WireRule {
            pattern: rule.pattern().to_owned(),
            replace: rule.replace,
        }
    }
}

impl PartialEq for RedactRule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern() == other.pattern() && self.replace == other.replace
    }
}

impl RedactRule {
    /// Compiles a rule; the error says what is wrong with the pattern.
    pub fn new(pattern: &str, replace: &str) -> Result<RedactRule, String> {
        if pattern.is_empty() {
            return Err(
                "a `redact` rule has an empty `pattern`; give a regular expression such as `CN\\d{8}`"
                    .to_owned(),
            );
        }
        let regex = regex_lite::Regex::new(pattern).map_err(|e| {
            format!(
                "`redact` pattern `{pattern}` is not a valid regular expression: {}",
                crate::regex_error::describe(&e)
            )
        })?;
        if regex.is_match("") {
            return Err(format!(
                "`redact` pattern `{pattern}` matches the empty string, so it would insert `{replace}` everywhere; make it match at least one character"
            ));
        }
        Ok(RedactRule {
            template: Template::new(replace, &regex),
            regex,
            replace: replace.to_owned(),
        })
    }

    /// The regular expression.
    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    /// What a match is replaced with.
    pub fn replacement(&self) -> &str {
        &self.replace
    }
}

/// The placeholder a secret's value is recorded as: `${NAME}`.
pub(crate) fn placeholder(name: &str) -> String {
    format!("${{{name}}}")
}

/// Checks a `secrets:` entry: the name of an environment variable.
pub(crate) fn check_secret_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`secrets` entry `{name}` is not an environment variable name; list variable names such as `LAB_TOKEN`, not their values"
        ))
    }
}

/// A declared secret and its value in this process's environment (if set).
#[derive(Clone, Debug)]
pub(crate) struct Secret {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
}

/// What one instrument redacts: its secrets (values read from the environment) and its
/// rules, applied in that order (a secret never half-matched by a rule).
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    /// Longest value first, so a secret that contains another is replaced whole.
    secrets: Vec<Secret>,
    rules: Vec<RedactRule>,
}

impl Redactor {
    /// Reads the values of `secrets` from the process environment; an empty value counts as
    /// unset (it would match everywhere).
    pub(crate) fn new(secrets: &[String], rules: &[RedactRule]) -> Redactor {
        Redactor::with_values(
            secrets
                .iter()
                .map(|name| Secret {
                    name: name.clone(),
                    value: std::env::var(name).ok().filter(|v| !v.is_empty()),
                })
                .collect(),
            rules,
        )
    }

    pub(crate) fn with_values(mut secrets: Vec<Secret>, rules: &[RedactRule]) -> Redactor {
        secrets.sort_by_key(|s| std::cmp::Reverse(s.value.as_ref().map_or(0, String::len)));
        Redactor {
            secrets,
            rules: rules.to_vec(),
        }
    }

    /// Whether this redacts nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.secrets.iter().all(|s| s.value.is_none())
    }

    /// The text as it may be written: secret values as `${NAME}`, then every rule applied.
    pub(crate) fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if let Some(value) = &secret.value
                && out.contains(value.as_str())
            {
                out = Cow::Owned(out.replace(value.as_str(), &placeholder(&secret.name)));
            }
        }
        for rule in &self.rules {
            if let Cow::Owned(replaced) = rule.regex.replace_all(&out, rule.replace.as_str()) {
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// [`Redactor::text`] for bytes (binary payloads).
    pub(crate) fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.is_empty() {
            return Cow::Borrowed(bytes);
        }
        let mut out = Cow::Borrowed(bytes);
        for secret in &self.secrets {
            if let Some(value) = &secret.value {
                let value = value.as_bytes();
                if find(&out, value).is_some() {
                    out = Cow::Owned(replace_bytes(
                        &out,
                        value,
                        placeholder(&secret.name).as_bytes(),
                    ));
                }
            }
        }
        for rule in &self.rules {
            if let Cow::Owned(replaced) =
                redact_bytes::replace_all(&rule.regex, &rule.template, &out)
            {
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// The command to send to the live instrument: every `${NAME}` of a declared secret
    /// replaced by its value. `Err(name)` when that variable is not set.
    pub(crate) fn expand<'a>(&self, command: &'a str) -> Result<Cow<'a, str>, String> {
        let mut out = Cow::Borrowed(command);
        for secret in &self.secrets {
            let placeholder = placeholder(&secret.name);
            if out.contains(&placeholder) {
                let Some(value) = &secret.value else {
                    return Err(secret.name.clone());
                };
                out = Cow::Owned(out.replace(&placeholder, value));
            }
        }
        Ok(out)
    }

    /// The first declared secret whose value occurs in `text`, by name.
    pub(crate) fn leaked_in(&self, text: &[u8]) -> Option<&str> {
        self.secrets.iter().find_map(|s| {
            let value = s.value.as_deref()?;
            find(text, value.as_bytes()).map(|_| s.name.as_str())
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, value: &str) -> Secret {
        Secret {
            name: name.to_owned(),
            value: Some(value.to_owned()),
        }
    }

    #[test]
    fn rules_apply_to_text_and_bytes() {
        let r = Redactor::with_values(vec![], &[RedactRule::new(r"CN\d{8}", "<serial>").unwrap()]);
        assert_eq!(
            r.text("Keysight,EDU36311A,CN61130056,K-01"),
            "Keysight,EDU36311A,<serial>,K-01"
        );
        assert_eq!(
            r.bytes(b"\x00\xffCN12345678\x01").as_ref(),
            b"\x00\xff<serial>\x01"
        );
        assert!(matches!(r.text("no serial"), Cow::Borrowed(_)));
    }

    #[test]
    fn capture_groups_in_the_replacement() {
        let r = Redactor::with_values(
            vec![],
            &[RedactRule::new(r"host=(\w+)\.lab", "host=$1.<domain>").unwrap()],
        );
        assert_eq!(r.text("host=psu1.lab"), "host=psu1.<domain>");
    }

    #[test]
    fn secrets_become_placeholders_longest_first_before_rules() {
        let r = Redactor::with_values(
            vec![secret("SHORT", "abc"), secret("LONG", "abcdef")],
            &[RedactRule::new("abc", "<x>").unwrap()],
        );
        assert_eq!(r.text("PASS abcdef; abc"), "PASS ${LONG}; ${SHORT}");
        assert_eq!(r.bytes(b"\x00abcdef").as_ref(), b"\x00${LONG}");
        assert_eq!(r.leaked_in(b"xxabcxx"), Some("SHORT"));
        assert_eq!(r.leaked_in(b"${SHORT}"), None);
    }

    #[test]
    fn placeholders_expand_only_when_set() {
        let r = Redactor::with_values(
            vec![
                secret("LAB_TOKEN", "s3cr3t"),
                Secret {
                    name: "UNSET".to_owned(),
                    value: None,
                },
            ],
            &[],
        );
        assert_eq!(r.expand("PASS ${LAB_TOKEN}").unwrap(), "PASS s3cr3t");
        assert_eq!(r.expand("PASS ${UNSET}").unwrap_err(), "UNSET");
        assert_eq!(r.expand("PASS ${OTHER}").unwrap(), "PASS ${OTHER}");
    }

    #[test]
    fn invalid_rules_and_names_are_explained() {
        assert!(
            RedactRule::new("(", "x")
                .unwrap_err()
                .contains("not a valid regular expression")
        );
        assert!(
            RedactRule::new("a*", "x")
                .unwrap_err()
                .contains("empty string")
        );
        assert!(
            RedactRule::new("", "x")
                .unwrap_err()
                .contains("empty `pattern`")
        );
        assert!(check_secret_name("LAB_TOKEN").is_ok());
        assert!(check_secret_name("9X").is_err());
        assert!(
            check_secret_name("hunter2!")
                .unwrap_err()
                .contains("not their values")
        );
    }
}
