//! What the simulator's handle, its rollout task and its control API share: the rollout's
//! progress, and the state every part reads.

use super::{
    Mode,
    events::EventLog,
    ingress::{Endpoints, FailedLog},
};
use serde::Serialize;
use std::{future::Future, sync::Arc};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    Before,
    Rolling,
    Done,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Progress {
    pub phase: Phase,
    /// Teardown requested or under way: waits and drains end early.
    pub stopping: bool,
    /// Every pod, the ingress and the control API are closed.
    pub finished: bool,
}

/// State shared by the handle, the lifecycle task and the control API.
pub(crate) struct Shared {
    pub mode: Mode,
    /// A CDN in front of the ingress: pods send the caching headers of a static host.
    pub cdn: bool,
    pub failed: FailedLog,
    pub app: Arc<super::App>,
    pub ingress_port: u16,
    pub log: EventLog,
    pub endpoints: Endpoints,
    pub progress: watch::Sender<Progress>,
    pub trigger: watch::Sender<bool>,
}

impl Shared {
    pub fn request_rollout(&self) {
        if self.mode != Mode::Steady {
            self.trigger.send_replace(true);
        }
    }

    pub fn wait_rollout_done(&self) -> impl Future<Output = ()> + use<> {
        let steady = self.mode == Mode::Steady;
        self.wait_progress(move |p| steady || p.phase == Phase::Done || p.stopping)
    }

    /// Subscribes now so the returned future is `'static` (usable from handlers).
    pub fn wait_progress<F>(&self, done: F) -> impl Future<Output = ()> + use<F>
    where
        F: Fn(&Progress) -> bool + Send + 'static,
    {
        let mut rx = self.progress.subscribe();
        async move {
            // The sender lives as long as `Shared`; an error means it is gone
            // and there is nothing left to wait for.
            let _ = rx.wait_for(|p| done(p)).await;
        }
    }

    pub fn wait_stopping(&self) -> impl Future<Output = ()> + use<> {
        self.wait_progress(|p| p.stopping)
    }

    pub fn halt(&self) {
        self.progress.send_modify(|p| p.stopping = true);
    }
}
