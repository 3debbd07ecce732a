//! What-if replays: the recorded inputs of a recording run through the user's system with
//! other parameters, its outcomes compared with the recorded ones by metrics, in sweeps of
//! many parameter sets at once; results saved as small files next to the recording.

mod handler;
mod metrics;
mod results;
mod run;
mod sweep;

pub use handler::WhatIfHandler;
pub use metrics::{Metric, MetricComparison, format_metric, render_metrics};
pub use results::{ResultStatus, WhatIfResult, list_results, results_dir, scan_results};
pub use run::{Inputs, Outcomes, Save, SystemOutput, Timing, WhatIf, WhatIfRun};
pub use sweep::{Best, Grid, RunFailure, Sweep, SweepOptions, SweepRow};
