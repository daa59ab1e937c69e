//! A fresh user: a browser context of its own, with one blank page in it. Making one costs a
//! few CDP round trips and a renderer, so [`Users`] makes the next one while the current load
//! waits out its idle window and a load costs navigate + idle. A prepared user has never navigated and nobody listens to
//! its events until its load starts: nothing of another load reaches it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chromiumoxide_cdp::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide_cdp::cdp::browser_protocol::network::{
    BlockPattern, CookieParam, Headers, SetBlockedUrLsParams, SetCacheDisabledParams,
    SetCookiesParams, SetExtraHttpHeadersParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::SetAutoAttachParams;
use chromiumoxide_cdp::cdp::browser_protocol::{inspector, log, network, page};
use chromiumoxide_cdp::cdp::js_protocol::runtime;
use futures::FutureExt;
use futures::future::try_join_all;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Console, LoadSettings, cdp};
use crate::browser::Chromium;
use crate::cdp::Page;

pub struct FreshUser {
    chromium: Arc<Chromium>,
    context: BrowserContextId,
    pub(super) page: Arc<Page>,
}

impl FreshUser {
    /// A new context and a blank page in it, with the run's headers and blocked URLs.
    pub async fn new(
        chromium: &Arc<Chromium>,
        settings: &LoadSettings,
    ) -> Result<FreshUser, String> {
        let context = new_context(chromium, settings).await?;
        match blank_page(chromium, settings, &context, Memory::Fresh).await {
            Ok(page) => Ok(FreshUser {
                chromium: chromium.clone(),
                context,
                page,
            }),
            Err(e) => {
                let limit = settings.cdp_timeout;
                let chromium = chromium.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(limit, chromium.dispose_context(context)).await;
                });
                Err(e)
            }
        }
    }

    /// The run's cookies, for the origin of the URL this user is about to open.
    pub(super) async fn set_cookies(
        &self,
        settings: &LoadSettings,
        url: &str,
    ) -> Result<(), String> {
        set_cookies(&self.page, settings, url).await
    }

    /// Tears the user down beside whatever runs next (it is not part of any load), bounded so
    /// a wedged tab is abandoned.
    pub(super) fn retire(self, limit: std::time::Duration) {
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, self.page.close()).await;
            let _ = tokio::time::timeout(limit, self.chromium.dispose_context(self.context)).await;
        });
    }
}

/// A user whose browser remembers, as a returning visitor's does: one context for the whole
/// run, so its HTTP cache, service workers and storage outlive each visit's page.
pub(super) struct ReturningUser {
    chromium: Arc<Chromium>,
    context: BrowserContextId,
}

impl ReturningUser {
    pub(super) async fn new(
        chromium: &Arc<Chromium>,
        settings: &LoadSettings,
    ) -> Result<Self, String> {
        Ok(ReturningUser {
            chromium: chromium.clone(),
            context: new_context(chromium, settings).await?,
        })
    }

    /// A new page for a visit, the run's cookies set for `url` (the browser keeps them, as
    /// it keeps what the site set).
    pub(super) async fn page(
        &self,
        settings: &LoadSettings,
        url: &str,
    ) -> Result<Arc<Page>, String> {
        let page = blank_page(&self.chromium, settings, &self.context, Memory::Remembers).await?;
        match set_cookies(&page, settings, url).await {
            Ok(()) => Ok(page),
            Err(e) => {
                close(page, settings.cdp_timeout);
                Err(e)
            }
        }
    }

    pub(super) fn retire(self, limit: std::time::Duration) {
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, self.chromium.dispose_context(self.context)).await;
        });
    }
}

async fn new_context(
    chromium: &Chromium,
    settings: &LoadSettings,
) -> Result<BrowserContextId, String> {
    let limit = settings.cdp_timeout;
    cdp(limit, "creating a browser context", chromium.new_context()).await
}

/// Closes a page beside whatever runs next, bounded.
pub(super) fn close(page: Arc<Page>, limit: std::time::Duration) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(limit, page.close()).await;
    });
}

/// The run's cookies, for the origin of `url`.
async fn set_cookies(page: &Page, settings: &LoadSettings, url: &str) -> Result<(), String> {
    if settings.cookies.is_empty() {
        return Ok(());
    }
    let cookies = settings
        .cookies
        .iter()
        .map(|(name, value)| {
            CookieParam::builder()
                .name(name)
                .value(value)
                .url(url)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("building cookies: {e}"))?;
    cdp(
        settings.cdp_timeout,
        "setting cookies",
        page.call(SetCookiesParams::new(cookies)),
    )
    .await
    .map(|_| ())
}

/// Whether a page's browser remembers what it fetched.
#[derive(Clone, Copy, PartialEq)]
enum Memory {
    /// A fresh user's: nothing cached, every load from the network.
    Fresh,
    /// A returning user's: the HTTP cache on, as a real browser's.
    Remembers,
}

/// A blank page in `context` with what a load listens to enabled, and the run's headers and
/// blocked URLs. The calls go out together: Chromium answers them in order, in one round trip.
/// The page's console is heard from the start only when JS errors decide the verdict
/// ([`Console`]).
async fn blank_page(
    chromium: &Chromium,
    settings: &LoadSettings,
    context: &BrowserContextId,
    memory: Memory,
) -> Result<Arc<Page>, String> {
    let page = cdp(
        settings.cdp_timeout,
        "opening a page",
        chromium.open_page(Some(context.clone())),
    )
    .await?;
    let p = &page;
    // Workers, service workers and other processes' frames wait until the load has enabled
    // their network events (their script's imports and fetches are the load's too).
    let attach = SetAutoAttachParams::builder()
        .auto_attach(true)
        .wait_for_debugger_on_start(true)
        .flatten(true)
        .build()
        .map_err(|e| format!("building the auto-attach request: {e}"))?;
    let mut calls = vec![
        p.call(page::EnableParams::default()).map(drop_ok).boxed(),
        p.call(page::SetLifecycleEventsEnabledParams::new(true))
            .map(drop_ok)
            .boxed(),
        p.call(network::EnableParams::default())
            .map(drop_ok)
            .boxed(),
        p.call(SetCacheDisabledParams::new(memory == Memory::Fresh))
            .map(drop_ok)
            .boxed(),
        p.call(log::EnableParams::default()).map(drop_ok).boxed(),
        p.call(inspector::EnableParams::default())
            .map(drop_ok)
            .boxed(),
        p.call(attach).map(drop_ok).boxed(),
    ];
    if settings.console == Console::FromStart {
        calls.push(
            p.call(runtime::EnableParams::default())
                .map(drop_ok)
                .boxed(),
        );
    }
    if !settings.headers.is_empty() {
        let headers: serde_json::Map<String, serde_json::Value> = settings
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let params =
            SetExtraHttpHeadersParams::new(Headers::new(serde_json::Value::Object(headers)));
        calls.push(p.call(params).map(drop_ok).boxed());
    }
    if !settings.block.is_empty() {
        let params = SetBlockedUrLsParams::builder()
            .url_patterns(
                settings
                    .block
                    .iter()
                    .map(|pattern| BlockPattern::new(pattern.clone(), true)),
            )
            .build();
        calls.push(p.call(params).map(drop_ok).boxed());
    }
    cdp(
        settings.cdp_timeout,
        "preparing the page",
        try_join_all(calls),
    )
    .await?;
    Ok(Arc::new(page))
}

fn drop_ok<T>(r: Result<T, String>) -> Result<(), String> {
    r.map(|_| ())
}

/// Users made ahead of their loads: at most `ahead` wait at once (one per load that can run at
/// the same time), so the prober never holds more contexts than it has users.
pub struct Users {
    settings: Arc<LoadSettings>,
    ahead: usize,
    waiting: Mutex<VecDeque<JoinHandle<Result<FreshUser, String>>>>,
}

impl Users {
    pub fn new(settings: &LoadSettings, ahead: usize) -> Users {
        Users {
            settings: Arc::new(settings.clone()),
            ahead,
            waiting: Mutex::new(VecDeque::new()),
        }
    }

    /// A user for the next load: one made ahead when one is ready, else a new one. A user made ahead that failed is made again here, so only this load's own attempt
    /// can count against the prober.
    pub async fn take(&self, chromium: &Arc<Chromium>) -> Result<FreshUser, String> {
        // Only a finished one: one still waiting for another load to go quiet would make this
        // load wait for that one.
        let made = {
            let mut waiting = self.waiting.lock().expect("users lock");
            let done = waiting.iter().position(|made| made.is_finished());
            done.and_then(|i| waiting.remove(i))
        };
        // One made by a browser that has since been relaunched is gone with it.
        if let Some(made) = made
            && let Ok(Ok(user)) = made.await
            && Arc::ptr_eq(&user.chromium, chromium)
        {
            return Ok(user);
        }
        FreshUser::new(chromium, &self.settings).await
    }

    /// Starts making a user for a later load once `when` fires or is dropped (the current load
    /// went quiet, or ended before it did).
    pub fn make_when(&self, chromium: &Arc<Chromium>, when: oneshot::Receiver<()>) {
        let mut waiting = self.waiting.lock().expect("users lock");
        if waiting.len() >= self.ahead {
            return;
        }
        let (chromium, settings) = (chromium.clone(), self.settings.clone());
        waiting.push_back(tokio::spawn(async move {
            let _ = when.await;
            FreshUser::new(&chromium, &settings).await
        }));
    }
}

impl Drop for Users {
    /// Users nobody will take die with the browser, which the run closes next.
    fn drop(&mut self) {
        if let Ok(waiting) = self.waiting.get_mut() {
            for handle in waiting.drain(..) {
                handle.abort();
            }
        }
    }
}
