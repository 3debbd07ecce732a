//! The harness's `main`: list, run, report.

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use replay_core::diff::RenderOptions;

use super::plan::{HarnessTarget, Orphan, PlannedTest, Status, plan};
use super::snapshot::take_pending;
use crate::runtime::collect::Collector;
use crate::runtime::describe::percent;
use crate::runtime::summary;
use crate::runtime::{
    Outcome, RunOptions, color_enabled, panic_message, relative_to, run_test_with,
};

/// Runs the harness of one test target; what [`main!`](crate::main) expands to. Exits.
pub fn main(target: HarnessTarget) -> ! {
    let args = Arguments::from_args();
    let options = RunOptions::from_process();
    let plan = plan(&target, &options.env, options.display_base.as_deref());
    let collector = Arc::new(Collector::default());
    let tolerance = match options.env.diff_tolerance() {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = options.env.orphan_policy() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
    let context = Context {
        options: Arc::new(options),
        collector: collector.clone(),
        tolerance,
        color: color(&args),
    };

    let mut trials: Vec<Trial> = plan.tests.iter().map(|t| trial_for(t, &context)).collect();
    for orphan in &plan.orphans {
        trials.push(orphan_trial(orphan, &context));
    }

    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        let tally = collector.take();
        if !tally.is_quiet() {
            eprintln!("{}", summary::text(&tally, plan.ci));
        }
        // Also when everything passed; a process of a nextest run adds to the run's one
        // summary (see `runtime::summary`).
        summary::publish_to_github(&tally);
    }
    conclusion.exit()
}

/// What every trial needs.
#[derive(Clone)]
struct Context {
    options: Arc<RunOptions>,
    collector: Arc<Collector>,
    tolerance: f64,
    color: bool,
}

fn shown(context: &Context, path: &Path) -> String {
    match &context.options.display_base {
        Some(base) => relative_to(path, base),
        None => path.to_owned(),
    }
    .display()
    .to_string()
}

/// Colour for the re-record diffs: libtest's `--color`, else the CLI's rule
/// ([`color_enabled`]: `NO_COLOR`, `CLICOLOR_FORCE`, a terminal).
fn color(args: &Arguments) -> bool {
    use libtest_mimic::ColorSetting;
    match args.color {
        Some(ColorSetting::Always) => true,
        Some(ColorSetting::Never) => false,
        _ => color_enabled(&std::io::stderr()),
    }
}

fn trial_for(test: &PlannedTest, context: &Context) -> Trial {
    let def = test.def;
    let name = test.name.clone();
    let context = context.clone();
    let ignored = matches!(test.status, Status::UserIgnored(_));
    Trial::test(test.name.clone(), move || run_one(def, &name, &context)).with_ignored_flag(ignored)
}

fn orphan_trial(orphan: &Orphan, context: &Context) -> Trial {
    let name = orphan.shown.clone();
    let fails = orphan.fails;
    let collector = context.collector.clone();
    Trial::test(orphan.name.clone(), move || {
        collector.update(|t| t.orphans.push(name.clone()));
        if !fails {
            // REPLAY_ORPHANS=warn: the summary lists it.
            return Ok(());
        }
        Err(Failed::from(format!(
            "orphaned cassette: no test in this target records `{name}`\n\
             its test was renamed, moved or deleted. Either delete the cassette:\n    \
             git rm {name}\n\
             or restore the test (a `#[recorded_test]` whose path, or `session = \"…\"`, leads to this file)\n\
             a test compiled out by `#[cfg(…)]` in this run also orphans its cassette: set `REPLAY_ORPHANS=warn` to list orphans without failing"
        )))
    })
}

fn run_one(
    def: &'static crate::registry::TestDef,
    name: &str,
    context: &Context,
) -> Result<(), Failed> {
    let options = &context.options;
    let paths = crate::runtime::TestPaths::resolve(def, &options.env).ok();
    take_pending();
    let outcome = run_test_with(def, options);
    let pending: Vec<String> = take_pending().iter().map(|p| shown(context, p)).collect();
    let rerecord = paths
        .as_ref()
        .map(|p| p.rerecord.clone())
        .unwrap_or_default();
    let cassette = paths
        .as_ref()
        .map(|p| shown(context, &p.cassette))
        .unwrap_or_default();
    context
        .collector
        .update(|t| t.note(name, &outcome, &rerecord, &cassette, &pending));
    match outcome {
        Outcome::Replayed { .. } => Ok(()),
        Outcome::Recorded {
            cassette,
            summary,
            diff,
            kept,
            ..
        } => {
            match diff {
                Some(diff) if !diff.is_empty() => {
                    let shown_cassette = cassette.display().to_string();
                    let accept = format!(
                        "review the changes, then commit `{shown_cassette}`; to undo the re-record: git checkout -- {shown_cassette}"
                    );
                    let mut text = diff.render_with(
                        &format!("{shown_cassette} (committed)"),
                        &format!("{shown_cassette} (re-recorded)"),
                        &RenderOptions {
                            color: context.color,
                            accept: Some(accept),
                            ..RenderOptions::default()
                        },
                    );
                    if diff.drifted_beyond_tolerance() {
                        text.push_str(&format!(
                            "warning: a reading of `{name}` drifted beyond {} since it was recorded while its command did not change: check the bench before committing\n",
                            percent(context.tolerance)
                        ));
                    }
                    eprint!("{text}");
                }
                // Unchanged: say it was kept (or rewritten, with REPLAY_REWRITE=1).
                // `replay: ` as under plain libtest and on the "waits for the bench" line.
                Some(_) if kept => eprintln!("replay: {summary}"),
                Some(_) => {}
                None => eprintln!("replay: {summary}"),
            }
            Ok(())
        }
        Outcome::Failed { message, .. } => Err(Failed::from(message)),
        Outcome::Panicked { payload, note, .. } => {
            let message = panic_message(&*payload);
            let mut text = format!("test panicked: {message}\n{note}");
            if !pending.is_empty() {
                text.push_str("\nthe measured outcome changed: review it with `cargo insta review` (accept if the change is intended)");
            }
            Err(Failed::from(text))
        }
    }
}
