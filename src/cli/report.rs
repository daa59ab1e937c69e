//! `rollprobe report`: renders the reports of a saved JSON report again (JUnit, HTML, the text
//! summary), e.g. for a run whose HTML was not asked for, or with a newer rollprobe.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::UsageError;
use crate::report;

const EXAMPLES: &str = "\
Examples:
  # An HTML page and JUnit for CI from a run's JSON report:
  rollprobe report report.json --html report.html --junit report.xml

Exit codes: 0 when the reports were rendered (whatever the run's verdict), 2 when the input is
not a readable rollprobe JSON report or an output cannot be written.";

#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct ReportArgs {
    /// A JSON report written by `rollprobe run --json` (or `rollprobe merge`)
    #[arg(value_name = "RUN.json")]
    pub input: PathBuf,

    #[command(flatten)]
    pub outputs: crate::report::Outputs,
}

pub async fn rerender(args: ReportArgs) -> Result<i32> {
    let destinations = args.outputs.check()?;
    let report = report::json::read(&args.input).map_err(|e| UsageError(format!("{e:#}")))?;
    // Rendering again passes whatever the verdict: only a report that cannot be written fails.
    Ok(destinations.finish(&report, 0))
}
