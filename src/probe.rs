//! One page load as a fresh user: a new browser context, navigate, wait for network idle, and
//! everything the page's requests did on the way. Judging the load is `classify`'s job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    BlockPattern, BlockedReason, CookieParam, EventLoadingFailed, EventLoadingFinished,
    EventRequestWillBeSent, EventResponseReceived, Headers, SetBlockedUrLsParams, SetCookiesParams,
    SetExtraHttpHeadersParams,
};
use chromiumoxide::cdp::browser_protocol::page::{EventLifecycleEvent, NavigateParams};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};

use crate::browser::Chromium;
use crate::clock::sleep_until_opt;
use crate::filter::UrlFilter;
use crate::judge::classify::{BLOCKED_BY_PROBER, cancelled_by_page};
use crate::model::{JsError, Observation, Request};
use crate::scenario::Step;
use crate::target::Targets;

mod journey;

/// What every load of a run shares.
#[derive(Clone, Debug)]
pub struct LoadSettings {
    pub targets: Targets,
    /// Extra request headers (basic auth included), values already resolved.
    pub headers: Vec<(String, String)>,
    /// Cookies set for the start URL's origin before each load.
    pub cookies: Vec<(String, String)>,
    pub idle: Duration,
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
            let mut tracker = Tracker::new(settings);
            drive(&page, &obs.url, settings, deadline, &mut tracker).await;
            let completed =
                !tracker.timed_out && tracker.prober_error.is_none() && tracker.loader_id.is_some();
            tracker.finish(&mut obs, settings);
            if let (Some(expr), true) = (&settings.version_expr, completed) {
                obs.version = page_version(&page, expr, settings.cdp_timeout)
                    .await
                    .or(obs.version);
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

async fn open_page(
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

/// The page events a load listens to, merged into one stream. Types come through separate
/// channels, so their relative order is not kept: everything is keyed by request id.
enum Ev {
    Sent(Arc<EventRequestWillBeSent>),
    Response(Arc<EventResponseReceived>),
    Finished(Arc<EventLoadingFinished>),
    Failed(Arc<EventLoadingFailed>),
    Lifecycle(Arc<EventLifecycleEvent>),
    Exception(Arc<EventExceptionThrown>),
    Console(Arc<EventConsoleApiCalled>),
    Crashed,
}

async fn subscribe(page: &Page) -> chromiumoxide::Result<SelectAll<BoxStream<'static, Ev>>> {
    let mut all = SelectAll::new();
    all.push(
        page.event_listener::<EventRequestWillBeSent>()
            .await?
            .map(Ev::Sent)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventResponseReceived>()
            .await?
            .map(Ev::Response)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLoadingFinished>()
            .await?
            .map(Ev::Finished)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLoadingFailed>()
            .await?
            .map(Ev::Failed)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLifecycleEvent>()
            .await?
            .map(Ev::Lifecycle)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventExceptionThrown>()
            .await?
            .map(Ev::Exception)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventConsoleApiCalled>()
            .await?
            .map(Ev::Console)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventTargetCrashed>()
            .await?
            .map(|_| Ev::Crashed)
            .boxed(),
    );
    Ok(all)
}

/// Why a load stopped before its journey was done.
enum Halt {
    /// Recorded in the tracker already (timeout, prober fault, failed document).
    Recorded,
    /// A journey step failed: the step and why.
    Step(String),
}

/// A page under observation: every await in a load goes through `during`, so events keep
/// flowing into the tracker and the deadline holds whatever the load is doing.
struct Session<'a> {
    page: &'a Page,
    settings: &'a LoadSettings,
    events: SelectAll<BoxStream<'static, Ev>>,
    tracker: &'a mut Tracker,
    deadline: tokio::time::Instant,
}

impl Session<'_> {
    /// Feeds events to the tracker until `work` is done.
    async fn during<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Halt> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                ev = self.events.next() => self.apply(ev)?,
                _ = tokio::time::sleep_until(self.deadline) => return Err(self.timed_out()),
            }
        }
    }

    /// Feeds events until the network has been idle for the idle window after the document
    /// loaded.
    async fn until_idle(&mut self) -> Result<(), Halt> {
        self.tracker.update_quiet();
        loop {
            let idle_at = self
                .tracker
                .quiet_since
                .map(|since| tokio::time::Instant::from_std(since + self.settings.idle));
            tokio::select! {
                ev = self.events.next() => self.apply(ev)?,
                _ = sleep_until_opt(idle_at) => return Ok(()),
                _ = tokio::time::sleep_until(self.deadline) => return Err(self.timed_out()),
            }
        }
    }

    fn apply(&mut self, ev: Option<Ev>) -> Result<(), Halt> {
        let Some(ev) = ev else {
            self.tracker.prober_error = Some("page event streams closed".into());
            return Err(Halt::Recorded);
        };
        self.tracker.apply(ev);
        if self.tracker.crashed {
            self.tracker.prober_error = Some("the tab crashed".into());
            return Err(Halt::Recorded);
        }
        if self.tracker.document_broken() {
            return Err(Halt::Recorded);
        }
        self.tracker.update_quiet();
        Ok(())
    }

    fn timed_out(&mut self) -> Halt {
        self.tracker.timed_out = true;
        Halt::Recorded
    }

    /// Opens `url` as the page's document and waits for network idle.
    async fn navigate(&mut self, url: &str) -> Result<(), Halt> {
        // A new document is coming: until it commits, it has no loader.
        self.tracker.loader_id = None;
        self.tracker.navigating_to = Some(url.to_string());
        let nav = self
            .during(self.page.execute(NavigateParams::new(url.to_string())))
            .await?;
        match nav {
            Ok(nav) => {
                self.tracker
                    .expect_document(nav.result.loader_id.as_ref().map(|l| l.inner().clone()));
                if self.tracker.document_broken() {
                    return Err(Halt::Recorded);
                }
                if let Some(error) = nav.result.error_text.clone() {
                    // The document itself failed: Chromium shows its error page, which is not
                    // the site's content, so the load ends here.
                    self.tracker.document_failed(url, error);
                    return Err(Halt::Recorded);
                }
            }
            Err(e) => {
                self.tracker.prober_error = Some(format!("navigating to {url}: {e}"));
                return Err(Halt::Recorded);
            }
        }
        self.until_idle().await
    }
}

/// The whole load: the start URL, then the journey's steps, each followed by network idle
/// where it can start requests.
async fn drive(
    page: &Page,
    url: &str,
    settings: &LoadSettings,
    deadline: Instant,
    tracker: &mut Tracker,
) {
    let events = match subscribe(page).await {
        Ok(events) => events,
        Err(e) => {
            tracker.prober_error = Some(format!("listening to page events: {e}"));
            return;
        }
    };
    let mut session = Session {
        page,
        settings,
        events,
        tracker,
        deadline: tokio::time::Instant::from_std(deadline),
    };
    let mut result = session.navigate(url).await;
    for (i, step) in settings.steps.iter().enumerate() {
        if result.is_err() {
            break;
        }
        session.tracker.step = Some(format!("step {} ({step})", i + 1));
        result = journey::run(&mut session, step, url).await;
    }
    if let Err(Halt::Step(why)) = result {
        let step = session.tracker.step.take().unwrap_or_default();
        session.tracker.step_failed = Some(format!("{step} failed: {why}"));
    }
}

#[derive(Default)]
struct Entry {
    url: String,
    method: String,
    resource_type: String,
    started: Option<(f64, f64)>, // (monotonic seconds, wall seconds)
    ended: Option<f64>,
    status: Option<u16>,
    error: Option<String>,
    canceled: bool,
    version: Option<String>,
}

impl Entry {
    /// Only the site's own http(s) traffic is judged. Chromium's error pages, data: URLs and
    /// the favicon Chromium fetches on its own are not requests the page made: a missing
    /// favicon breaks nothing for a user.
    fn judged(&self) -> bool {
        let web = self.url.starts_with("http://") || self.url.starts_with("https://");
        let own_favicon = self.resource_type == "Other"
            && url::Url::parse(&self.url).is_ok_and(|u| u.path() == "/favicon.ico");
        web && !own_favicon
    }
}

/// Request bookkeeping for one load, fed by events in whatever order they arrive.
struct Tracker {
    ignore: UrlFilter,
    version_header: Option<String>,
    order: Vec<String>,
    entries: HashMap<String, Entry>,
    loader_id: Option<String>,
    loaded_loaders: Vec<String>,
    quiet_since: Option<Instant>,
    js_errors: Vec<(f64, String, String, Option<String>)>,
    timed_out: bool,
    crashed: bool,
    prober_error: Option<String>,
    /// The journey step in progress, for messages.
    step: Option<String>,
    step_failed: Option<String>,
    /// The URL of the last navigation: a document's failure can arrive before its request.
    navigating_to: Option<String>,
}

impl Tracker {
    fn new(settings: &LoadSettings) -> Tracker {
        Tracker {
            ignore: settings.ignore.clone(),
            version_header: settings.version_header.clone(),
            order: Vec::new(),
            entries: HashMap::new(),
            loader_id: None,
            loaded_loaders: Vec::new(),
            quiet_since: None,
            js_errors: Vec::new(),
            timed_out: false,
            crashed: false,
            prober_error: None,
            step: None,
            step_failed: None,
            navigating_to: None,
        }
    }

    fn entry(&mut self, id: &str) -> &mut Entry {
        if !self.entries.contains_key(id) {
            self.order.push(id.to_string());
        }
        self.entries.entry(id.to_string()).or_default()
    }

    fn apply(&mut self, ev: Ev) {
        match ev {
            Ev::Sent(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.url = e.request.url.clone();
                entry.method = e.request.method.clone();
                if let Some(kind) = &e.r#type {
                    entry.resource_type = kind.as_ref().to_string();
                }
                // A redirect reuses the request id: keep the first start, follow the new URL.
                if entry.started.is_none() {
                    entry.started = Some((*e.timestamp.inner(), *e.wall_time.inner()));
                }
            }
            Ev::Response(e) => {
                let header = self.version_header.clone();
                let entry = self.entry(e.request_id.inner());
                entry.status = u16::try_from(e.response.status).ok();
                entry.resource_type = e.r#type.as_ref().to_string();
                if entry.url.is_empty() {
                    entry.url = e.response.url.clone();
                }
                entry.version = header.and_then(|h| header_value(&e.response.headers, &h));
            }
            Ev::Finished(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.ended = Some(*e.timestamp.inner());
            }
            Ev::Failed(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.ended = Some(*e.timestamp.inner());
                entry.error = Some(match &e.blocked_reason {
                    // Blocked by the prober itself (--block uses the inspector's block list).
                    Some(BlockedReason::Inspector) => BLOCKED_BY_PROBER.to_string(),
                    // Blocked by the page's own rules (CSP, mixed content, ...): the site's doing.
                    Some(reason) if e.error_text.is_empty() => {
                        format!("blocked: {}", reason.as_ref())
                    }
                    _ => e.error_text.clone(),
                });
                entry.canceled = e.canceled.unwrap_or(false);
                if entry.resource_type.is_empty() {
                    entry.resource_type = e.r#type.as_ref().to_string();
                }
            }
            Ev::Lifecycle(e) => {
                if e.name == "load" {
                    self.loaded_loaders.push(e.loader_id.inner().clone());
                }
            }
            Ev::Exception(e) => {
                let details = &e.exception_details;
                let text = details
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_else(|| details.text.clone());
                self.js_errors.push((
                    *e.timestamp.inner(),
                    "exception".into(),
                    text,
                    details.url.clone(),
                ));
            }
            Ev::Console(e) => {
                if e.r#type == ConsoleApiCalledType::Error {
                    let text = e.args.iter().map(describe).collect::<Vec<_>>().join(" ");
                    self.js_errors
                        .push((*e.timestamp.inner(), "console".into(), text, None));
                }
            }
            Ev::Crashed => self.crashed = true,
        }
    }

    /// The current document's own request failed after it started (a cut body, a reset): its
    /// load event may never come, and the failure is already recorded, so the load can end.
    /// Chromium gives a document's request the id of its loader.
    fn document_broken(&self) -> bool {
        let failed = |e: &Entry| {
            e.error
                .as_deref()
                .is_some_and(|err| !cancelled_by_page(err, e.canceled))
        };
        match &self.loader_id {
            Some(id) => self.entries.get(id).is_some_and(failed),
            // Still navigating: Chromium may never answer the navigation of a document that
            // broke mid-body, so its request is the only word on it.
            None => self
                .entries
                .values()
                .any(|e| e.resource_type == "Document" && failed(e)),
        }
    }

    fn document_loaded(&self) -> bool {
        self.loader_id
            .as_ref()
            .is_some_and(|id| self.loaded_loaders.iter().any(|l| l == id))
    }

    fn in_flight(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().filter(|e| {
            e.started.is_some() && e.ended.is_none() && e.judged() && !self.ignore.matches(&e.url)
        })
    }

    /// A navigation committed: network idle now waits for this document's load event.
    fn expect_document(&mut self, loader_id: Option<String>) {
        self.loader_id = Some(loader_id.unwrap_or_default());
        self.quiet_since = None;
    }

    /// Network idle starts when the document has loaded and no request is in flight.
    fn update_quiet(&mut self) {
        let quiet = self.document_loaded() && self.in_flight().next().is_none();
        match (quiet, self.quiet_since) {
            (true, None) => self.quiet_since = Some(Instant::now()),
            (false, Some(_)) => self.quiet_since = None,
            _ => {}
        }
    }

    fn document_failed(&mut self, url: &str, error: String) {
        let has_failed_document = self
            .entries
            .values()
            .any(|e| e.resource_type == "Document" && e.error.is_some());
        if !has_failed_document {
            let entry = self.entry("document");
            entry.url = url.to_string();
            entry.method = "GET".into();
            entry.resource_type = "Document".into();
            entry.error = Some(error);
        }
    }

    /// Turns the bookkeeping into the observation, with times relative to the load's start.
    fn finish(self, obs: &mut Observation, settings: &LoadSettings) {
        // CDP timestamps are monotonic seconds; the earliest request also carries wall time,
        // which anchors them to the load's wall-clock start.
        let anchor = self
            .entries
            .values()
            .filter_map(|e| e.started)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let offset_ms = |mono: f64| match anchor {
            Some((mono0, wall0)) => {
                wall0 * 1000.0 - obs.started_at_ms as f64 + (mono - mono0) * 1000.0
            }
            None => 0.0,
        };
        if self.timed_out {
            let pending: Vec<&str> = self.in_flight().map(|e| e.url.as_str()).collect();
            let during = self
                .step
                .as_ref()
                .map(|s| format!(", during {s}"))
                .unwrap_or_default();
            let what = if !self.document_loaded() {
                format!(
                    "document did not finish loading within {:?}",
                    settings.load_timeout
                )
            } else {
                format!(
                    "network not idle within {:?}: {} request(s) in flight: {}",
                    settings.load_timeout,
                    pending.len(),
                    pending.join(", ")
                )
            };
            obs.timed_out = Some(what + &during);
        }
        obs.prober_error = self.prober_error;
        obs.step_failed = self.step_failed;
        let mut entries = self.entries;
        for id in &self.order {
            let Some(mut e) = entries.remove(id) else {
                continue;
            };
            // Event types arrive out of order: a document that failed at once may be known only
            // by its failure, without the request that names it.
            if e.url.is_empty() && e.resource_type == "Document" {
                e.url = self.navigating_to.clone().unwrap_or_default();
                e.method = "GET".into();
            }
            if !e.judged() {
                continue;
            }
            if e.resource_type == "Document" && obs.version.is_none() {
                obs.version = e.version.clone();
            }
            let start_ms = e.started.map_or(0.0, |s| offset_ms(s.0));
            obs.requests.push(Request {
                duration_ms: match (e.started, e.ended) {
                    (Some(s), Some(end)) => Some(((end - s.0) * 1000.0).max(0.0)),
                    _ => None,
                },
                url: e.url,
                method: e.method,
                resource_type: e.resource_type,
                status: e.status,
                error: e.error,
                canceled: e.canceled,
                start_ms,
                version: e.version,
            });
        }
        obs.js_errors = self
            .js_errors
            .into_iter()
            .map(|(ts, kind, text, url)| JsError {
                kind,
                text,
                url,
                // Runtime timestamps are wall-clock milliseconds.
                at_ms: ts - obs.started_at_ms as f64,
            })
            .collect();
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

fn header_value(headers: &Headers, name: &str) -> Option<String> {
    headers
        .inner()
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

fn describe(arg: &RemoteObject) -> String {
    match (&arg.value, &arg.description) {
        (Some(serde_json::Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => d.clone(),
        _ => String::new(),
    }
}

fn elapsed_ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}
