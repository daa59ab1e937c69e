//! The open tabs, the run's second population: users who opened the app before the deploy
//! and keep it open across it.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{Control, Stop};
use crate::browser::Supervisor;
use crate::model::TabRound;
use crate::probe::{self, LoadSettings, TabContext, TabPlan};

/// The open tabs, each a user of its own with the app open until the run stops. A tab is on
/// the browser that was up when it opened: if that one dies, the tab is lost, as a user's
/// would be, and its last round books that as the prober's fault.
pub(super) fn start_tabs(
    settings: &LoadSettings,
    plan: &TabPlan,
    supervisor: &Arc<Supervisor>,
    control: &Control,
    tx: mpsc::UnboundedSender<TabRound>,
) -> JoinSet<()> {
    let mut tabs = JoinSet::new();
    for tab in 0..plan.count {
        let (settings, plan) = (settings.clone(), plan.clone());
        let (supervisor, tx) = (supervisor.clone(), tx.clone());
        let (phase, mut stop) = (control.phase.clone(), control.stop.clone());
        tabs.spawn(async move {
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
                let _ = stop.wait_for(|s| *s != Stop::Running).await;
            };
            probe::keep_open(chromium, cx, stopped, |round| tx.send(round).is_ok()).await;
        });
    }
    tabs
}
