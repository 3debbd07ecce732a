//! Replaying: answering the test from the session, in strict per-instrument order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::matching::memo::TextMemo;
use crate::matching::{Class, CompiledRules, MatchConfig, Matcher, Request};
use crate::outcome::Outcome;
use crate::report::{DEFAULT_RERECORD, MismatchReport, UnusedInstrument, UnusedReport};
use crate::safety::Guard;
use crate::session::{InstrumentLog, Interaction, InteractionKind, RecordedErrorKind, Session};
use crate::timing::Timing;
use replay_support::sync::lock;

/// Options for [`Bench::replay_with`](crate::Bench::replay_with).
#[derive(Clone)]
pub struct ReplayOptions {
    pub(crate) rerecord: String,
    pub(crate) matcher: Option<Arc<dyn Matcher>>,
    pub(crate) rules: MatchConfig,
    pub(crate) default_rules: MatchConfig,
    pub(crate) instrument_rules: Vec<(String, MatchConfig)>,
    pub(crate) timing: Timing,
    pub(crate) speed: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            rerecord: DEFAULT_RERECORD.to_owned(),
            matcher: None,
            rules: MatchConfig::default(),
            default_rules: MatchConfig::default(),
            instrument_rules: Vec::new(),
            timing: Timing::Instant,
            speed: 1.0,
        }
    }
}

impl std::fmt::Debug for ReplayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("rerecord", &self.rerecord)
            .field("rules", &self.rules)
            .field("default_rules", &self.default_rules)
            .field("instrument_rules", &self.instrument_rules)
            .field("timing", &self.timing)
            .field("speed", &self.speed)
            .finish_non_exhaustive()
    }
}

impl ReplayOptions {
    /// The command that re-records this session, printed at the end of every report
    /// (`RECORD=1 cargo test --test bench psu_ramp -- --exact`).
    pub fn rerecord_command(mut self, command: impl Into<String>) -> Self {
        self.rerecord = command.into();
        self
    }

    /// Decides what matches what for every instrument, instead of the `matching` rule of
    /// the [rules](ReplayOptions::rules) (default: [`ExactMatcher`](crate::ExactMatcher)).
    /// `ignore` and `repeatable` patterns still apply.
    pub fn matcher(mut self, matcher: impl Matcher) -> Self {
        self.matcher = Some(Arc::new(matcher));
        self
    }

    /// The test's matching rules (`matching`, `tolerance`, `keywords`, `ignore`,
    /// `repeatable`): the most specific layer, over the instrument's (from
    /// [`ReplayOptions::instrument_rules`] and the cassette) and the
    /// [defaults](ReplayOptions::default_rules).
    pub fn rules(mut self, rules: MatchConfig) -> Self {
        self.rules = rules;
        self
    }

    /// The workspace's matching rules (`.config/replay.toml`): the least specific layer.
    pub fn default_rules(mut self, rules: MatchConfig) -> Self {
        self.default_rules = rules;
        self
    }

    /// Matching rules for one instrument, over those stored in the cassette for it.
    pub fn instrument_rules(mut self, alias: impl Into<String>, rules: MatchConfig) -> Self {
        self.instrument_rules.push((alias.into(), rules));
        self
    }

    /// When answers arrive (default: [`Timing::Instant`]).
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Multiplies the pace of a [`Timing::Realtime`] replay (`2.0`: twice as fast); see
    /// [`parse_speed`](crate::timing::parse_speed) for `REPLAY_SPEED`. Ignored otherwise.
    pub fn speed(mut self, speed: f64) -> Self {
        if speed.is_finite() && speed > 0.0 {
            self.speed = speed;
        }
        self
    }
}

/// One instrument's log under its rules.
struct Lane {
    /// The compiled rules, or why they are invalid (reported when the test asks for the
    /// instrument).
    rules: std::result::Result<CompiledRules, String>,
    /// Positions of interactions outside the strict sequence (ignored or repeatable), in
    /// order, with their class.
    specials: Vec<(usize, Class)>,
    state: Mutex<LaneState>,
}

struct LaneState {
    /// The next sequenced position.
    next: usize,
    /// The index in `specials` of the first special after `next` (`next` only grows, so
    /// this only moves forward: no search per request).
    split: usize,
    /// Per special: whether a request matched it.
    used: Vec<bool>,
    /// The class of each command text seen so far (each distinct text classified once).
    classes: TextMemo<Class>,
}

impl Lane {
    fn new(log: &InstrumentLog, rules: std::result::Result<CompiledRules, String>) -> Lane {
        let mut classes = TextMemo::default();
        let specials: Vec<(usize, Class)> = match &rules {
            Ok(r) if r.has_patterns() => log
                .log
                .iter()
                .enumerate()
                .filter_map(|(i, interaction)| {
                    let command = &interaction.command;
                    if !r.may_be_special(command) {
                        return None;
                    }
                    match classes.get_or_insert_with(command, || r.classify(command)) {
                        Class::Sequenced => None,
                        class => Some((i, class)),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut lane = Lane {
            rules,
            state: Mutex::new(LaneState {
                next: 0,
                split: 0,
                used: Vec::new(),
                classes: TextMemo::default(),
            }),
            specials,
        };
        let (first, split) = lane.next_sequenced(0, 0);
        lane.state = Mutex::new(LaneState {
            next: first,
            split,
            used: vec![false; lane.specials.len()],
            classes,
        });
        lane
    }

    /// The first sequenced position at or after `from`, and the index in `specials` of the
    /// first special after it. The scan starts at index `k`, which must not be past the
    /// first special at or after `from`.
    fn next_sequenced(&self, mut from: usize, mut k: usize) -> (usize, usize) {
        while self.specials.get(k).is_some_and(|(i, _)| *i < from) {
            k += 1;
        }
        while self.specials.get(k).is_some_and(|(i, _)| *i == from) {
            from += 1;
            k += 1;
        }
        (from, k)
    }

    /// The special nearest to position `at` that `accept`s, earlier first on a tie;
    /// `split` is the index of the first special at or after `at`.
    fn nearest(&self, at: usize, split: usize, accept: impl Fn(usize) -> bool) -> Option<usize> {
        let (mut left, mut right) = (split, split);
        loop {
            let l = left.checked_sub(1).map(|k| (k, at - self.specials[k].0));
            let r = self.specials.get(right).map(|(i, _)| (right, i - at));
            let (k, take_left) = match (l, r) {
                (None, None) => return None,
                (Some((k, _)), None) => (k, true),
                (None, Some((k, _))) => (k, false),
                (Some((lk, ld)), Some((rk, rd))) => {
                    if ld <= rd {
                        (lk, true)
                    } else {
                        (rk, false)
                    }
                }
            };
            if take_left {
                left -= 1;
            } else {
                right += 1;
            }
            if accept(self.specials[k].0) {
                return Some(k);
            }
        }
    }
}

/// The session being replayed, shared by every instrument of the bench.
pub(crate) struct Replayer {
    pub(crate) path: PathBuf,
    pub(crate) session: Session,
    pub(crate) options: ReplayOptions,
    lanes: Vec<Lane>,
    /// When the replay started, on tokio's clock (timestamps count from here).
    start: tokio::time::Instant,
    /// The first mismatch seen, even if the test swallowed or unwrapped the error.
    pub(crate) first_deviation: OnceLock<MismatchReport>,
}

impl Replayer {
    pub(crate) fn new(path: PathBuf, session: Session, options: ReplayOptions) -> Replayer {
        let lanes = session
            .instruments
            .iter()
            .map(|(alias, log)| Lane::new(log, rules_for(&options, alias, log)))
            .collect();
        Replayer {
            path,
            session,
            options,
            lanes,
            start: tokio::time::Instant::now(),
            first_deviation: OnceLock::new(),
        }
    }

    pub(crate) fn index_of(&self, alias: &str) -> Result<usize> {
        self.session
            .instruments
            .iter()
            .position(|(a, _)| a == alias)
            .ok_or_else(|| Error::UnknownInstrument {
                alias: alias.to_owned(),
                where_: format!("session `{}`", self.path.display()),
                known: self.session.aliases().map(str::to_owned).collect(),
                hint: format!(
                    "the test uses an instrument the session did not record; re-record it on the bench:\n    {}",
                    self.options.rerecord
                ),
            })
    }

    /// Interactions never replayed, if any. Ignored interactions never count; a repeatable
    /// query counts when the test never asked it.
    pub(crate) fn unused(&self) -> Option<UnusedReport> {
        let instruments: Vec<UnusedInstrument> = self
            .session
            .instruments
            .iter()
            .zip(&self.lanes)
            .filter_map(|((alias, log), lane)| {
                let state = lock(&lane.state);
                let mut unused: Vec<usize> = Vec::new();
                let mut k = 0;
                for i in state.next..log.log.len() {
                    while lane.specials.get(k).is_some_and(|(s, _)| *s < i) {
                        k += 1;
                    }
                    if lane.specials.get(k).is_none_or(|(s, _)| *s != i) {
                        unused.push(i);
                    }
                }
                for ((i, class), used) in lane.specials.iter().zip(&state.used) {
                    if *class == Class::Repeatable && !used {
                        unused.push(*i);
                    }
                }
                unused.sort_unstable();
                (!unused.is_empty()).then(|| UnusedInstrument::at(alias, &log.log, &unused))
            })
            .collect();
        (!instruments.is_empty()).then(|| UnusedReport {
            session: self.path.clone(),
            instruments,
            rerecord: self.options.rerecord.clone(),
        })
    }
}

/// The rules of one instrument: the test's over the instrument's (options, then the
/// cassette) over the defaults.
fn rules_for(
    options: &ReplayOptions,
    alias: &str,
    log: &InstrumentLog,
) -> std::result::Result<CompiledRules, String> {
    let mut instrument = log.rules.matching.clone().unwrap_or_default();
    for (a, rules) in &options.instrument_rules {
        if a == alias {
            instrument = rules.over(&instrument);
        }
    }
    let config = options.rules.over(&instrument.over(&options.default_rules));
    let mut compiled = config.compile()?;
    if let Some(matcher) = &options.matcher {
        compiled.matcher = Arc::clone(matcher);
    }
    Ok(compiled)
}

/// One instrument's view of the replayed session.
pub(crate) struct ReplayInstrument {
    alias: String,
    index: usize,
    replayer: Arc<Replayer>,
    finished: Arc<AtomicBool>,
    /// The limits and redaction stored with the instrument's log.
    guard: Guard,
}

impl ReplayInstrument {
    pub(crate) fn new(
        alias: &str,
        replayer: Arc<Replayer>,
        finished: Arc<AtomicBool>,
    ) -> Result<Self> {
        let index = replayer.index_of(alias)?;
        if let Err(message) = &replayer.lanes[index].rules {
            return Err(Error::MatchingRules {
                alias: alias.to_owned(),
                message: message.clone(),
            });
        }
        let guard = Guard::new(&replayer.session.instruments[index].1.rules);
        Ok(ReplayInstrument {
            alias: alias.to_owned(),
            index,
            replayer,
            finished,
            guard,
        })
    }

    fn log(&self) -> &InstrumentLog {
        &self.replayer.session.instruments[self.index].1
    }

    pub(crate) fn profile(&self) -> Option<&str> {
        self.log().profile.as_deref()
    }

    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }

    fn mismatch(
        &self,
        position: usize,
        kind: InteractionKind,
        command: &str,
        rules: &CompiledRules,
        reason: Option<String>,
    ) -> Error {
        let log = &self.log().log;
        // Recorded later: the interactions in between were removed from the test? (Not
        // asked for an ignored or repeatable command, which has no place in the sequence.)
        let later = match reason {
            Some(_) => None,
            None => {
                let request = Request::new(&kind, command);
                log.iter()
                    .enumerate()
                    .skip(position + 1)
                    .find(|(_, r)| rules.matcher.matches(r, &request))
                    .map(|(q, _)| q)
            }
        };
        let mut report = MismatchReport::new(
            &self.alias,
            self.replayer.path.clone(),
            log,
            position,
            later,
            kind.clone(),
            command,
            &self.replayer.options.rerecord,
        );
        let reason = reason.or_else(|| {
            log.get(position).and_then(|recorded| {
                rules
                    .matcher
                    .explain(recorded, &Request::new(&kind, command))
            })
        });
        report.set_rule(rules.describe(), reason);
        tracing::debug!(
            decision = "mismatch",
            rule = %report.rule,
            position = position + 1,
            recorded = log.get(position).map(|r| r.command.as_str()),
            reason = report.reason.as_deref(),
            "deviation"
        );
        let _ = self.replayer.first_deviation.set(report.clone());
        Error::Mismatch(Box::new(report))
    }

    /// Finds the recorded interaction that answers the request, and when its answer is due
    /// (seconds since the start, `None`: not paced).
    fn answer(
        &self,
        kind: &InteractionKind,
        command: &str,
    ) -> Result<Option<(&Interaction, Option<f64>)>> {
        let lane = &self.replayer.lanes[self.index];
        let Ok(rules) = &lane.rules else {
            unreachable!("checked when the instrument was created")
        };
        let log = &self.log().log;
        let request = Request::new(kind, command);
        let mut state = lock(&lane.state);
        let class = if !rules.may_be_special(command) {
            Class::Sequenced
        } else {
            state
                .classes
                .get_or_insert_with(command, || rules.classify(command))
        };
        match class {
            Class::Sequenced => {
                let position = state.next;
                match log.get(position) {
                    Some(recorded) if rules.matcher.matches(recorded, &request) => {
                        (state.next, state.split) = lane.next_sequenced(position + 1, state.split);
                        tracing::debug!(
                            decision = "matched",
                            rule = %rules.matcher.name(),
                            position = position + 1,
                            "replayed"
                        );
                        let mut due = recorded.timestamp;
                        if let Some(err) = &recorded.error
                            && err.kind == RecordedErrorKind::Timeout
                        {
                            due += err.timeout.map_or(0.0, |d| d.as_secs_f64());
                        }
                        Ok(Some((recorded, Some(due))))
                    }
                    _ => Err(self.mismatch(position, kind.clone(), command, rules, None)),
                }
            }
            special => {
                let at = state.next;
                let split = state.split;
                match lane.nearest(at, split, |i| rules.matcher.matches(&log[i], &request)) {
                    Some(k) => {
                        if special == Class::Repeatable {
                            for (j, (i, _)) in lane.specials.iter().enumerate() {
                                if rules.matcher.matches(&log[*i], &request) {
                                    state.used[j] = true;
                                }
                            }
                        }
                        tracing::debug!(
                            decision = "matched",
                            rule = %special.as_str(),
                            position = lane.specials[k].0 + 1,
                            "replayed"
                        );
                        Ok(Some((&log[lane.specials[k].0], None)))
                    }
                    None if special == Class::Ignored && *kind == InteractionKind::Write => {
                        tracing::debug!(
                            decision = "matched",
                            rule = %special.as_str(),
                            "not recorded, ignored"
                        );
                        Ok(None)
                    }
                    None => {
                        let what = special.as_str();
                        let reason = format!(
                            "`{command}` is {what}, but the session recorded no {kind} of it to answer with"
                        );
                        drop(state);
                        Err(self.mismatch(at, kind.clone(), command, rules, Some(reason)))
                    }
                }
            }
        }
    }

    pub(crate) async fn exchange(&self, kind: InteractionKind, command: &str) -> Result<Outcome> {
        if self.finished.load(Ordering::SeqCst) {
            return Err(Error::Finished {
                path: self.replayer.path.clone(),
            });
        }
        let Some((recorded, due)) = self.answer(&kind, command)? else {
            return Ok(Outcome::Done);
        };
        if let Some(due) = due {
            self.pace(due).await;
        }
        if let Some(err) = &recorded.error {
            return Err(match err.kind {
                RecordedErrorKind::Timeout => Error::Timeout {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    after: err.timeout,
                    recorded: true,
                },
                RecordedErrorKind::ResponseTooLarge => Error::ResponseTooLarge {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    limit: None,
                    detail: err.message.clone(),
                    recorded: true,
                },
                RecordedErrorKind::Io | RecordedErrorKind::Other(_) => Error::Io {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    recorded: true,
                    source: std::io::Error::other(err.message.clone()),
                },
            });
        }
        Ok(match kind {
            InteractionKind::Write => Outcome::Done,
            InteractionKind::QueryRaw => match &recorded.binary {
                Some(raw) => Outcome::Block(raw.clone()),
                // A PyTestLab `query_raw` entry: its stored string, bytes unchanged.
                None => Outcome::Raw(recorded.response.clone().unwrap_or_default().into_bytes()),
            },
            _ => Outcome::Text(recorded.response.clone().unwrap_or_default()),
        })
    }

    /// Waits until `due` seconds after the start of the replay (virtual, realtime).
    async fn pace(&self, due: f64) {
        let options = &self.replayer.options;
        let seconds = match options.timing {
            Timing::Instant => return,
            Timing::Virtual => due,
            Timing::Realtime => due / options.speed,
        };
        if let Ok(offset) = Duration::try_from_secs_f64(seconds)
            && let Some(at) = self.replayer.start.checked_add(offset)
        {
            tokio::time::sleep_until(at).await;
        }
    }
}
