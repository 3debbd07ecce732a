//! A what-if handler a server registers: given a recording's path and the parameters a
//! request modifies, it runs the user's system and returns the saved result (the seed's
//! `POST /api/recording/<file>/replay`).

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::results::{self, WhatIfResult};
use super::run::{Inputs, Outcomes, Save, SystemOutput, WhatIf};
use crate::error::{Error, Result};
use crate::replayer::blocking;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Replay = dyn Fn(PathBuf, serde_json::Value, Option<String>) -> BoxFuture<Result<WhatIfResult>>
    + Send
    + Sync;

/// The user's system, its base parameters and how to split and measure a recording, behind
/// one type a server can hold: [`WhatIfHandler::replay`] runs a recording with modified
/// parameters and saves the result and outcomes next to it.
///
/// ```
/// use replay_events::whatif::{Inputs, Metric, Outcomes, WhatIfHandler};
/// use replay_events::EventFilter;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Params { threshold: f64, hold_ms: u64 }
///
/// async fn alarm(p: Params, mut inputs: Inputs, outcomes: Outcomes) {
///     while let Some(_reading) = inputs.next().await { /* … */ }
/// }
///
/// let handler = WhatIfHandler::new(
///     Params { threshold: 30.0, hold_ms: 0 },
///     |whatif| Ok(whatif
///         .outcomes(EventFilter::names(["Alarm*"])?)
///         .metric(Metric::count("alarms", "AlarmRaised")?)),
///     alarm,
/// );
/// // A server: `handler.replay(path, json!({"threshold": 25.0}), None).await`.
/// # let _ = handler;
/// ```
#[derive(Clone)]
pub struct WhatIfHandler {
    replay: Arc<Replay>,
}

impl fmt::Debug for WhatIfHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatIfHandler").finish_non_exhaustive()
    }
}

impl WhatIfHandler {
    /// A handler running `system` with `base` parameters overridden by each request's
    /// modified ones; `configure` sets the outcome filter, metrics and timing for a
    /// recording.
    pub fn new<P, C, F, Fut>(base: P, configure: C, system: F) -> WhatIfHandler
    where
        P: Serialize + DeserializeOwned + Send + 'static,
        C: Fn(WhatIf) -> Result<WhatIf> + Send + Sync + 'static,
        F: Fn(P, Inputs, Outcomes) -> Fut + Send + Sync + 'static,
        Fut: Future,
        Fut::Output: SystemOutput,
    {
        let base = serde_json::to_value(&base).unwrap_or(serde_json::Value::Null);
        let configure = Arc::new(configure);
        let system = Arc::new(system);
        let replay = move |path: PathBuf, modified: serde_json::Value, description| {
            let (base, configure, system) = (base.clone(), configure.clone(), system.clone());
            let fut: BoxFuture<Result<WhatIfResult>> = Box::pin(async move {
                let params: P = merge_parameters(&base, &modified)?;
                let opened = path.clone();
                let whatif = blocking(move || WhatIf::open(&opened)).await?;
                let mut whatif = configure(whatif)?.save(Save::ResultsAndOutcomes);
                if let Some(description) = description {
                    whatif = whatif.description(description);
                }
                let stamp = results::stamp_now();
                let (json, outcome) = whatif.execute(params, system).await;
                blocking(move || {
                    let run = outcome.as_ref().map_err(|f| f.message.as_str());
                    let file = whatif.save_run(&stamp, 0, &json, run, Save::ResultsAndOutcomes)?;
                    WhatIfResult::load(file)
                })
                .await
            });
            fut
        };
        WhatIfHandler {
            replay: Arc::new(replay),
        }
    }

    /// Runs the recording at `recording` with `modified_parameters` (a JSON object whose
    /// keys override the base parameters), saves the result and the outcome recording next
    /// to it, and returns the result. A run whose system panics or errors is a result with
    /// [`ResultStatus::Failed`](super::ResultStatus::Failed), not an `Err`; `Err` is for a
    /// missing or malformed recording, parameters the type does not accept, or a failed
    /// write.
    pub async fn replay(
        &self,
        recording: &Path,
        modified_parameters: serde_json::Value,
        description: Option<String>,
    ) -> Result<WhatIfResult> {
        (self.replay)(recording.to_owned(), modified_parameters, description).await
    }
}

/// `base` with the keys of `modified` replaced (both JSON objects; `null` keeps `base`).
fn merge_parameters<P: DeserializeOwned>(
    base: &serde_json::Value,
    modified: &serde_json::Value,
) -> Result<P> {
    let merged = match (base, modified) {
        (_, serde_json::Value::Null) => base.clone(),
        (serde_json::Value::Object(base), serde_json::Value::Object(changes)) => {
            let mut merged = base.clone();
            for (key, value) in changes {
                merged.insert(key.clone(), value.clone());
            }
            serde_json::Value::Object(merged)
        }
        (_, other) => other.clone(),
    };
    serde_json::from_value(merged.clone()).map_err(|e| Error::InvalidOption {
        what: "what-if parameters",
        value: merged.to_string(),
        expected: format!(
            "`modified_parameters` as a JSON object of fields `{}` accepts: {e}",
            std::any::type_name::<P>()
        ),
    })
}
