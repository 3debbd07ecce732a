//! Choosing events: by name glob, by source glob, or by any predicate.

use std::fmt;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::model::EventRef;
use crate::error::{Error, Result};

type Predicate = Arc<dyn Fn(&EventRef<'_>) -> bool + Send + Sync>;

/// Which events to keep. All conditions must hold; an empty filter keeps everything.
///
/// ```
/// use replay_events::EventFilter;
///
/// let failures = EventFilter::names(["*Failed", "*Error*"])?.sources(["TradingBot"])?;
/// let big = EventFilter::all().predicate(|e| e.offset_ms() > 1000.0);
/// # Ok::<(), replay_events::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct EventFilter {
    names: Option<(GlobSet, Vec<String>)>,
    sources: Option<(GlobSet, Vec<String>)>,
    predicate: Option<Predicate>,
}

impl EventFilter {
    /// Keeps every event.
    pub fn all() -> EventFilter {
        EventFilter::default()
    }

    /// Keeps events whose name matches one of `globs` (`*`, `?`, `[abc]`, `{a,b}`; case-sensitive).
    pub fn names<I, S>(globs: I) -> Result<EventFilter>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        EventFilter::all().and_names(globs)
    }

    /// Also requires the name to match one of `globs`.
    pub fn and_names<I, S>(mut self, globs: I) -> Result<EventFilter>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.names = build("event name glob", globs)?;
        Ok(self)
    }

    /// Also requires the source to match one of `globs`.
    pub fn sources<I, S>(mut self, globs: I) -> Result<EventFilter>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.sources = build("event source glob", globs)?;
        Ok(self)
    }

    /// Also requires `predicate` to hold (it sees name, source, offset and raw data).
    pub fn predicate(
        mut self,
        predicate: impl Fn(&EventRef<'_>) -> bool + Send + Sync + 'static,
    ) -> EventFilter {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    /// Whether this filter keeps every event.
    pub fn is_all(&self) -> bool {
        self.names.is_none() && self.sources.is_none() && self.predicate.is_none()
    }

    /// Whether `event` is kept.
    pub fn matches(&self, event: &EventRef<'_>) -> bool {
        self.matches_name_source(&event.event_name, &event.source)
            && self.predicate.as_ref().is_none_or(|p| p(event))
    }

    pub(crate) fn matches_name_source(&self, name: &str, source: &str) -> bool {
        self.names
            .as_ref()
            .is_none_or(|(set, _)| set.is_match(name))
            && self
                .sources
                .as_ref()
                .is_none_or(|(set, _)| set.is_match(source))
    }
}

impl fmt::Debug for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventFilter")
            .field("names", &self.names.as_ref().map(|(_, g)| g))
            .field("sources", &self.sources.as_ref().map(|(_, g)| g))
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

fn build<I, S>(what: &'static str, globs: I) -> Result<Option<(GlobSet, Vec<String>)>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut builder = GlobSetBuilder::new();
    let mut texts = Vec::new();
    for glob in globs {
        let glob = glob.as_ref();
        let parsed = Glob::new(glob).map_err(|e| Error::InvalidOption {
            what,
            value: glob.to_owned(),
            expected: format!(
                "{}; use `*` for any run of characters, `?` for one, `[abc]` for a set, `{{a,b}}` for alternatives",
                e.kind()
            ),
        })?;
        builder.add(parsed);
        texts.push(glob.to_owned());
    }
    if texts.is_empty() {
        return Ok(None);
    }
    let set = builder.build().map_err(|e| Error::InvalidOption {
        what,
        value: texts.join(", "),
        expected: e.to_string(),
    })?;
    Ok(Some((set, texts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;
    use std::borrow::Cow;

    fn ev<'a>(name: &'a str, source: &'a str, data: &'a RawValue) -> EventRef<'a> {
        EventRef {
            timestamp_offset_ms: 0u64.into(),
            event_name: Cow::Borrowed(name),
            event_data: data,
            source: Cow::Borrowed(source),
            extra: Vec::new(),
        }
    }

    #[test]
    fn globs_sources_and_predicates_combine() {
        let data = RawValue::from_string("{\"n\":2}".into()).unwrap();
        let f = EventFilter::names(["Order*", "*Failed"])
            .unwrap()
            .sources(["Bot?"])
            .unwrap();
        assert!(f.matches(&ev("OrderPlaced", "Bot1", &data)));
        assert!(f.matches(&ev("TradeFailed", "Bot2", &data)));
        assert!(!f.matches(&ev("TradeFailed", "Exchange", &data)));
        assert!(!f.matches(&ev("MarketData", "Bot1", &data)));
        let p = EventFilter::all().predicate(|e| e.event_data.get().contains("\"n\":3"));
        assert!(!p.matches(&ev("A", "B", &data)));
        assert!(EventFilter::all().is_all());
    }

    #[test]
    fn bad_glob_is_a_clear_error() {
        let err = EventFilter::names(["Order[", "ok"])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid event name glob `Order[`"), "{err}");
    }
}
