//! A fresh user: a browser context of its own, with one blank page in it (or a blank page in a
//! worker's kept context, cleared of what its last load left); and the returning user, whose
//! context outlives its visits.

use std::sync::Arc;

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

use super::{Console, LoadSettings, cdp};
use crate::browser::Chromium;
use crate::cdp::Page;

pub struct FreshUser {
    pub(super) chromium: Arc<Chromium>,
    pub(super) context: BrowserContextId,
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
                dispose(chromium.clone(), context, settings.cdp_timeout);
                Err(e)
            }
        }
    }

    /// A blank page in a context that outlives it (a worker's kept one).
    pub(super) async fn in_context(
        chromium: &Arc<Chromium>,
        settings: &LoadSettings,
        context: BrowserContextId,
    ) -> Result<FreshUser, String> {
        let page = blank_page(chromium, settings, &context, Memory::Fresh).await?;
        Ok(FreshUser {
            chromium: chromium.clone(),
            context,
            page,
        })
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
        dispose(self.chromium, self.context, limit);
    }
}

/// Disposes `context` beside whatever runs next, bounded.
pub(super) fn dispose(
    chromium: Arc<Chromium>,
    context: BrowserContextId,
    limit: std::time::Duration,
) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(limit, chromium.dispose_context(context)).await;
    });
}

pub(super) async fn new_context(
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

pub(super) fn drop_ok<T>(r: Result<T, String>) -> Result<(), String> {
    r.map(|_| ())
}
