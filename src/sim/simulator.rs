//! The simulator handle: wires ingress, pods, lifecycle and control API, and
//! exposes the progress of the rollout.

use super::{
    SimConfig, control,
    events::{EventLog, PodEvent, PodEventKind},
    ingress::{Endpoints, FailedLog, FailedRequest, ingress_handler},
    pod::Pod,
    rollout,
    server::Server,
    shared::{Phase, Progress, Shared},
};
use anyhow::Context;
use std::{sync::Arc, time::SystemTime};
use tokio::{sync::watch, task::JoinHandle};

/// Dropping the handle without `shutdown()` still stops the pods.
struct HaltOnDrop(Arc<Shared>);

impl Drop for HaltOnDrop {
    fn drop(&mut self) {
        self.0.halt();
    }
}

pub struct Simulator {
    shared: Arc<Shared>,
    control_port: u16,
    lifecycle: JoinHandle<()>,
    _halt_on_drop: HaltOnDrop,
}

impl Simulator {
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Simulator> {
        let log = EventLog::new(cfg.events_jsonl.as_deref(), cfg.quiet)?;
        let endpoints = Endpoints::default();
        let mut fleet = Vec::new();
        for suffix in rollout::POD_SUFFIXES {
            let name = format!("v1-{suffix}");
            let pod = Pod::create(&name, "v1", cfg.mode, &cfg.app, &log)?.listen(&log)?;
            endpoints.join(&pod.name, pod.port);
            log.record(&pod.name, pod.version, PodEventKind::Joined, pod.port);
            fleet.push(pod);
        }
        let failed = FailedLog::default();
        let ingress = Server::start(cfg.port, ingress_handler(endpoints.clone(), failed.clone()))
            .context("starting ingress")?;
        let shared = Arc::new(Shared {
            mode: cfg.mode,
            failed,
            app: cfg.app.clone(),
            ingress_port: ingress.port(),
            log,
            endpoints,
            progress: watch::Sender::new(Progress {
                phase: Phase::Before,
                stopping: false,
                finished: false,
            }),
            trigger: watch::Sender::new(false),
        });
        let control = Server::start(cfg.control_port, control::control_handler(shared.clone()))
            .context("starting control API")?;
        let control_port = control.port();
        let servers = rollout::Servers { ingress, control };
        let timing = rollout::Timing::from(&cfg);
        let lifecycle = tokio::spawn(rollout::lifecycle(shared.clone(), fleet, servers, timing));
        Ok(Simulator {
            _halt_on_drop: HaltOnDrop(shared.clone()),
            shared,
            control_port,
            lifecycle,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.shared.ingress_port)
    }

    pub fn control_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.control_port)
    }

    /// Idempotent; a no-op in `steady` mode.
    pub fn start_rollout(&self) {
        self.shared.request_rollout();
    }

    /// Returns when the last old pod left the ingress (at once in `steady`
    /// mode, or when the simulator finished without completing the rollout).
    pub async fn wait_rollout_done(&self) {
        self.shared.wait_rollout_done().await;
    }

    /// Returns when the simulator stopped by itself (rollout done and `after`
    /// elapsed, or `max_lifetime` hit) or on request; every port is closed.
    pub async fn wait_finished(&self) {
        self.shared.wait_progress(|p| p.finished).await;
    }

    /// Every request that failed at the ingress so far (error statuses, fallback answers).
    pub fn failed_requests(&self) -> Vec<FailedRequest> {
        self.shared.failed.all()
    }

    pub fn events(&self) -> Vec<PodEvent> {
        self.shared.log.snapshot()
    }

    pub fn rollout_window(&self) -> Option<(SystemTime, Option<SystemTime>)> {
        let events = self.events();
        let at = |kind| events.iter().find(|e| e.kind == kind).map(PodEvent::at);
        Some((
            at(PodEventKind::RolloutStarted)?,
            at(PodEventKind::RolloutFinished),
        ))
    }

    /// Stops pods, ingress and control API; returns when every task has ended
    /// and every port is closed.
    pub async fn shutdown(self) {
        self.shared.halt();
        // The lifecycle task only ends by returning; a JoinError would mean a
        // panic the runtime already reported.
        let _ = self.lifecycle.await;
    }
}
