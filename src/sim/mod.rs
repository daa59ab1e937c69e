//! Embedded rolling-deployment simulator: an nginx-like ingress in front of
//! pods serving a bundled SPA, replaced v1 → v2 in a way that fails like real
//! infrastructure does, depending on [`Mode`].

mod app;
mod cdn;
mod cli;
mod control;
mod events;
pub mod http;
mod ingress;
mod pod;
mod rollout;
mod server;
mod shared;
mod simulator;
pub mod site;
mod third_party;

pub use app::App;
pub use cli::{SimulateArgs, app as cli_app, run_cli};
pub use events::{PodEvent, PodEventKind};
pub use ingress::FailedRequest;
pub use simulator::Simulator;
pub use site::{Route, Site};
pub use third_party::Flaky;

use std::{path::PathBuf, sync::Arc, time::Duration};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// No rollout at all; nothing fails, and the site serves until --max-lifetime.
    Steady,
    /// Each pod serves only its own build: cross-version 404s on hashed assets.
    Naive,
    /// Like `naive`, behind an SPA fallback (nginx `try_files $uri /index.html`):
    /// the other build's hashed assets come back 200 as the pod's own index.html.
    SpaFallback,
    /// Every pod serves both builds' assets: versions mix without failures.
    SharedAssets,
    /// New pods receive traffic before they listen: 502s.
    NoReadiness,
    /// Old pods are killed with requests in flight and linger in the ingress:
    /// connection resets, empty responses, 502s.
    NoDrain,
    /// One pod answers after several seconds: slow loads and timeouts.
    Slow,
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub mode: Mode,
    /// Ingress port on 127.0.0.1, 0 = any free port.
    pub port: u16,
    /// Control API port on 127.0.0.1, 0 = any free port.
    pub control_port: u16,
    /// Steady state before the rollout starts (when auto-starting).
    pub before: Duration,
    /// Total rollout duration; the 3 pod replacements are spread over it.
    pub rollout: Duration,
    /// Steady state after the rollout before the simulator stops by itself.
    pub after: Duration,
    /// false: the rollout waits for `start_rollout()` / `POST /rollout`.
    pub auto_start: bool,
    /// Hard bound: the simulator shuts down after this whatever happens.
    pub max_lifetime: Duration,
    /// Write pod events as JSON lines.
    pub events_jsonl: Option<PathBuf>,
    /// Don't log events to stderr.
    pub quiet: bool,
    /// Replace only this many pods, then stall (the rollout never finishes).
    pub stall_after: Option<usize>,
    /// What the pods serve: the demo SPA, or two builds of the user's app.
    pub app: Arc<App>,
    /// Every page loads a script from a host that refuses connections.
    pub dead_third_party: bool,
    /// Every page calls an API of the site's that fails one request in N.
    pub flaky_api: Option<Flaky>,
    /// A CDN in front of the ingress, keeping what the pods' caching headers allow (and 404s
    /// for a few minutes); without it, pods send `no-store`.
    pub cdn: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            mode: Mode::Steady,
            port: 0,
            control_port: 0,
            before: Duration::from_secs(5),
            rollout: Duration::from_secs(15),
            after: Duration::from_secs(5),
            auto_start: true,
            max_lifetime: Duration::from_secs(600),
            events_jsonl: None,
            quiet: false,
            stall_after: None,
            app: Arc::new(App::demo()),
            dead_third_party: false,
            flaky_api: None,
            cdn: false,
        }
    }
}
