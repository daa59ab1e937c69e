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
    /// Write the JSON report here (`-`: standard output, and the summary goes to stderr)
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,

    /// Write a JUnit XML report here (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write a self-contained HTML report here (`-`: standard output; timeline, failures,
    /// versions; no network needed)
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

impl Outputs {
    /// Checks every report path before any work, so a typo costs no probing run.
    pub fn check(&self) -> Result<Destinations, UsageError> {
        use crate::report::write::Destination;
        let mut list = Vec::new();
        for (path, format) in [
            (&self.json, Format::Json),
            (&self.junit, Format::Junit),
            (&self.html, Format::Html),
        ] {
            if let Some(path) = path {
                list.push((format, path.clone(), Destination::check(path)?));
            }
        }
        if list.iter().filter(|(_, _, d)| d.is_stdout()).count() > 1 {
            return Err(UsageError(
                "only one report can go to standard output (`-` or /dev/stdout)".into(),
            ));
        }
        Ok(Destinations { list })
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Json,
    Junit,
    Html,
}

/// The reports' checked destinations.
pub struct Destinations {
    list: Vec<(
        Format,
        std::path::PathBuf,
        crate::report::write::Destination,
    )>,
}

impl Destinations {
    /// Writes every report, prints the text summary (to stderr when a report takes stdout, so a
    /// pipe gets the report alone) and returns the exit code: `verdict_code`, or 2 when a report
    /// could not be written, unless the site failed, which wins.
    pub fn finish(&self, report: &crate::model::Report, verdict_code: i32) -> i32 {
        let errors = self.write(report);
        for e in &errors {
            eprintln!("rollprobe: error: {e}");
        }
        let failed = !errors.is_empty();
        let summary = crate::report::text::render(report);
        if self.to_stdout() {
            eprint!("{summary}");
        } else {
            print!("{summary}");
        }
        match (failed, verdict_code) {
            (true, code) if code != crate::model::EXIT_SITE_FAILED => EXIT_USAGE,
            (_, code) => code,
        }
    }

    /// Writes every report; one that cannot be written does not cost the others. Gives what
    /// went wrong, naming the path.
    pub fn write(&self, report: &crate::model::Report) -> Vec<String> {
        use crate::report::{Exporter, html::Html, json::Json, junit::Junit};
        let mut errors = Vec::new();
        for (format, path, destination) in &self.list {
            let exporter: Box<dyn Exporter> = match format {
                Format::Json => Box::new(Json),
                // Attachments are relative to the JUnit file: GitLab resolves them from the
                // project directory, where its example writes the file (ci/gitlab-ci.yml).
                Format::Junit => Box::new(Junit {
                    dir: destination
                        .is_file()
                        .then(|| std::path::absolute(path).ok())
                        .flatten()
                        .and_then(|p| p.parent().map(|d| d.to_path_buf())),
                }),
                Format::Html => Box::new(Html),
            };
            if let Err(e) = exporter
                .render(report)
                .and_then(|bytes| destination.write(&bytes))
            {
                errors.push(format!("report {}: {e:#}", path.display()));
            }
        }
        errors
    }

    /// The first report written to a regular file, as given: failed loads' evidence goes
    /// beside it.
    pub fn first_file(&self) -> Option<std::path::PathBuf> {
        self.list
            .iter()
            .find(|(_, _, d)| d.is_file())
            .map(|(_, path, _)| path.clone())
    }

    /// Whether standard output carries a report, so nothing else may be printed there.
    fn to_stdout(&self) -> bool {
        self.list.iter().any(|(_, _, d)| d.is_stdout())
    }
}
