//! The browser a run shares: started (or why not), checked against the user's settings it
//! must accept, and shut down with what it went through.

use std::sync::Arc;

use anyhow::Result;

use super::{Control, Stop};
use crate::browser::Supervisor;
use crate::error::UsageError;
use crate::model::Outage;
use crate::plan::RunConfig;

/// The browser the workers share, or why there is none: it could not start, or the run was
/// stopped (Ctrl-C, SIGTERM) while it was starting. Err: the browser refuses a setting.
pub(super) async fn start_browser(
    cfg: &RunConfig,
    control: &mut Control,
) -> Result<Result<Arc<Supervisor>, String>> {
    let mut stop = control.stop.clone();
    let supervisor = tokio::select! {
        started = Supervisor::start(cfg.browser.clone()) => match started {
            Ok(supervisor) => Arc::new(supervisor),
            Err(e) => return Ok(Err(format!("{e:#}"))),
        },
        _ = stop.wait_for(|s| *s == Stop::Interrupt) => {
            return Ok(Err("stopped while Chromium was starting".to_string()));
        }
    };
    if let Err(e) = check_with_browser(cfg, &supervisor).await {
        supervisor.shutdown().await;
        return Err(e);
    }
    Ok(Ok(supervisor))
}

/// The user's settings the browser itself must accept, checked once before any load.
async fn check_with_browser(cfg: &RunConfig, supervisor: &Supervisor) -> Result<()> {
    let Some(selector) = &cfg.load.expect_selector else {
        return Ok(());
    };
    let chromium = supervisor.get().await?;
    crate::probe::check_selector(&chromium, selector, cfg.load.cdp_timeout)
        .await
        .map_err(|e| UsageError(e).into())
}

/// Shuts the browser down: which it was and its outages over the run, or why there was none.
pub(super) async fn stop_browser(browser: Result<Arc<Supervisor>, String>) -> BrowserFacts {
    match browser {
        Ok(supervisor) => {
            let facts = BrowserFacts {
                described: supervisor.described().await,
                outages: supervisor.outages(),
                fault: None,
            };
            supervisor.shutdown().await;
            facts
        }
        Err(fault) => BrowserFacts {
            fault: Some(fault),
            ..BrowserFacts::default()
        },
    }
}

#[derive(Default)]
pub(super) struct BrowserFacts {
    pub(super) described: Option<String>,
    pub(super) outages: Vec<Outage>,
    pub(super) fault: Option<String>,
}
