//! Command-line interface: argument definitions and dispatch. Each subcommand lives in its own
//! file; the library does the work.

mod demo;
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
  1  the site failed: at least one load failed
  2  usage or configuration error (bad URL, Chromium not found, unwritable report path)
  3  inconclusive: the prober's own faults prevented a meaningful run
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
    /// See it work: probe a naive and a fixed rollout on the built-in simulator, side by side.
    Demo(demo::DemoArgs),
    /// Serve a local rolling deployment (v1 -> v2) that fails the way real ones do.
    Simulate(crate::sim::SimulateArgs),
    /// Render the reports of a saved JSON report again: JUnit, HTML, the text summary.
    Report(report::ReportArgs),
    /// Merge the JSON reports of several probers into one report and one verdict.
    Merge(merge::MergeArgs),
    /// Check a scenario file (targets, auth, load model, user journey, SLOs), or print a template.
    Scenario(scenario::ScenarioArgs),
}

/// Runs the parsed command and returns the process exit code.
pub async fn dispatch(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Run(args) => run::probe(*args).await,
        Command::Demo(args) => demo::demo(args).await,
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

/// Where the reports go; `run`, `report` and `merge` all write the same three.
#[derive(clap::Args, Debug, Default)]
pub struct Outputs {
    /// Write the JSON report here
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,

    /// Write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write a self-contained HTML report here (timeline, failures, versions; no network needed)
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

impl Outputs {
    /// Fails before any work when a report path cannot be a file.
    pub fn check(&self) -> Result<(), UsageError> {
        for path in [&self.json, &self.junit, &self.html].into_iter().flatten() {
            if path.is_dir() {
                return Err(UsageError(format!(
                    "report path {} is a directory; give a file name",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    pub fn write(&self, report: &crate::model::Report) -> anyhow::Result<()> {
        use crate::report::{Exporter, html::Html, json::Json, junit::Junit, write};
        let formats: [(&Option<std::path::PathBuf>, &dyn Exporter); 3] = [
            (&self.json, &Json),
            (&self.junit, &Junit),
            (&self.html, &Html),
        ];
        for (path, exporter) in formats {
            if let Some(path) = path {
                let bytes = exporter.render(report)?;
                write::atomically(path, |out| Ok(out.write_all(&bytes)?))?;
            }
        }
        Ok(())
    }
}
