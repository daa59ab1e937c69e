//! One page load as a fresh user: a new browser context, navigate, wait for network idle, and
//! everything the page's requests did on the way. Judging the load is the judge's job.
//!
//! [`events`] merges the page's CDP events into one stream, [`tracker`] keeps the books of one
//! load's requests, [`session`] drives the load (navigate, idle, the journey's [`journey`] steps).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::network::{
    BlockPattern, CookieParam, Headers, SetBlockedUrLsParams, SetCookiesParams,
    SetExtraHttpHeadersParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};

use crate::browser::Chromium;
use crate::filter::UrlFilter;
use crate::model::Observation;
use crate::scenario::Step;
use crate::target::Targets;
pub use render::check_selector;
use session::drive;
pub use tab::{TabContext, TabPlan, keep_open};

mod events;
mod journey;
mod render;
mod session;
mod tab;
mod tracker;

/// What every load of a run shares.
#[derive(Clone, Debug)]
pub struct LoadSettings {
    pub targets: Targets,
    /// Extra request headers (basic auth included), values already resolved.
    pub headers: Vec<(String, String)>,
    /// Cookies set for the start URL's origin before each load.
    pub cookies: Vec<(String, String)>,
    pub idle: Duration,
    /// A fetch or XHR open this long is a long poll: the load stops waiting for it.
    pub long_request: Duration,
    pub load_timeout: Duration,
    pub cdp_timeout: Duration,
    /// Requests that neither count nor keep the page busy (analytics, beacons).
    pub ignore: UrlFilter,
    /// Response header naming the app version of the backend that answered.
    pub version_header: Option<String>,
    /// JavaScript evaluated in the loaded page that yields the app version of the document
    /// (from `--version-meta` or `--version-js`); it wins over the header for the document.
    pub version_expr: Option<String>,
    /// The user journey after the first load (scenario steps).
    pub steps: Vec<Step>,
    /// URL patterns the browser must not fetch (`--block`), in URLPattern syntax.
    pub block: Vec<String>,
    /// A CSS selector that must match a visible element when the load is done.
    pub expect_selector: Option<String>,
}

/// Loads the page once in a fresh context. Never fails: the prober's own faults are recorded in
/// the observation so they can be kept apart from the site's.
pub async fn load_page(
    chromium: &Arc<Chromium>,
    settings: &LoadSettings,
    mut obs: Observation,
) -> Observation {
    let t0 = Instant::now();
    let context = match cdp(
        settings.cdp_timeout,
        "creating a browser context",
        chromium
            .browser
            .create_browser_context(CreateBrowserContextParams::default()),
    )
    .await
    {
        Ok(context) => context,
        Err(e) => {
            obs.prober_error = Some(e);
            obs.duration_ms = elapsed_ms(t0);
            return obs;
        }
    };

    let page = match open_page(chromium, settings, &context, &obs.url).await {
        Ok(page) => {
            let deadline = t0 + settings.load_timeout;
            let tracker = drive(&page, &obs.url, settings, deadline).await;
            let completed =
                !tracker.timed_out && tracker.prober_error.is_none() && tracker.loader_id.is_some();
            tracker.finish(&mut obs, settings);
            if completed {
                read_page(&page, settings, &mut obs).await;
            }
            Some(page)
        }
        Err(e) => {
            obs.prober_error = Some(e);
            None
        }
    };
    obs.duration_ms = elapsed_ms(t0);
    // Tearing the user down is not part of the load: it runs beside the worker's next load
    // (about 0.1 s a load at 4 workers in the benchmark), bounded so a wedged tab is abandoned.
    let (chromium, limit) = (chromium.clone(), settings.cdp_timeout);
    tokio::spawn(async move {
        if let Some(page) = page {
            let _ = tokio::time::timeout(limit, page.close()).await;
        }
        let _ =
            tokio::time::timeout(limit, chromium.browser.dispose_browser_context(context)).await;
    });
    obs
}

pub(super) async fn open_page(
    chromium: &Chromium,
    settings: &LoadSettings,
    context: &BrowserContextId,
    url: &str,
) -> Result<Page, String> {
    let params = CreateTargetParams::builder()
        .url("about:blank")
        .browser_context_id(context.clone())
        .build()
        .map_err(|e| format!("building the new-page request: {e}"))?;
    let page = cdp(
        settings.cdp_timeout,
        "opening a page",
        chromium.browser.new_page(params),
    )
    .await?;
    if !settings.headers.is_empty() {
        let headers: serde_json::Map<String, serde_json::Value> = settings
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let params =
            SetExtraHttpHeadersParams::new(Headers::new(serde_json::Value::Object(headers)));
        cdp(
            settings.cdp_timeout,
            "setting request headers",
            page.execute(params),
        )
        .await?;
    }
    if !settings.block.is_empty() {
        let params = SetBlockedUrLsParams::builder()
            .url_patterns(
                settings
                    .block
                    .iter()
                    .map(|p| BlockPattern::new(p.clone(), true)),
            )
            .build();
        cdp(
            settings.cdp_timeout,
            "blocking resource types",
            page.execute(params),
        )
        .await?;
    }
    if !settings.cookies.is_empty() {
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
            page.execute(SetCookiesParams::new(cookies)),
        )
        .await?;
    }
    Ok(page)
}

/// Runs a CDP call with a bound: some calls hang forever when the browser misbehaves.
async fn cdp<T>(
    limit: Duration,
    what: &str,
    call: impl Future<Output = chromiumoxide::Result<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer from Chromium within {limit:?}")),
    }
}

/// What the loaded page declares and shows, read once its load and journey are done.
pub(super) async fn read_page(page: &Page, settings: &LoadSettings, obs: &mut Observation) {
    let limit = settings.cdp_timeout;
    if let Some(expr) = &settings.version_expr {
        obs.version = page_version(page, expr, limit).await.or(obs.version.take());
    }
    match render::read(page, settings.expect_selector.as_deref(), limit).await {
        Ok(render) => obs.render = Some(render),
        Err(e) => obs.prober_error = Some(e),
    }
}

/// The app version the page itself declares; None when the expression yields nothing.
async fn page_version(page: &Page, expr: &str, limit: Duration) -> Option<String> {
    let result = tokio::time::timeout(limit, page.evaluate_expression(expr))
        .await
        .ok()?
        .ok()?;
    match result.value()? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn elapsed_ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}
