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

/// An open span: what it is, its fields as printed, its parent (which it keeps open), and
/// how many handles refer to it.
struct SpanData {
    metadata: &'static Metadata<'static>,
    fields: String,
    parent: Option<u64>,
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

    /// The span entered last on this thread, if any.
    fn current(&self) -> Option<u64> {
        STACK.with(|s| s.borrow().last().copied())
    }

    /// The parent of a new span or event: the explicit one, else (contextual) the current
    /// span, else (`parent: None`) none.
    fn parent_of(&self, explicit: Option<&Id>, contextual: bool) -> Option<u64> {
        match explicit {
            Some(parent) => Some(parent.into_u64()),
            None if contextual => self.current(),
            None => None,
        }
    }

    /// One event as printed: `DEBUG test{name=t}:exchange{…}: answered response=…`, the
    /// spans being the event's parent and its ancestors, outermost first.
    fn line(&self, event: &Event<'_>) -> String {
        let mut line = format!("{:>5} ", event.metadata().level());
        let parent = self.parent_of(event.parent(), event.is_contextual());
        if let Some(parent) = parent {
            let spans = self.spans();
            let mut chain = Vec::new();
            let mut next = Some(parent);
            while let Some(id) = next {
                let Some(span) = spans.get(&id) else { break };
                chain.push(span);
                next = span.parent;
            }
            for span in chain.iter().rev() {
                line.push_str(span.metadata.name());
                if !span.fields.is_empty() {
                    let _ = write!(line, "{{{}}}", span.fields);
                }
                line.push(':');
            }
            if !chain.is_empty() {
                line.push(' ');
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        line.push_str(&fields.joined());
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
        let parent = self.parent_of(attributes.parent(), attributes.is_contextual());
        let mut spans = self.spans();
        // A span keeps its parent open, so its lines name the parent after the parent's
        // own handles are dropped (a task spawned from a test outlives nothing, but its
        // span may be entered when the test's span is not).
        let parent = parent.filter(|p| match spans.get_mut(p) {
            Some(data) => {
                data.refs += 1;
                true
            }
            None => false,
        });
        spans.insert(
            id,
            SpanData {
                metadata: attributes.metadata(),
                fields: fields.joined(),
                parent,
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
        let mut next = Some(span.into_u64());
        let mut closed = false;
        // Closing a span releases its hold on its parent, which may close too.
        while let Some(id) = next.take() {
            let Some(data) = spans.get_mut(&id) else {
                break;
            };
            data.refs = data.refs.saturating_sub(1);
            if data.refs > 0 {
                break;
            }
            let parent = spans.remove(&id).and_then(|d| d.parent);
            closed |= id == span.into_u64();
            next = parent;
        }
        closed
    }

    fn current_span(&self) -> tracing_core::span::Current {
        let Some(id) = self.current() else {
            return tracing_core::span::Current::none();
        };
        match self.spans().get(&id) {
            Some(data) => tracing_core::span::Current::new(Id::from_u64(id), data.metadata),
            None => tracing_core::span::Current::none(),
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
    /// Every field, the message first (a span has none).
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
        // As tracing-subscriber does: the causes as `error.sources=[a, b]`.
        let mut sources = Vec::new();
        let mut next = value.source();
        while let Some(source) = next {
            sources.push(source.to_string());
            next = source.source();
        }
        if !sources.is_empty() {
            let _ = write!(
                self.text,
                " {}.sources=[{}]",
                field.name(),
                sources.join(", ")
            );
        }
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
        fn current_span(&self) -> tracing_core::span::Current {
            self.inner.current_span()
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

    #[test]
    fn spans_name_their_parents_wherever_they_are_entered() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("exchange failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let (lines, open) = logged(LogSubscriber::new(LevelFilter::DEBUG), || {
            let test = tracing::info_span!("test", name = "t");
            // Created inside the test, entered later when the test's span is not (a task
            // spawned by the test, polled by the runtime).
            let worker = test.in_scope(|| tracing::debug_span!("worker"));
            drop(test);
            worker.in_scope(|| {
                assert_eq!(
                    tracing::Span::current().metadata().map(|m| m.name()),
                    Some("worker")
                );
                tracing::debug!("from the task");
                // Entered twice: named once.
                worker.in_scope(|| tracing::debug!("again"));
                let orphan = tracing::debug_span!(parent: None, "orphan");
                orphan.in_scope(|| tracing::debug!("no parent"));
                let error = Outer(std::io::Error::other("reset"));
                tracing::debug!(
                    error = &error as &(dyn std::error::Error + 'static),
                    "failed"
                );
            });
            assert!(tracing::Span::current().is_none());
        });
        assert_eq!(
            lines,
            [
                "DEBUG test{name=\"t\"}:worker: from the task\n",
                "DEBUG test{name=\"t\"}:worker: again\n",
                "DEBUG orphan: no parent\n",
                "DEBUG test{name=\"t\"}:worker: failed error=exchange failed error.sources=[reset]\n",
            ]
        );
        assert_eq!(
            open, 0,
            "the test's span closed with the worker that held it"
        );
    }
}
