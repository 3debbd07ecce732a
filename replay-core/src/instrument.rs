//! The instrument handle tests talk to.

use std::sync::Arc;

use tracing::Instrument as _;

use crate::block;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::recorder::LiveInstrument;
use crate::replayer::ReplayInstrument;
use crate::session::InteractionKind;

pub(crate) enum Backend {
    Live(Box<LiveInstrument>),
    Replay(ReplayInstrument),
}

/// One instrument of the bench: live while recording, the session while replaying.
///
/// Cheap to clone; clones share the connection and the log, and can be used from several
/// tasks at once (exchanges are serialized per instrument, so a command and its response
/// are never interleaved with another task's).
#[derive(Clone)]
pub struct Instrument {
    inner: Arc<Inner>,
}

struct Inner {
    alias: String,
    backend: Backend,
}

impl std::fmt::Debug for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrument")
            .field("alias", &self.inner.alias)
            .field(
                "mode",
                &match self.inner.backend {
                    Backend::Live(_) => "record",
                    Backend::Replay(_) => "replay",
                },
            )
            .finish()
    }
}

impl Instrument {
    pub(crate) fn new(alias: &str, backend: Backend) -> Instrument {
        Instrument {
            inner: Arc::new(Inner {
                alias: alias.to_owned(),
                backend,
            }),
        }
    }

    /// The alias from the bench config.
    pub fn alias(&self) -> &str {
        &self.inner.alias
    }

    /// The instrument profile (`keysight/EDU36311A`), if the bench config or session has one.
    pub fn profile(&self) -> Option<&str> {
        match &self.inner.backend {
            Backend::Live(live) => live.profile(),
            Backend::Replay(replay) => replay.profile(),
        }
    }

    /// One exchange: the safety limits first, then the live instrument or the cassette,
    /// inside a `tracing` span that only ever sees redacted text.
    async fn exchange(&self, kind: InteractionKind, command: &str) -> Result<Outcome> {
        let alias = self.inner.alias.as_str();
        let guard = match &self.inner.backend {
            Backend::Live(live) => live.guard(),
            Backend::Replay(replay) => replay.guard(),
        };
        let shown = guard.text(command);
        let span = tracing::debug_span!(
            "exchange",
            instrument = alias,
            kind = kind.as_str(),
            command = %shown,
        );
        async {
            let result = match guard.check(alias, command, &shown) {
                Err(refused) => Err(refused),
                Ok(()) => match &self.inner.backend {
                    Backend::Live(live) => live.exchange(kind, command, &shown).await,
                    Backend::Replay(replay) => replay.exchange(kind, &shown).await,
                },
            };
            match &result {
                Ok(Outcome::Done) => tracing::debug!("done"),
                Ok(Outcome::Text(text)) => tracing::debug!(response = %text, "answered"),
                Ok(Outcome::Block(raw) | Outcome::Raw(raw)) => {
                    tracing::debug!(response_bytes = raw.len(), "answered");
                }
                Err(error) => tracing::debug!(%error, "failed"),
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Sends a command that has no response (`VOLT 5.0, (@1)`).
    pub async fn write(&self, command: &str) -> Result<()> {
        self.exchange(InteractionKind::Write, command)
            .await
            .map(|_| ())
    }

    /// Sends a query and returns its response, without terminator (`*IDN?`).
    pub async fn query(&self, command: &str) -> Result<String> {
        match self.exchange(InteractionKind::Query, command).await? {
            Outcome::Text(text) => Ok(text),
            _ => unreachable!("a query produces text"),
        }
    }

    /// Reads one response without sending anything.
    pub async fn read(&self) -> Result<String> {
        match self.exchange(InteractionKind::Read, "").await? {
            Outcome::Text(text) => Ok(text),
            _ => unreachable!("a read produces text"),
        }
    }

    /// Sends a query answered by an IEEE 488.2 definite-length block (`:WAV:DATA?`) and
    /// returns the block's payload, any byte included.
    ///
    /// Replaying a PyTestLab `query_raw` entry (which has no exact bytes) returns its stored
    /// string's UTF-8 bytes unchanged, header included, as PyTestLab does.
    pub async fn query_binary(&self, command: &str) -> Result<Vec<u8>> {
        match self.exchange(InteractionKind::QueryRaw, command).await? {
            Outcome::Block(raw) => block::payload_of(&self.inner.alias, command, &raw),
            Outcome::Raw(bytes) => Ok(bytes),
            _ => Err(Error::BinaryBlock {
                alias: self.inner.alias.clone(),
                command: command.to_owned(),
                reason: "no binary response was recorded".to_owned(),
            }),
        }
    }
}
