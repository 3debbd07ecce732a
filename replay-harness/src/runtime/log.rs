//! `REPLAY_LOG`: a log of every exchange through `tracing`, without a subscriber of one's own.
//!
//! `REPLAY_LOG=debug cargo test` prints one line per exchange (instrument, kind, command,
//! response or error, the replayer's match decision) inside a span per test. The lines go
//! through libtest's capture (the test writer), so a passing test stays quiet unless
//! `--nocapture` is given, and a failing one shows its exchanges with its failure.
//! Everything logged is already redacted. A program that installed its own global
//! subscriber keeps it: ours is only installed when none is.
//!
//! The subscriber is ours, not `tracing-subscriber`'s (three crates and ~2 CPU-seconds on
//! the critical path of a user's cold test build, for one log format): it prints what
//! `tracing-subscriber`'s default format prints, without the timestamp —
//! `LEVEL span{fields}:span{fields}: message field=value`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// The variable that turns the exchange log on.
pub const LOG_VAR: &str = "REPLAY_LOG";

/// The values `REPLAY_LOG` accepts, for error messages.
pub const LOG_VALUES: &str = "`off` (the default), `error`, `warn`, `info` (one line per test), `debug` (every exchange), `trace`";

/// Parses `REPLAY_LOG` (`None` when unset or empty: no log).
pub fn parse_log_level(value: Option<&str>) -> Result<Option<LevelFilter>, String> {
    let level = match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "off" | "0") => return Ok(None),
        Some("error") => LevelFilter::ERROR,
        Some("warn") => LevelFilter::WARN,
        Some("info") => LevelFilter::INFO,
        Some("debug") => LevelFilter::DEBUG,
        Some("trace") => LevelFilter::TRACE,
        Some(_) => {
            return Err(format!(
                "invalid value `{}` for `{LOG_VAR}`: expected one of {LOG_VALUES}",
                value.unwrap_or_default()
            ));
        }
    };
    Ok(Some(level))
}

/// Installs the log subscriber for `level` once per process (later calls do nothing; a
/// subscriber the program set itself wins).
pub(crate) fn install(level: LevelFilter) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Err: another global subscriber is set; the user's choice stands.
        let _ = tracing::subscriber::set_global_default(LogSubscriber::new(level));
    });
}

/// Prints events at or above its level through the test's captured stdout (`print!`), so
/// a passing test stays quiet unless `--nocapture` is given.
struct LogSubscriber {
    level: LevelFilter,
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, SpanData>>,
}

/// An open span: its name, its fields as printed, and how many handles refer to it.
struct SpanData {
    name: &'static str,
    fields: String,
    refs: usize,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl LogSubscriber {
    fn new(level: LevelFilter) -> LogSubscriber {
        LogSubscriber {
            level,
            next_id: AtomicU64::new(1),
            spans: Mutex::new(HashMap::new()),
        }
    }

    fn spans(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SpanData>> {
        self.spans
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// One event as printed: `DEBUG test{name=t}:exchange{…}: answered response=…`.
    fn line(&self, event: &Event<'_>) -> String {
        let mut line = format!("{:>5} ", event.metadata().level());
        let stack = STACK.with(|s| s.borrow().clone());
        if !stack.is_empty() {
            let spans = self.spans();
            for id in &stack {
                if let Some(span) = spans.get(id) {
                    line.push_str(span.name);
                    if !span.fields.is_empty() {
                        let _ = write!(line, "{{{}}}", span.fields);
                    }
                    line.push(':');
                }
            }
            line.push(' ');
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        line.push_str(&fields.message);
        if !fields.message.is_empty() && !fields.text.is_empty() {
            line.push(' ');
        }
        line.push_str(&fields.text);
        line.push('\n');
        line
    }
}

impl Subscriber for LogSubscriber {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.level
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level)
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.spans().insert(
            id,
            SpanData {
                name: attributes.metadata().name(),
                fields: fields.joined(),
                refs: 1,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(data) = self.spans().get_mut(&span.into_u64()) {
            let more = fields.joined();
            if !data.fields.is_empty() && !more.is_empty() {
                data.fields.push(' ');
            }
            data.fields.push_str(&more);
        }
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        print!("{}", self.line(event));
    }

    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        STACK.with(|s| {
            let mut stack = s.borrow_mut();
            if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
                stack.remove(at);
            }
        });
    }

    fn clone_span(&self, span: &Id) -> Id {
        if let Some(data) = self.spans().get_mut(&span.into_u64()) {
            data.refs += 1;
        }
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        let mut spans = self.spans();
        let id = span.into_u64();
        let Some(data) = spans.get_mut(&id) else {
            return false;
        };
        data.refs = data.refs.saturating_sub(1);
        if data.refs == 0 {
            spans.remove(&id);
            true
        } else {
            false
        }
    }
}

/// The fields of a span or an event, printed as `tracing-subscriber` does: the `message`
/// alone, strings quoted, `%value` as displayed, `?value` as debugged.
#[derive(Default)]
struct Fields {
    message: String,
    text: String,
}

impl Fields {
    /// Every field, the message first (spans have none).
    fn joined(self) -> String {
        match (self.message.is_empty(), self.text.is_empty()) {
            (true, _) => self.text,
            (false, true) => self.message,
            (false, false) => format!("{} {}", self.message, self.text),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        let name = field.name();
        let name = name.strip_prefix("r#").unwrap_or(name);
        let _ = write!(self.text, "{name}={value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated() {
        assert_eq!(parse_log_level(None).unwrap(), None);
        assert_eq!(parse_log_level(Some("off")).unwrap(), None);
        assert_eq!(
            parse_log_level(Some("DEBUG")).unwrap(),
            Some(LevelFilter::DEBUG)
        );
        let err = parse_log_level(Some("verbose")).unwrap_err();
        assert!(err.contains("`verbose` for `REPLAY_LOG`"), "{err}");
        assert!(err.contains("`debug` (every exchange)"), "{err}");
    }

    /// What `f` logs under `subscriber`, as printed, and how many spans are still open after.
    fn logged(subscriber: LogSubscriber, f: impl FnOnce()) -> (Vec<String>, usize) {
        let inner = std::sync::Arc::new(subscriber);
        let lines = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = Capture {
            inner: inner.clone(),
            lines: lines.clone(),
        };
        tracing::subscriber::with_default(sink, f);
        let lines = lines.lock().unwrap().clone();
        (lines, inner.spans().len())
    }

    /// The subscriber with its output kept instead of printed.
    struct Capture {
        inner: std::sync::Arc<LogSubscriber>,
        lines: std::sync::Arc<Mutex<Vec<String>>>,
    }

    impl Subscriber for Capture {
        fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
            self.inner.register_callsite(m)
        }
        fn enabled(&self, m: &Metadata<'_>) -> bool {
            self.inner.enabled(m)
        }
        fn max_level_hint(&self) -> Option<LevelFilter> {
            self.inner.max_level_hint()
        }
        fn new_span(&self, a: &Attributes<'_>) -> Id {
            self.inner.new_span(a)
        }
        fn record(&self, s: &Id, v: &Record<'_>) {
            self.inner.record(s, v)
        }
        fn record_follows_from(&self, s: &Id, f: &Id) {
            self.inner.record_follows_from(s, f)
        }
        fn event(&self, e: &Event<'_>) {
            let line = self.inner.line(e);
            self.lines.lock().unwrap().push(line);
        }
        fn enter(&self, s: &Id) {
            self.inner.enter(s)
        }
        fn exit(&self, s: &Id) {
            self.inner.exit(s)
        }
        fn clone_span(&self, s: &Id) -> Id {
            self.inner.clone_span(s)
        }
        fn try_close(&self, s: Id) -> bool {
            self.inner.try_close(s)
        }
    }

    #[test]
    fn lines_read_like_tracing_subscribers_default_format() {
        let error = std::io::Error::other("connection reset");
        let (lines, open) = logged(LogSubscriber::new(LevelFilter::DEBUG), || {
            let test =
                tracing::info_span!("test", name = %"psu_ramp", mode = tracing::field::Empty);
            let _test = test.enter();
            test.record("mode", "record");
            tracing::info!("started");
            {
                let exchange = tracing::debug_span!(
                    "exchange",
                    instrument = "psu",
                    kind = "query",
                    command = %"*IDN?"
                );
                let _exchange = exchange.enter();
                tracing::debug!(response = %"Keysight,<serial>", "answered");
                tracing::debug!(%error, "failed");
            }
            tracing::trace!("too detailed");
            tracing::warn!(r#type = 3, "after the exchange");
        });
        assert_eq!(
            lines,
            [
                " INFO test{name=psu_ramp mode=\"record\"}: started\n",
                "DEBUG test{name=psu_ramp mode=\"record\"}:exchange{instrument=\"psu\" kind=\"query\" command=*IDN?}: answered response=Keysight,<serial>\n",
                "DEBUG test{name=psu_ramp mode=\"record\"}:exchange{instrument=\"psu\" kind=\"query\" command=*IDN?}: failed error=connection reset\n",
                " WARN test{name=psu_ramp mode=\"record\"}: after the exchange type=3\n",
            ]
        );
        assert_eq!(open, 0);
    }

    #[test]
    fn closed_spans_are_forgotten_and_the_level_filters() {
        let (lines, open) = logged(LogSubscriber::new(LevelFilter::INFO), || {
            for i in 0..3 {
                let span = tracing::info_span!("exchange", i);
                let _entered = span.enter();
                tracing::debug!("hidden");
                tracing::info!("shown");
            }
            let kept = tracing::info_span!("kept");
            let clone = kept.clone();
            drop(kept);
            clone.in_scope(|| tracing::info!("in a cloned span"));
            tracing::info!("outside");
        });
        assert_eq!(
            lines,
            [
                " INFO exchange{i=0}: shown\n",
                " INFO exchange{i=1}: shown\n",
                " INFO exchange{i=2}: shown\n",
                " INFO kept: in a cloned span\n",
                " INFO outside\n",
            ]
        );
        assert_eq!(open, 0, "every span closed with its last handle");
    }
}
