//! Contexts kept per worker (`--context per-worker`): a worker's loads share one browser
//! context, and the browser runs one renderer per context (`renderer-process-limit=1`), so the
//! page for the next load, opened while the current one idles, lives in the current one's
//! renderer: no new renderer per load, about a third of a fresh load's CPU. Before the next
//! load navigates, what a site can leave in a browser is cleared: cookies, the HTTP cache, and
//! each origin's storage, service workers and cache storage. What clearing cannot take stays:
//! open connections, HSTS, TLS sessions, the renderer's compiled code (the README says what
//! that changes).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chromiumoxide_cdp::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide_cdp::cdp::browser_protocol::network::{
    ClearBrowserCacheParams, ClearBrowserCookiesParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::storage::ClearDataForOriginParams;
use futures::FutureExt;
use futures::future::try_join_all;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::user::{FreshUser, drop_ok, new_context};
use super::{LoadSettings, cdp};
use crate::browser::Chromium;
use crate::model::Observation;

/// How long a browser context lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ContextLife {
    /// A load's: each load a first visit, with its own renderer and connections.
    PerLoad,
    /// A worker's, cleared between its loads.
    PerWorker,
}

/// Each worker's kept context, by worker index.
pub(super) struct Kept {
    slots: Vec<Mutex<Slot>>,
}

#[derive(Default)]
struct Slot {
    /// The worker's context, on the browser that made it.
    context: Option<(Arc<Chromium>, BrowserContextId)>,
    /// The page for the worker's next load, made beside the current one.
    next: Option<JoinHandle<Result<FreshUser, String>>>,
    /// The last load's page closing: the next load clears after it, so nothing the page
    /// still sends on its way out outlives the clearing.
    leaving: Option<JoinHandle<()>>,
    /// The origins the last load reached, their storage cleared before the next load.
    reached: Vec<String>,
}

impl Kept {
    pub(super) fn new(workers: usize) -> Kept {
        Kept {
            slots: (0..workers).map(|_| Mutex::default()).collect(),
        }
    }

    fn slot(&self, worker: usize) -> MutexGuard<'_, Slot> {
        self.slots[worker].lock().expect("kept context lock")
    }

    /// A cleared page in the worker's context: the one made ahead when there is one, else a
    /// new one (a new context too on a relaunched browser).
    pub(super) async fn take(
        &self,
        chromium: &Arc<Chromium>,
        settings: &LoadSettings,
        worker: usize,
    ) -> Result<FreshUser, String> {
        let (context, next, leaving, reached) = {
            let mut slot = self.slot(worker);
            let context = slot.context.clone();
            (
                context,
                slot.next.take(),
                slot.leaving.take(),
                std::mem::take(&mut slot.reached),
            )
        };
        if let Some(leaving) = leaving {
            let _ = leaving.await;
        }
        let context = match context {
            Some((made_by, context)) if Arc::ptr_eq(&made_by, chromium) => context,
            _ => {
                let context = new_context(chromium, settings).await?;
                self.slot(worker).context = Some((chromium.clone(), context.clone()));
                context
            }
        };
        let made = match next {
            Some(next) => next.await.ok().and_then(Result::ok),
            None => None,
        };
        let user = match made.filter(|user| Arc::ptr_eq(&user.chromium, chromium)) {
            Some(user) => user,
            None => match FreshUser::in_context(chromium, settings, context).await {
                Ok(user) => user,
                Err(e) => {
                    // A context that cannot open a page is no use to the next load either.
                    self.slot(worker).context = None;
                    return Err(e);
                }
            },
        };
        if let Err(e) = clear(&user, settings.cdp_timeout, &reached).await {
            self.forget(worker, user, settings.cdp_timeout);
            return Err(e);
        }
        Ok(user)
    }

    /// Opens the page for the worker's next load in `user`'s context once `when` fires or is
    /// dropped (the current load went quiet, or ended before it did).
    pub(super) fn make_when(
        &self,
        chromium: &Arc<Chromium>,
        settings: &Arc<LoadSettings>,
        user: &FreshUser,
        worker: usize,
        when: oneshot::Receiver<()>,
    ) {
        let mut slot = self.slot(worker);
        if slot.next.is_some() {
            return;
        }
        let (chromium, settings) = (chromium.clone(), settings.clone());
        let context = user.context.clone();
        slot.next = Some(tokio::spawn(async move {
            let _ = when.await;
            FreshUser::in_context(&chromium, &settings, context).await
        }));
    }

    /// The load is over: its page closes, and what it reached is cleared before the next load.
    /// A load that hung or lost its tab leaves a renderer the next page shares: the worker
    /// starts again in a new context.
    pub(super) fn release(
        &self,
        worker: usize,
        user: FreshUser,
        obs: &Observation,
        limit: Duration,
    ) {
        if obs.timed_out.is_some() || obs.prober_error.is_some() {
            self.forget(worker, user, limit);
            return;
        }
        let mut slot = self.slot(worker);
        slot.reached = origins(obs);
        let page = user.page;
        slot.leaving = Some(tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, page.close()).await;
        }));
    }

    /// Gives up the worker's context, with the page made for its next load.
    fn forget(&self, worker: usize, user: FreshUser, limit: Duration) {
        let mut slot = self.slot(worker);
        slot.context = None;
        slot.reached.clear();
        if let Some(next) = slot.next.take() {
            next.abort();
        }
        user.retire(limit);
    }
}

impl Drop for Kept {
    /// Pages nobody will take die with the browser, which the run closes next.
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Ok(slot) = slot.get_mut()
                && let Some(next) = slot.next.take()
            {
                next.abort();
            }
        }
    }
}

/// The http(s) origins a load's requests went to, its start URL's first.
fn origins(obs: &Observation) -> Vec<String> {
    let mut seen = BTreeSet::new();
    std::iter::once(obs.url.as_str())
        .chain(obs.requests.iter().map(|r| r.url.as_str()))
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| seen.insert(o.clone()))
        .collect()
}

/// Clears what the last load may have left in the context of `user`'s page: the tabs it opened,
/// then, through the page (Chromium applies these to the context of the page that asks), what
/// the site stored. Nothing to clear before a context's first load.
async fn clear(user: &FreshUser, limit: Duration, reached: &[String]) -> Result<(), String> {
    if reached.is_empty() {
        return Ok(());
    }
    let page = &user.page;
    let tabs = user
        .chromium
        .close_other_tabs(&user.context, page.main_frame());
    cdp(limit, "closing the tabs the last load opened", tabs).await?;
    let mut calls = vec![
        page.call(ClearBrowserCookiesParams::default())
            .map(drop_ok)
            .boxed(),
        page.call(ClearBrowserCacheParams::default())
            .map(drop_ok)
            .boxed(),
    ];
    calls.extend(reached.iter().map(|origin| {
        page.call(ClearDataForOriginParams::new(origin.clone(), "all"))
            .map(drop_ok)
            .boxed()
    }));
    cdp(limit, "clearing the worker's context", try_join_all(calls))
        .await
        .map(drop)
}
