//! `rollprobe simulate`: run the simulator from a shell or a script.

use super::{App, Flaky, Mode, SimConfig, Simulator};
use crate::error::UsageError;
use anyhow::Context;
use std::{io::Write, path::PathBuf, sync::Arc, time::Duration};
use tokio::signal::unix::{SignalKind, signal};

/// Run a local rolling deployment of a demo SPA behind an nginx-like ingress.
///
/// Prints `ingress: URL` and `control: URL` on stdout, then logs pod events on
/// stderr until the run is over (or Ctrl-C / SIGTERM).
const EXAMPLES: &str = "\
Control API (on the control URL it prints; usable with curl):
  POST /rollout          start the rollout
  POST /rollout?wait=1   start it and answer when it is finished (a deploy command's job)
  GET  /wait             answer when the rollout is finished
  GET  /status           mode, phase, pods and their events as JSON
  POST /shutdown         stop the simulator

Examples:
  # A naive rollout that starts when told to, and a probe wrapping it as a deployment:
  rollprobe simulate --mode naive --port 8080 --control-port 8081 --after 60 &
  rollprobe run http://127.0.0.1:8080/ --version-header X-App-Version --expect-version v2 \\
    -- curl -fsS -X POST 'http://127.0.0.1:8081/rollout?wait=1'

  # A rollout that starts by itself after 10 s, for probing by hand:
  rollprobe simulate --mode no-drain --start-rollout-after 10 --rollout 20

  # A site already failing before the deploy (a dead analytics host, an API failing 1 in 20),
  # whose API fails half the time during the rollout:
  rollprobe simulate --mode shared-assets --dead-third-party --flaky-api 20,2 --start-rollout-after 20

  # A naive rollout behind a CDN that keeps the 404s it met for 3 minutes:
  rollprobe simulate --mode naive --cdn --start-rollout-after 10

  # Your own app: build it twice (v1, v2) and roll it out naively:
  rollprobe simulate --mode naive --builds ./dist-v1 ./dist-v2 --start-rollout-after 10

The simulator exits --after seconds after the rollout finished (or at --max-lifetime): give
--after enough time for the probe's settle phase.";

#[derive(clap::Args, Debug, Clone)]
#[command(after_help = EXAMPLES)]
pub struct SimulateArgs {
    /// Deployment failure to simulate.
    #[arg(long, value_enum, default_value_t = Mode::Steady)]
    pub mode: Mode,

    /// Ingress port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Steady state before an auto-started rollout (seconds, or e.g. "500ms").
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = crate::clock::parse_duration)]
    pub before: Duration,

    /// Total rollout duration; three pod replacements are spread over it.
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = crate::clock::parse_duration)]
    pub rollout: Duration,

    /// Steady state after the rollout before the simulator exits.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = crate::clock::parse_duration)]
    pub after: Duration,

    /// Start the rollout automatically after this delay (overrides --before).
    /// Without it, --control-port makes the rollout wait for `POST /rollout`.
    #[arg(long, value_name = "SECS", value_parser = crate::clock::parse_duration)]
    pub start_rollout_after: Option<Duration>,

    /// Control API port on 127.0.0.1 (default: any free port). Giving it
    /// means the rollout waits for `POST /rollout` unless
    /// --start-rollout-after is given.
    #[arg(long, value_name = "PORT")]
    pub control_port: Option<u16>,

    /// Write pod events as JSON lines to this file.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// Exit after this long whatever happens.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = crate::clock::parse_duration)]
    pub max_lifetime: Duration,

    /// Don't log pod events to stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Roll out your own app instead of the built-in one: two build output directories (v1
    /// then v2), each with index.html at its root, served as a static host does (clean URLs:
    /// /reports is reports.html or reports/index.html).
    #[arg(long, num_args = 2, value_names = ["V1_DIR", "V2_DIR"])]
    pub builds: Option<Vec<PathBuf>>,

    /// Stall the rollout after replacing this many pods (1 or 2), like a new pod that never
    /// becomes ready: versions stay mixed and the rollout never finishes.
    #[arg(long, value_name = "PODS", value_parser = clap::value_parser!(u8).range(0..=2))]
    pub stall_after: Option<u8>,

    /// Every page loads a third-party script from a host that refuses connections (a dead
    /// analytics host): a failure from before any deployment.
    #[arg(long)]
    pub dead_third_party: bool,

    /// Every page calls the site's /api/flaky, which answers 502 to one request in N (and one
    /// in M while the rollout runs, when given): e.g. 20, or 20,2.
    #[arg(long, value_name = "N[,M]")]
    pub flaky_api: Option<Flaky>,

    /// Put a CDN in front of the ingress: it keeps answers by their Cache-Control (hashed
    /// assets for a year, an SPA fallback's page for one of them too) and 404s for 3 minutes,
    /// adding Age and X-Cache. A failure it kept during the rollout outlives it.
    #[arg(long)]
    pub cdn: bool,
}

impl SimulateArgs {
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        Ok(SimConfig {
            mode: self.mode,
            port: self.port,
            control_port: self.control_port.unwrap_or(0),
            before: self.start_rollout_after.unwrap_or(self.before),
            rollout: self.rollout,
            after: self.after,
            auto_start: self.start_rollout_after.is_some() || self.control_port.is_none(),
            max_lifetime: self.max_lifetime,
            events_jsonl: self.events.clone(),
            quiet: self.quiet,
            stall_after: self.stall_after.map(usize::from),
            app: Arc::new(app(self.builds.as_deref())?),
            dead_third_party: self.dead_third_party,
            flaky_api: self.flaky_api,
            cdn: self.cdn,
        })
    }
}

/// The built-in SPA, or the two builds of `--builds`; a directory that is not a build is a
/// usage error.
pub fn app(builds: Option<&[PathBuf]>) -> Result<App, UsageError> {
    match builds {
        Some([v1, v2]) => {
            App::from_dirs(v1, v2).map_err(|e| UsageError(format!("--builds: {e:#}")))
        }
        _ => Ok(App::demo()),
    }
}

pub async fn run_cli(args: SimulateArgs) -> anyhow::Result<()> {
    // Registered before starting so an early signal still shuts down cleanly.
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let sim = Simulator::start(args.to_config()?).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ingress: {}", sim.url())?;
        writeln!(out, "control: {}", sim.control_url())?;
        // Scripts read these lines through a pipe, where stdout is block-buffered.
        out.flush().context("flushing stdout")?;
    }
    tokio::select! {
        _ = sim.wait_finished() => {}
        _ = interrupt.recv() => eprintln!("[sim] interrupted, shutting down"),
        _ = terminate.recv() => eprintln!("[sim] terminated, shutting down"),
    }
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn config(argv: &[&str]) -> SimConfig {
        let argv = std::iter::once("simulate").chain(argv.iter().copied());
        Cli::parse_from(argv).args.to_config().unwrap()
    }

    #[test]
    fn start_mode_follows_flags() {
        let plain = config(&["--before", "2"]);
        assert!(plain.auto_start);
        assert_eq!(plain.before, Duration::from_secs(2));
        let controlled = config(&["--control-port", "0"]);
        assert!(!controlled.auto_start);
        let delayed = config(&["--control-port", "0", "--start-rollout-after", "500ms"]);
        assert!(delayed.auto_start);
        assert_eq!(delayed.before, Duration::from_millis(500));
    }

    #[test]
    fn modes_parse_in_kebab_case() {
        assert_eq!(config(&["--mode", "no-readiness"]).mode, Mode::NoReadiness);
        assert_eq!(config(&["--mode", "spa-fallback"]).mode, Mode::SpaFallback);
    }
}
