//! Contexts kept per worker (`--context per-worker`): a worker's loads share one browser
//! context, and the browser runs one renderer per context (`renderer-process-limit=1`), so the
//! page for the next load, opened while the current one idles, lives in the current one's
//! renderer: no new renderer per load. Once a load is over, what a site can leave in a browser
//! is cleared through that page, before the worker's next load starts its clock: the tabs the
//! load opened, cookies, the HTTP cache, and each origin's storage, service workers and cache
//! storage. What clearing cannot take stays (open connections, the renderer's compiled code):
//! the README says what that changes.

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

use super::user::{FreshUser, dispose, drop_ok, new_context};
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
    limit: Duration,
}

#[derive(Default)]
struct Slot {
    /// The worker's context, on the browser that made it.
    context: Option<(Arc<Chromium>, BrowserContextId)>,
    /// The page for the worker's next load: made beside the current load, then, once that is
    /// over, cleared of what it left.
    next: Option<JoinHandle<Result<FreshUser, String>>>,
    /// `next`, made and cleared (or why not).
    ready: Option<Result<FreshUser, String>>,
    /// What the last load reached, when no page was made for a next one (a bounded run's last
    /// loads): cleared by the page the worker's next load opens, if there is one.
    uncleared: Option<Vec<String>>,
}

impl Kept {
    pub(super) fn new(workers: usize, limit: Duration) -> Kept {
        Kept {
            slots: (0..workers).map(|_| Mutex::default()).collect(),
            limit,
        }
    }

    fn slot(&self, worker: usize) -> MutexGuard<'_, Slot> {
        self.slots[worker].lock().expect("kept context lock")
    }

    /// Waits until the worker's next page is made and cleared: called before the next load
    /// starts its clock, so clearing is not counted as part of it.
    pub(super) async fn ready(&self, worker: usize) {
        let next = self.slot(worker).next.take();
        if let Some(next) = next {
            let made = next
                .await
                .unwrap_or_else(|e| Err(format!("making the next page: {e}")));
            self.slot(worker).ready = Some(made);
        }
    }

    /// A cleared page in the worker's context: the one made ahead when there is one, else a
    /// new one (in a new context when the old one failed or the browser was relaunched).
    pub(super) async fn take(
        &self,
        chromium: &Arc<Chromium>,
        settings: &LoadSettings,
        worker: usize,
    ) -> Result<FreshUser, String> {
        self.ready(worker).await;
        let (ready, uncleared) = {
            let mut slot = self.slot(worker);
            (slot.ready.take(), slot.uncleared.take())
        };
        match ready {
            Some(Ok(user)) if Arc::ptr_eq(&user.chromium, chromium) => return Ok(user),
            // A context that could not be cleared or open a page is no use to this load.
            Some(Err(_)) => self.give_up(worker),
            _ => {}
        }
        let kept = self.slot(worker).context.clone();
        let context = match kept {
            Some((made_by, context)) if Arc::ptr_eq(&made_by, chromium) => context,
            _ => {
                let context = new_context(chromium, settings).await?;
                self.slot(worker).context = Some((chromium.clone(), context.clone()));
                context
            }
        };
        let made = FreshUser::in_context(chromium, settings, context).await;
        let cleared = match made {
            Ok(user) => match uncleared {
                Some(reached) => clear(&user, self.limit, reached).await.map(|()| user),
                None => Ok(user),
            },
            Err(e) => Err(e),
        };
        if cleared.is_err() {
            self.give_up(worker);
        }
        cleared
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
        let (chromium, settings) = (chromium.clone(), settings.clone());
        let context = user.context.clone();
        self.slot(worker).next = Some(tokio::spawn(async move {
            let _ = when.await;
            FreshUser::in_context(&chromium, &settings, context).await
        }));
    }

    /// The load is over (its page closed): what it left is cleared through the page made for
    /// the worker's next load. The worker starts again in a new context after a load that hung
    /// or lost its tab (the next page shares its renderer) and after one that had a document
    /// of another origin: a frame's storage is kept under the page's site, which clearing by
    /// origin does not reach.
    pub(super) fn release(&self, worker: usize, user: FreshUser, obs: &Observation) {
        let start = origin(&obs.url);
        let foreign = obs.requests.iter().any(|r| {
            r.resource_type == "Document" && origin(&r.url).is_some_and(|o| Some(o) != start)
        });
        if obs.timed_out.is_some() || obs.prober_error.is_some() || foreign {
            self.give_up(worker);
            user.retire(self.limit);
            return;
        }
        let mut slot = self.slot(worker);
        let reached = origins(obs);
        let Some(next) = slot.next.take() else {
            slot.uncleared = Some(reached);
            return;
        };
        let limit = self.limit;
        slot.next = Some(tokio::spawn(async move {
            let next = next
                .await
                .unwrap_or_else(|e| Err(format!("making the next page: {e}")))?;
            clear(&next, limit, reached).await.map(|()| next)
        }));
    }

    /// Lets the worker's context go (disposed beside whatever runs next), with any page made
    /// in it: the next load opens a new one.
    fn give_up(&self, worker: usize) {
        let mut slot = self.slot(worker);
        if let Some(next) = slot.next.take() {
            next.abort();
        }
        slot.ready = None;
        slot.uncleared = None;
        if let Some((chromium, context)) = slot.context.take() {
            dispose(chromium, context, self.limit);
        }
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
    let urls = std::iter::once(obs.url.as_str()).chain(obs.requests.iter().map(|r| r.url.as_str()));
    origins_of(urls, Vec::new())
}

/// `known`, then the http(s) origins of `urls` not among them.
fn origins_of<'a>(urls: impl Iterator<Item = &'a str>, known: Vec<String>) -> Vec<String> {
    let mut seen: BTreeSet<String> = known.iter().cloned().collect();
    let more: Vec<String> = urls
        .filter_map(origin)
        .filter(|o| seen.insert(o.clone()))
        .collect();
    [known, more].concat()
}

/// The origin of an http(s) URL.
fn origin(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// Clears what the last load may have left in the context of `user`'s page: the tabs it opened
/// (the load's own is closed already), then, through the page (Chromium applies these to the
/// context of the page that asks), what the site stored: every cookie and the HTTP cache, and
/// each origin's first-party storage and service workers.
async fn clear(user: &FreshUser, limit: Duration, reached: Vec<String>) -> Result<(), String> {
    let page = &user.page;
    let tabs = user
        .chromium
        .close_other_tabs(&user.context, page.main_frame());
    let shown = cdp(limit, "closing the tabs the last load opened", tabs).await?;
    // A tab the load opened is not the load's: where it went is known only from here.
    let reached = origins_of(shown.iter().map(String::as_str), reached);
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
