//! The simulator's lifecycle: steady state, a rolling update of three pods
//! with max surge 1 / max unavailable 0, steady state again, then teardown.

use super::{
    Mode, SimConfig,
    events::PodEventKind,
    pod::Pod,
    server::Server,
    shared::{Phase, Shared},
};
use std::{sync::Arc, time::Duration};
use tokio::{task::JoinSet, time::Instant};

pub(crate) const POD_SUFFIXES: [&str; 3] = ["a", "b", "c"];

/// Container start time; no-readiness pods take this long to listen.
const MAX_STARTUP: Duration = Duration::from_millis(1500);
/// Endpoint propagation lag: the ingress may still route to a pod this long
/// after it was removed. A well-behaved pod keeps serving that long before
/// draining (preStop sleep); in `no-drain` a dead pod stays routed that long.
const MAX_ENDPOINT_LAG: Duration = Duration::from_secs(1);
/// terminationGracePeriodSeconds: longer than the slowest response.
const DRAIN_GRACE: Duration = Duration::from_secs(10);
/// Lets the control API answer the `POST /shutdown` that stopped us.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Front-door servers, closed last so clients see the pods go first.
pub(crate) struct Servers {
    pub ingress: Server,
    pub control: Server,
}

pub(crate) struct Timing {
    before: Duration,
    rollout: Duration,
    after: Duration,
    auto_start: bool,
    max_lifetime: Duration,
    stall_after: Option<usize>,
}

impl From<&SimConfig> for Timing {
    fn from(cfg: &SimConfig) -> Timing {
        Timing {
            before: cfg.before,
            rollout: cfg.rollout,
            after: cfg.after,
            auto_start: cfg.auto_start,
            max_lifetime: cfg.max_lifetime,
            stall_after: cfg.stall_after,
        }
    }
}

struct Fleet {
    /// Pods that own a running (or reserved) port and are not retiring.
    serving: Vec<Pod>,
    /// Old pods draining in the background.
    retiring: JoinSet<()>,
}

impl Fleet {
    /// Removes a serving pod only when it is about to go, so a teardown in
    /// the meantime still finds it.
    fn take(&mut self, name: &str) -> Pod {
        let at = self.serving.iter().position(|p| p.name == name);
        self.serving
            .remove(at.expect("every old pod serves until its step"))
    }
}

pub(crate) async fn lifecycle(
    shared: Arc<Shared>,
    pods: Vec<Pod>,
    servers: Servers,
    timing: Timing,
) {
    let mut fleet = Fleet {
        serving: pods,
        retiring: JoinSet::new(),
    };
    tokio::select! {
        result = script(&shared, &mut fleet, &timing) => {
            if let Err(e) = result {
                eprintln!("[sim] rollout aborted: {e:#}");
            }
        }
        _ = tokio::time::sleep(timing.max_lifetime) => {
            eprintln!("[sim] max lifetime of {:?} reached, stopping", timing.max_lifetime);
        }
        _ = shared.wait_stopping() => {}
    }
    // Cuts the grace period of pods still draining.
    shared.halt();
    while fleet.retiring.join_next().await.is_some() {}
    for pod in fleet.serving {
        shared.endpoints.leave(&pod.name);
        pod.drain(std::future::ready(()), &shared.log).await;
    }
    let grace = || tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::join!(
        servers.ingress.drain(grace()),
        servers.control.drain(grace())
    );
    shared.progress.send_modify(|p| p.finished = true);
}

async fn script(shared: &Arc<Shared>, fleet: &mut Fleet, timing: &Timing) -> anyhow::Result<()> {
    let mut trigger = shared.trigger.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(timing.before), if timing.auto_start => {}
        _ = trigger.wait_for(|t| *t) => {}
    }
    if shared.mode == Mode::Steady {
        // Nothing rolls out: the site serves until the max lifetime (or a shutdown), so a steady
        // simulator outlives any probe aimed at it.
        std::future::pending::<()>().await;
    } else {
        rollout(shared, fleet, timing.rollout, timing.stall_after).await?;
    }
    tokio::time::sleep(timing.after).await;
    Ok(())
}

async fn rollout(
    shared: &Arc<Shared>,
    fleet: &mut Fleet,
    total: Duration,
    stall_after: Option<usize>,
) -> anyhow::Result<()> {
    let log = &shared.log;
    let started = Instant::now();
    shared.progress.send_modify(|p| p.phase = Phase::Rolling);
    log.record("", "v2", PodEventKind::RolloutStarted, shared.ingress_port);
    let step = total / POD_SUFFIXES.len() as u32;
    // Both at most a third of a step, so a new pod is up before the old one
    // goes away, whatever the mode.
    let startup = (step / 3).min(MAX_STARTUP);
    let lag = (step / 3).min(MAX_ENDPOINT_LAG);
    for (i, suffix) in POD_SUFFIXES.iter().enumerate() {
        if stall_after == Some(i) {
            log.record("", "v2", PodEventKind::RolloutStalled, shared.ingress_port);
            // Stuck like a pod that never gets ready: only the lifetime or a stop ends it.
            std::future::pending::<()>().await;
        }
        let pod = Pod::create(
            &format!("v2-{suffix}"),
            "v2",
            shared.mode,
            &shared.app,
            shared.cdn,
            log,
        )?;
        let pod = if shared.mode == Mode::NoReadiness {
            // Without a readiness probe the endpoint is published at once.
            join(shared, &pod);
            tokio::time::sleep(startup).await;
            pod.listen(log)?
        } else {
            tokio::time::sleep(startup).await;
            let pod = pod.listen(log)?;
            join(shared, &pod);
            pod
        };
        fleet.serving.push(pod);
        let leave_at = started + step * (i as u32 + 1);
        retire(shared, fleet, &format!("v1-{suffix}"), leave_at, lag).await;
    }
    log.record("", "v2", PodEventKind::RolloutFinished, shared.ingress_port);
    shared.progress.send_modify(|p| p.phase = Phase::Done);
    Ok(())
}

fn leave(shared: &Shared, name: &str, version: &str, port: u16) {
    shared.endpoints.leave(name);
    shared.log.record(name, version, PodEventKind::Left, port);
}

fn join(shared: &Shared, pod: &Pod) {
    shared.endpoints.join(&pod.name, pod.port);
    shared
        .log
        .record(&pod.name, pod.version, PodEventKind::Joined, pod.port);
}

/// Returns once `old` left the ingress at `leave_at`; draining continues in
/// the background.
async fn retire(
    shared: &Arc<Shared>,
    fleet: &mut Fleet,
    name: &str,
    leave_at: Instant,
    lag: Duration,
) {
    if shared.mode == Mode::NoDrain {
        // Killed while still routed; the ingress notices only `lag` later.
        tokio::time::sleep_until(leave_at - lag).await;
        let old = fleet.take(name);
        let (version, port) = (old.version, old.port);
        old.kill(&shared.log).await;
        tokio::time::sleep_until(leave_at).await;
        leave(shared, name, version, port);
        return;
    }
    tokio::time::sleep_until(leave_at).await;
    let old = fleet.take(name);
    leave(shared, name, old.version, old.port);
    let shared = shared.clone();
    fleet.retiring.spawn(async move {
        // preStop sleep: requests the ingress routed just before the removal
        // still find the pod accepting.
        tokio::select! {
            _ = tokio::time::sleep(lag) => {}
            _ = shared.wait_stopping() => {}
        }
        let stopping = shared.wait_stopping();
        let give_up = async move {
            tokio::select! {
                _ = tokio::time::sleep(DRAIN_GRACE) => {}
                _ = stopping => {}
            }
        };
        old.drain(give_up, &shared.log).await;
    });
}
