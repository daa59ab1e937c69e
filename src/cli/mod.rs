//! Command-line interface: argument definitions and dispatch. Each subcommand lives in its own
//! file (`demo` and `simulate` with their modules, [`crate::demo`] and [`crate::sim`]); the
//! library does the work.

mod merge;
mod report;
mod run;
mod scenario;

use clap::{Parser, Subcommand};

use crate::error::UsageError;
use crate::model::{EXIT_INCONCLUSIVE, EXIT_USAGE};

pub use run::RunArgs;

const EXIT_CODES: &str = "\
Exit codes:
  0  every load succeeded (the verdict passed)
  1  the site failed: at least one load failed (wins over every other code)
  2  usage or configuration error (bad URL, Chromium not found, unwritable report path),
     or a report that could not be written at the end
  3  inconclusive: no evidence to vouch for the site (no load finished, e.g. stopped first;
     Chromium could not start; the prober failed on too many loads)
  4  the wrapped deploy command failed, while the site itself passed";

#[derive(Parser, Debug)]
#[command(
    name = "rollprobe",
    version,
    about = "Was that deployment really zero-downtime? Loads your single-page app in real headless \
             Chromium, again and again as fresh users, and records every request that failed.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Probe a URL with a pool of fresh browser users and report every failed load.
    Run(Box<RunArgs>),
    /// See it work: probe a naive rollout, the same behind an SPA fallback, and a fixed one on the built-in simulator.
    Demo(crate::demo::DemoArgs),
    /// Serve a local rolling deployment (v1 -> v2) that fails the way real ones do.
    Simulate(crate::sim::SimulateArgs),
    /// Render the reports of a saved JSON report again: JUnit, HTML, the text summary.
    Report(report::ReportArgs),
    /// Merge the JSON reports of several probers into one report and one verdict.
    Merge(merge::MergeArgs),
    /// Check a scenario file (targets, auth, load model, user journey, SLOs), or print a template.
    Scenario(scenario::ScenarioArgs),
}

impl Cli {
    /// Parses the command line; `run`'s help shows each setting's key and default, from its
    /// one declaration. Exits on a usage error or `--help`, as clap does.
    pub fn parse_with_defaults() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let cmd = Cli::command().mut_subcommand("run", crate::config::keys_and_defaults_in_help);
        Cli::from_arg_matches(&cmd.get_matches()).unwrap_or_else(|e| e.exit())
    }
}

/// Runs the parsed command and returns the process exit code.
pub async fn dispatch(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Run(args) => run::probe(*args).await,
        Command::Demo(args) => crate::demo::demo(args).await,
        Command::Simulate(args) => crate::sim::run_cli(args).await.map(|()| 0),
        Command::Report(args) => report::rerender(args).await,
        Command::Merge(args) => merge::merge_reports(args).await,
        Command::Scenario(args) => scenario::check_or_print(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rollprobe: error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                EXIT_USAGE
            } else {
                EXIT_INCONCLUSIVE
            }
        }
    }
}
