//! The users who stay across the deploy, the run's other populations: open tabs (the app kept
//! open) and returning users (a browser that remembers, coming back).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::{Id, JoinSet};

use super::{Control, Stop};
use crate::browser::Supervisor;
use crate::model::{Kind, Round};
use crate::plan::RunConfig;
use crate::probe::{self, TabContext};

/// The users who stay, each a task, and which population each task's user is in.
#[derive(Default)]
pub(super) struct Staying {
    pub(super) tasks: JoinSet<()>,
    kinds: HashMap<Id, Kind>,
    /// Told when the loads are over, whatever ended them (`--loads` too).
    done: watch::Sender<bool>,
}

impl Staying {
    pub(super) fn kind(&self, task: Id) -> Option<Kind> {
        self.kinds.get(&task).copied()
    }

    /// Each user ends after its round in flight.
    pub(super) fn stop(&self) {
        self.done.send_replace(true);
    }
}

/// Each plan's users, each on its own until the run stops or the loads are over. A user is on
/// the browser that was up when it started: if that one dies, the user is lost, as a real one
/// would be, and its last round books that as the prober's fault.
pub(super) fn start_tabs(
    cfg: &RunConfig,
    supervisor: &Arc<Supervisor>,
    control: &Control,
    tx: mpsc::UnboundedSender<Round>,
) -> Staying {
    let mut tabs = Staying::default();
    let (settings, done) = (&cfg.load, tabs.done.subscribe());
    for plan in &cfg.stay {
        for tab in 0..plan.count {
            let (settings, plan) = (settings.clone(), plan.clone());
            let (supervisor, tx) = (supervisor.clone(), tx.clone());
            let (phase, mut stop, mut done) =
                (control.phase.clone(), control.stop.clone(), done.clone());
            let kind = plan.kind;
            let task = tabs.tasks.spawn(async move {
                let Ok(chromium) = supervisor.get().await else {
                    return;
                };
                let cx = TabContext {
                    settings: &settings,
                    plan: &plan,
                    tab,
                    phase,
                };
                let stopped = async move {
                    tokio::select! {
                        _ = stop.wait_for(|s| *s != Stop::Running) => {}
                        _ = done.wait_for(|d| *d) => {}
                    }
                };
                probe::stay(chromium, cx, stopped, |round| tx.send(round).is_ok()).await;
            });
            tabs.kinds.insert(task.id(), kind);
        }
    }
    tabs
}
