//! `rollprobe scenario`: check a scenario file without running it, or print a template to start
//! one from.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::scenario;

const EXAMPLES: &str = "\
Examples:
  # Start a scenario from the commented template, then check it:
  rollprobe scenario example > scenarios/shop.toml
  rollprobe scenario check scenarios/shop.toml

Exit codes: 0 when the file is valid, 2 when it is not (the message names the line and column).";

#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    pub command: ScenarioCommand,
}

#[derive(Subcommand, Debug)]
pub enum ScenarioCommand {
    /// Validate a scenario file without running it and summarize it (secrets by variable name only)
    Check {
        /// The scenario file, e.g. scenarios/spa.toml
        file: PathBuf,
    },
    /// Print a commented scenario template to start from
    Example,
}

pub fn run(args: ScenarioArgs) -> Result<i32> {
    match args.command {
        ScenarioCommand::Check { file } => print!("{}", scenario::load(&file)?.summary()),
        ScenarioCommand::Example => print!("{}", scenario::EXAMPLE),
    }
    Ok(0)
}
