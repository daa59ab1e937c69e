//! The books of one load's requests, fed by page events in whatever order they arrive, and
//! turned into the load's observation at the end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide_cdp::cdp::browser_protocol::log::{LogEntry, LogEntryLevel, LogEntrySource};
use chromiumoxide_cdp::cdp::browser_protocol::network::{
    BlockedReason, EventLoadingFailed, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide_cdp::cdp::js_protocol::runtime::{ConsoleApiCalledType, EventExceptionThrown};

use super::LoadSettings;
use super::entry::{Entry, Wire};
use super::events::{
    Backend, BrowserError, PageEvent, cache_headers, describe, header_value, source,
};
use crate::cdp::Page;
use crate::defaults::RELOAD_LOOP_DOCUMENTS;
use crate::filter::UrlFilter;
use crate::judge::classify::{BLOCKED_BY_PROBER, cancelled_by_page};
use crate::model::{Dialog, JsError, Observation, SERVICE_WORKER, Source};

/// How Chromium says a request was cancelled; given to the requests of a document the tab left.
const ABORTED: &str = "net::ERR_ABORTED";
/// The key of a failed document known only from the navigation's answer.
const SYNTHETIC_DOCUMENT: &str = "document";

/// Request bookkeeping for one load, fed by events in whatever order they arrive.
#[derive(Clone)]
pub(super) struct Tracker {
    /// The page's own session; the others are the workers' and frames' it attached.
    page_session: String,
    main_frame: String,
    /// What each attached session is, for requests it makes: `service worker https://…/sw.js`.
    children: HashMap<String, Arc<str>>,
    /// The last CDP timestamp seen: when a document the tab left closed its requests.
    last_ts: f64,
    /// Recorded, with its answer, by the session that gives it.
    pub(super) dialogs: Vec<Dialog>,
    pub(super) ignore: UrlFilter,
    backend: Backend,
    long_request: Duration,
    browser_errors: Vec<BrowserError>,
    pub(super) order: Vec<String>,
    entries: HashMap<String, Entry>,
    pub(super) loader_id: Option<String>,
    pub(super) loaded_loaders: Vec<String>,
    pub(super) quiet_since: Option<Instant>,
    pub(super) js_errors: Vec<(f64, String, String, Option<String>)>,
    pub(super) timed_out: bool,
    pub(super) crashed: bool,
    pub(super) prober_error: Option<String>,
    /// The journey step in progress, for messages.
    pub(super) step: Option<String>,
    pub(super) step_failed: Option<String>,
    /// The URL of the last navigation: a document's failure can arrive before its request.
    pub(super) navigating_to: Option<String>,
    /// New documents the page's main frame committed by itself, no journey step asking.
    self_navigations: u32,
}

impl Tracker {
    pub(super) fn new(settings: &LoadSettings, page: &Page) -> Tracker {
        Tracker {
            page_session: page.session().to_string(),
            main_frame: page.main_frame().to_string(),
            children: HashMap::new(),
            last_ts: 0.0,
            dialogs: Vec::new(),
            ignore: settings.ignore.clone(),
            backend: Backend::of(settings),
            long_request: settings.long_request,
            browser_errors: Vec::new(),
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
            self_navigations: 0,
        }
    }

    /// Fresh books for a later stretch of the same page: the document it shows stays loaded.
    pub(super) fn next_round(&self, settings: &LoadSettings, page: &Page) -> Tracker {
        Tracker {
            children: self.children.clone(),
            loader_id: self.loader_id.clone(),
            loaded_loaders: self.loaded_loaders.clone(),
            navigating_to: self.navigating_to.clone(),
            ..Tracker::new(settings, page)
        }
    }

    fn entry(&mut self, id: &str) -> &mut Entry {
        if !self.entries.contains_key(id) {
            self.order.push(id.to_string());
        }
        self.entries.entry(id.to_string()).or_default()
    }

    /// Takes in one event of `session` (the page's, or one the page attached).
    pub(super) fn apply(&mut self, session: &str, ev: PageEvent) {
        match ev {
            PageEvent::Sent(e) => self.sent(session, e),
            PageEvent::Response(e) => {
                self.last_ts = *e.timestamp.inner();
                self.response(&e);
                let id = e.request_id.inner().clone();
                self.entry(&id).wire.response = Some(e);
            }
            PageEvent::FromCache(id) => self.entry(&id).source = Some(Source::HttpCache),
            PageEvent::Finished(e) => {
                self.last_ts = *e.timestamp.inner();
                let entry = self.entry(e.request_id.inner());
                entry.ended = Some(*e.timestamp.inner());
                entry.encoded_bytes = Some(e.encoded_data_length.max(0.0) as u64);
            }
            PageEvent::Failed(e) => {
                self.last_ts = *e.timestamp.inner();
                self.failed(&e)
            }
            PageEvent::Navigated(e) => {
                // Chromium's error page for a failed navigation is not a document of the site:
                // the failed request says what happened.
                let error_page = e.frame.url.starts_with("chrome-error:");
                let main = session == self.page_session && e.frame.id.inner() == &self.main_frame;
                if main && !error_page {
                    self.committed(e.frame.loader_id.inner());
                }
            }
            PageEvent::Attached(e) => {
                // CDP's `service_worker` reads as the model's SERVICE_WORKER.
                let (kind, url) = (e.target_info.r#type.replace('_', " "), &e.target_info.url);
                let what: Arc<str> = format!("{kind} {url}").into();
                self.children.insert(e.session_id.inner().clone(), what);
            }
            PageEvent::Dialog(_) => {}
            PageEvent::SocketCreated(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.url = e.url.clone();
                entry.method = "GET".into();
                entry.resource_type = "WebSocket".into();
            }
            PageEvent::SocketHandshake(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.started = Some((*e.timestamp.inner(), *e.wall_time.inner()));
            }
            PageEvent::SocketOpened(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.status = u16::try_from(e.response.status).ok();
                entry.long_lived = entry.status == Some(101);
            }
            PageEvent::SocketError(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.error.get_or_insert_with(|| e.error_message.clone());
                entry.ended.get_or_insert(*e.timestamp.inner());
            }
            // Closed without an error: by the page itself (Chromium reports the server's
            // failures as frame errors).
            PageEvent::SocketClosed(e) => {
                let entry = self.entry(e.request_id.inner());
                entry.ended.get_or_insert(*e.timestamp.inner());
            }
            PageEvent::Log(e) => self.logged(&e.entry),
            PageEvent::Lifecycle(e) => {
                if e.name == "load" {
                    self.loaded_loaders.push(e.loader_id.inner().clone());
                }
            }
            PageEvent::Exception(e) => self.exception(&e),
            PageEvent::Console(e) => {
                if e.r#type == ConsoleApiCalledType::Error {
                    let text = e.args.iter().map(describe).collect::<Vec<_>>().join(" ");
                    self.js_errors
                        .push((*e.timestamp.inner(), "console".into(), text, None));
                }
            }
            PageEvent::Crashed => self.crashed = true,
        }
    }

    /// The tab's main frame committed a document: a new one (a link, a form, `location.href`)
    /// is what the load waits for from now on, and the requests the old one left open will never
    /// finish: they were cancelled by the navigation, as a user's browser cancels them. A
    /// service worker's go on: it outlives the document.
    fn committed(&mut self, loader: &str) {
        if self.loader_id.as_deref() == Some(loader) {
            return;
        }
        if self.loader_id.is_some() && self.step.is_none() {
            self.self_navigations += 1;
        }
        let now = self.last_ts;
        for e in self.entries.values_mut() {
            let left = e.loader.as_deref() != Some(loader);
            let lives_on = e
                .worker
                .as_deref()
                .is_some_and(|w| w.starts_with(SERVICE_WORKER));
            if e.open() && left && !lives_on {
                e.ended = Some(now.max(e.started.map_or(now, |s| s.0)));
                e.error.get_or_insert_with(|| ABORTED.to_string());
                e.canceled = true;
            }
        }
        self.loader_id = Some(loader.to_string());
        self.quiet_since = None;
    }

    /// A request starts; a worker's is marked as the worker's.
    fn sent(&mut self, session: &str, e: Arc<EventRequestWillBeSent>) {
        self.last_ts = *e.timestamp.inner();
        let worker = self.children.get(session).cloned();
        let entry = self.entry(e.request_id.inner());
        entry.worker = entry.worker.take().or(worker);
        entry.wire.request = Some(e.clone());
        if entry.loader.is_none() && !e.loader_id.inner().is_empty() {
            entry.loader = Some(e.loader_id.inner().clone());
        }
        // A redirect reuses the request id: the URL the page asked for is the one to report (a
        // bundle redirected to /index.html is still that bundle).
        if entry.url.is_empty() {
            entry.url = e.request.url.clone();
        }
        entry.method = e.request.method.clone();
        if let Some(kind) = &e.r#type {
            entry.resource_type = kind.as_ref().to_string();
        }
        if entry.started.is_none() {
            entry.started = Some((*e.timestamp.inner(), *e.wall_time.inner()));
            entry.seen = Some(Instant::now());
        }
    }

    fn response(&mut self, e: &EventResponseReceived) {
        let backend = self.backend.clone();
        let entry = self.entry(e.request_id.inner());
        entry.status = u16::try_from(e.response.status).ok();
        entry.resource_type = e.r#type.as_ref().to_string();
        if entry.url.is_empty() {
            entry.url = e.response.url.clone();
        }
        (entry.version, entry.pod) = backend.read(&e.response.headers);
        entry.mime_type = Some(e.response.mime_type.clone()).filter(|m| !m.is_empty());
        entry.content_type = header_value(&e.response.headers, "content-type");
        entry.source = entry.source.or(source(&e.response));
        entry.cache = cache_headers(&e.response, &entry.resource_type);
        // An event stream is open once it is answered as one; the load does not wait for its
        // end, which never comes. Any other answer is the browser's to refuse, and the judge's.
        entry.long_lived |= entry.resource_type == "EventSource"
            && entry.status == Some(200)
            && entry.mime_type.as_deref() == Some("text/event-stream");
    }

    fn failed(&mut self, e: &EventLoadingFailed) {
        let entry = self.entry(e.request_id.inner());
        entry.ended = Some(*e.timestamp.inner());
        // An abort after the failure is known (a failed document's error page) adds nothing.
        let cancel = e.canceled.unwrap_or(false) && e.error_text == ABORTED;
        if cancel && entry.error.is_some() {
            return;
        }
        entry.error = Some(match &e.blocked_reason {
            // Blocked by the prober itself (--block uses the inspector's block list).
            Some(BlockedReason::Inspector) => BLOCKED_BY_PROBER.to_string(),
            // Blocked by the page's own rules (CSP, mixed content, ...): the site's doing.
            Some(reason) if e.error_text.is_empty() => format!("blocked: {}", reason.as_ref()),
            _ => e.error_text.clone(),
        });
        entry.blocked = e
            .blocked_reason
            .as_ref()
            .filter(|r| **r != BlockedReason::Inspector)
            .map(|r| r.as_ref().to_string());
        entry.canceled = e.canceled.unwrap_or(false);
        if entry.resource_type.is_empty() {
            entry.resource_type = e.r#type.as_ref().to_string();
        }
    }

    /// The browser's own errors about the page's resources: where it refused a response.
    fn logged(&mut self, entry: &LogEntry) {
        let refused_by_browser = matches!(
            entry.source,
            LogEntrySource::Javascript | LogEntrySource::Security
        );
        if entry.level == LogEntryLevel::Error && refused_by_browser {
            self.browser_errors.push(BrowserError {
                text: entry.text.clone(),
                url: entry.url.clone(),
                request_id: entry
                    .network_request_id
                    .as_ref()
                    .map(|id| id.inner().clone()),
            });
        }
    }

    fn exception(&mut self, e: &EventExceptionThrown) {
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

    /// The current document's own request (its id is its loader's) failed after it started (a
    /// cut body, a reset), or the page reloads itself in a loop: it never settles, the failure
    /// is recorded already, and the load can end.
    pub(super) fn document_broken(&self) -> bool {
        let failed = |e: &Entry| {
            e.error
                .as_deref()
                .is_some_and(|err| !cancelled_by_page(err, e.canceled))
        };
        let mut documents = self
            .entries
            .values()
            .filter(|e| e.resource_type == "Document");
        match &self.loader_id {
            _ if self.self_navigations as usize + 1 >= RELOAD_LOOP_DOCUMENTS => true,
            Some(id) => self.entries.get(id).is_some_and(failed),
            // Still navigating: Chromium may never answer the navigation of a document that
            // broke mid-body, so its request is the only word on it.
            None => documents.any(failed),
        }
    }

    pub(super) fn document_loaded(&self) -> bool {
        self.loader_id
            .as_ref()
            .is_some_and(|id| self.loaded_loaders.iter().any(|l| l == id))
    }

    /// The requests the load waits for. Documents, scripts, stylesheets, fonts and images
    /// always hold it, so a hanging asset is still a timeout; WebSockets never do, and event
    /// streams and long polls stop holding it once they are long-lived.
    fn holding(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().filter(|e| {
            e.open()
                && !e.long_lived
                && e.resource_type != "WebSocket"
                && e.judged()
                && !self.ignore.matches(&e.url)
        })
    }

    /// The document is loaded and nothing holds the load.
    pub(super) fn settled(&self) -> bool {
        self.document_loaded() && self.holding().next().is_none()
    }

    /// When the next fetch or XHR in flight becomes long-lived, if none finishes first.
    pub(super) fn next_long_request(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|e| e.open() && e.may_turn_long())
            .filter_map(|e| e.seen)
            .min()
            .map(|seen| seen + self.long_request)
    }

    fn mark_long_requests(&mut self) {
        let now = Instant::now();
        let threshold = self.long_request;
        for e in self.entries.values_mut() {
            if e.open() && e.may_turn_long() && e.seen.is_some_and(|s| s + threshold <= now) {
                e.long_lived = true;
            }
        }
    }

    /// A navigation committed: network idle now waits for this document's load event.
    pub(super) fn expect_document(&mut self, loader_id: Option<String>) {
        match loader_id {
            Some(loader) => self.committed(&loader),
            None => self.loader_id = Some(String::new()),
        }
        self.quiet_since = None;
    }

    /// Network idle starts when the document has loaded and no request is in flight.
    pub(super) fn update_quiet(&mut self) {
        self.mark_long_requests();
        let quiet = self.settled();
        match (quiet, self.quiet_since) {
            (true, None) => self.quiet_since = Some(Instant::now()),
            (false, Some(_)) => self.quiet_since = None,
            _ => {}
        }
    }

    pub(super) fn document_failed(&mut self, url: &str, error: String) {
        // The navigation's answer is the truth about its document: Chromium may report the
        // request itself as merely aborted when its error page replaces it.
        let loader = self.loader_id.clone().unwrap_or_default();
        if let Some(entry) = self.entries.get_mut(&loader) {
            if entry
                .error
                .as_deref()
                .is_none_or(|e| cancelled_by_page(e, entry.canceled))
            {
                entry.error = Some(error);
                entry.canceled = false;
            }
            return;
        }
        let has_failed_document = self
            .entries
            .values()
            .any(|e| e.resource_type == "Document" && e.error.is_some());
        if !has_failed_document {
            let entry = self.entry(SYNTHETIC_DOCUMENT);
            entry.url = url.to_string();
            entry.method = "GET".into();
            entry.resource_type = "Document".into();
            entry.error = Some(error);
        }
    }

    /// Which deadline the load missed, and what was still going on.
    fn why_timed_out(&self, load_timeout: std::time::Duration) -> String {
        let pending: Vec<&str> = self.holding().map(|e| e.url.as_str()).collect();
        let during = (self.step.as_ref()).map_or(String::new(), |s| format!(", during {s}"));
        let what = if !self.document_loaded() {
            format!("document did not finish loading within {load_timeout:?}")
        } else {
            format!(
                "network not idle within {load_timeout:?}: {} request(s) in flight: {}",
                pending.len(),
                pending.join(", ")
            )
        };
        what + &during
    }

    /// Turns the bookkeeping into the observation, with times relative to the load's start.
    /// Gives each of its requests' CDP events, in the order of `obs.requests`.
    pub(super) fn finish(self, obs: &mut Observation, settings: &LoadSettings) -> Vec<Wire> {
        let mut wires = Vec::new();
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
            obs.timed_out = Some(self.why_timed_out(settings.load_timeout));
        }
        obs.prober_error = self.prober_error;
        obs.step_failed = self.step_failed;
        obs.self_navigations = self.self_navigations;
        let mut entries = self.entries;
        drop_stand_in(&mut entries);
        let refused = refusals(&self.browser_errors, &self.order, &entries);
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
            let (request, wire) = e.into_request(start_ms, refused.get(id).cloned());
            wires.push(wire);
            obs.requests.push(request);
        }
        obs.dialogs = self.dialogs;
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
        wires
    }
}

/// Which request each of the browser's refusals belongs to: the one it names by id, else, of
/// the requests for its URL, the first answered with an HTML page (the fallback's, where an
/// asset was), else the first. One request each: never a later, good request for the URL.
fn refusals(
    errors: &[BrowserError],
    order: &[String],
    entries: &HashMap<String, Entry>,
) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for error in errors {
        let asset = |id: &&String| {
            let e = entries.get(*id);
            e.is_some_and(|e| e.resource_type != "Document" && error.names(&e.url))
        };
        let free: Vec<&String> = (order.iter().filter(asset))
            .filter(|id| !out.contains_key(*id))
            .collect();
        let html = |id: &&&String| {
            let mime = entries[**id].mime_type.as_deref();
            mime.is_some_and(|m| m.contains("html"))
        };
        let chosen = (error.request_id.as_ref())
            .filter(|id| entries.contains_key(*id))
            .or_else(|| free.iter().find(html).copied())
            .or_else(|| free.first().copied());
        if let Some(id) = chosen {
            out.entry(id.clone()).or_insert_with(|| error.text.clone());
        }
    }
    out
}

/// The navigation's own word on a failed document stands in for its request only until the
/// request's failure arrives (events that came while the load wound up).
fn drop_stand_in(entries: &mut HashMap<String, Entry>) {
    let reported = entries.iter().any(|(id, e)| {
        let failed = e
            .error
            .as_deref()
            .is_some_and(|err| !cancelled_by_page(err, e.canceled));
        id != SYNTHETIC_DOCUMENT && e.resource_type == "Document" && failed
    });
    if reported {
        entries.remove(SYNTHETIC_DOCUMENT);
    }
}
