//! `rollprobe scenario`: check a scenario file without running it, or print a template to start
//! one from.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::model::EXIT_USAGE;
use crate::scenario;

const EXAMPLES: &str = "\
Examples:
  # Start a scenario from the commented template, then check it:
  rollprobe scenario example > scenarios/shop.toml
  rollprobe scenario check scenarios/shop.toml
  rollprobe scenario check scenarios/*.toml

Exit codes: 0 when every file is valid, 2 when one is not (the message names the line and column).";

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
        /// The scenario files, e.g. scenarios/spa.toml
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a commented scenario template to start from
    Example,
}

pub fn check_or_print(args: ScenarioArgs) -> Result<i32> {
    match args.command {
        ScenarioCommand::Check { files } => {
            // Every file is checked, so one run lists every broken file.
            let mut code = 0;
            for file in &files {
                match scenario::load(file).and_then(|s| s.check_alone().map(|()| s)) {
                    Ok(s) => print!("{}", s.summary()),
                    Err(e) => {
                        eprintln!("rollprobe: error: {e}");
                        code = EXIT_USAGE;
                    }
                }
            }
            Ok(code)
        }
        ScenarioCommand::Example => {
            print!("{}", scenario::EXAMPLE);
            Ok(0)
        }
    }
}
