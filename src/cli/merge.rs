//! `rollprobe merge`: one report and one verdict from the shards of several probers that
//! watched the same deployment (see judge::merge).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::UsageError;
use crate::judge::merge::{self, Shard};
use crate::report;

const EXAMPLES: &str = "\
Examples:
  # Four probers each wrote a shard; one verdict for the deployment:
  rollprobe merge shard-0.json shard-1.json shard-2.json shard-3.json \\
    --json all.json --junit all.xml --html all.html

Shards must probe the same target with the same SLO and report schema. Load ids are renumbered
so they stay unique; times stay wall-clock, so shards line up if the probers' clocks agree.
The exit code is the merged verdict's (0 pass, 1 site failed, 3 inconclusive, 4 deploy failed),
or 2 when an input is unreadable or the shards cannot be merged.";

#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct MergeArgs {
    /// JSON reports written by `rollprobe run --json`
    #[arg(value_name = "SHARD.json", required = true)]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub outputs: crate::report::Outputs,
}

pub async fn merge_reports(args: MergeArgs) -> Result<i32> {
    let destinations = args.outputs.check()?;
    let mut shards = Vec::new();
    for path in &args.inputs {
        let report = report::json::read(path).map_err(|e| UsageError(format!("{e:#}")))?;
        shards.push(Shard {
            name: path.display().to_string(),
            report,
        });
    }
    let merged = merge::merge(shards)?;
    Ok(destinations.finish(&merged, merged.verdict.exit_code))
}
