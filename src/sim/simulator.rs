//! The simulator handle: wires ingress, pods, lifecycle and control API, and
//! exposes the progress of the rollout.

use super::{
    SimConfig,
    cdn::cdn_handler,
    control,
    events::{EventLog, PodEvent, PodEventKind},
    http::Request,
    ingress::{Endpoints, FailedLog, FailedRequest, OwnAnswer, ingress_handler},
    pod::Pod,
    rollout,
    server::{Bound, Server},
    shared::{Phase, Progress, Shared},
    third_party::{self, FlakyApi},
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
    _dead_host: Option<Bound>,
}

impl Simulator {
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Simulator> {
        let log = EventLog::new(cfg.events_jsonl.as_deref(), cfg.quiet)?;
        // Reserved, never listening: connections to it are refused as long as the simulator runs.
        let dead_host = cfg
            .dead_third_party
            .then(|| Bound::loopback(0).context("reserving the dead third-party port"))
            .transpose()?;
        let additions = third_party::page_additions(
            dead_host.as_ref().map(Bound::port),
            cfg.flaky_api.is_some(),
        );
        let app = if additions.is_empty() {
            cfg.app.clone()
        } else {
            Arc::new(cfg.app.with_head(&additions))
        };
        let progress = watch::Sender::new(Progress {
            phase: Phase::Before,
            stopping: false,
            finished: false,
        });
        let flaky = cfg.flaky_api.map(|f| {
            let api = FlakyApi::new(f, progress.subscribe());
            Arc::new(move |req: &Request| api.answer(req.path())) as OwnAnswer
        });
        let endpoints = Endpoints::default();
        let mut fleet = Vec::new();
        for suffix in rollout::POD_SUFFIXES {
            let name = format!("v1-{suffix}");
            let pod = Pod::create(&name, "v1", cfg.mode, &app, cfg.cdn, &log)?.listen(&log)?;
            endpoints.join(&pod.name, pod.port);
            log.record(&pod.name, pod.version, PodEventKind::Joined, pod.port);
            fleet.push(pod);
        }
        let failed = FailedLog::default();
        let mut front = ingress_handler(endpoints.clone(), failed.clone(), flaky);
        if cfg.cdn {
            front = cdn_handler(front, failed.clone());
        }
        let ingress = Server::start(cfg.port, front).context("starting ingress")?;
        let shared = Arc::new(Shared {
            mode: cfg.mode,
            cdn: cfg.cdn,
            failed,
            app,
            ingress_port: ingress.port(),
            log,
            endpoints,
            progress,
            trigger: watch::Sender::new(false),
        });
        let control = Server::start(cfg.control_port, control::control_handler(shared.clone()))
            .context("starting control API")?;
        let control_port = control.port();
        let servers = rollout::Servers { ingress, control };
        let timing = rollout::Timing::from(&cfg);
        let lifecycle = tokio::spawn(rollout::lifecycle(shared.clone(), fleet, servers, timing));
        Ok(Simulator {
            _dead_host: dead_host,
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
