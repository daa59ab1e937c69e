//! One page load: what a worker observed, and the failures and outcome it was judged to have.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a load counts as failed. Ordered by how directly a user sees it, which is the order
/// summaries list them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// A static asset (script, stylesheet, font, image, ...) answered 404 or 410: the classic
    /// cross-version miss during a rollout.
    MissingAsset,
    /// A script, stylesheet or font answered 2xx with content of another kind (the SPA
    /// fallback's index.html), or refused or blocked by the browser for its content: the same
    /// cross-version miss behind an SPA fallback.
    WrongContent,
    /// Any other 4xx/5xx, the document included.
    HttpError,
    /// The request got no HTTP answer: refused, reset, empty response, cut body, ...
    NetworkError,
    /// The server's certificate was refused as a browser refuses it (untrusted issuer, expired,
    /// wrong name, ...): on the document, the user sees a full-page warning.
    TlsError,
    /// The document did not load, or the network never went idle, within the load timeout.
    Timeout,
    /// No visible element matched `--expect-selector` when the load ended: the app did not mount.
    NotRendered,
    /// Without `--expect-selector`: the page ended with no text and no visible element at all.
    BlankPage,
    /// A step of the user journey failed (no element to click, an `eval` not truthy, ...).
    StepFailed,
    /// The page navigated itself again and again in one load: a reload loop (an app that
    /// forces an update it never gets, a version check that always disagrees). The user sees a
    /// page that flashes and never settles.
    ReloadLoop,
    /// An uncaught exception or console error in the page.
    JsError,
    /// The prober's own fault (browser crash, CDP error). Never counted as the site's downtime.
    ProberError,
}

impl FailureClass {
    /// Whether failures of this class make a load fail. JS errors are always recorded but only
    /// count when asked; the prober's own faults never count against the site. `counted`: the
    /// classes a run counts, all of the site's when `None`.
    pub fn counts(self, fail_on_js_error: bool, counted: Option<&[FailureClass]>) -> bool {
        match self {
            FailureClass::ProberError => false,
            FailureClass::JsError if fail_on_js_error => true,
            _ => counted.map_or(self != FailureClass::JsError, |c| c.contains(&self)),
        }
    }
}

impl FailureClass {
    pub const ALL: [FailureClass; 12] = [
        FailureClass::MissingAsset,
        FailureClass::WrongContent,
        FailureClass::HttpError,
        FailureClass::NetworkError,
        FailureClass::TlsError,
        FailureClass::Timeout,
        FailureClass::NotRendered,
        FailureClass::BlankPage,
        FailureClass::StepFailed,
        FailureClass::ReloadLoop,
        FailureClass::JsError,
        FailureClass::ProberError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::MissingAsset => "missing_asset",
            FailureClass::WrongContent => "wrong_content",
            FailureClass::HttpError => "http_error",
            FailureClass::NetworkError => "network_error",
            FailureClass::TlsError => "tls_error",
            FailureClass::Timeout => "timeout",
            FailureClass::NotRendered => "not_rendered",
            FailureClass::BlankPage => "blank_page",
            FailureClass::StepFailed => "step_failed",
            FailureClass::ReloadLoop => "reload_loop",
            FailureClass::JsError => "js_error",
            FailureClass::ProberError => "prober_error",
        }
    }
}

impl std::fmt::Display for FailureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a deployment a load started. A plain run is one `run` phase; wrapping a deploy
/// command gives `baseline` (before it), `rollout` (while it runs) and `settle` (after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Run,
    Baseline,
    Rollout,
    Settle,
}

impl Phase {
    /// In the order a run goes through them.
    pub const ALL: [Phase; 4] = [Phase::Run, Phase::Baseline, Phase::Rollout, Phase::Settle];

    /// The phase a load belongs to, from the phases at its start and end: a load in flight at
    /// any moment of the rollout is a rollout load, so a failure the rollout caused is never
    /// blamed on the baseline or the settle phase.
    pub fn of_load(started: Phase, ended: Phase) -> Phase {
        if started <= Phase::Rollout && ended >= Phase::Rollout && started != Phase::Run {
            Phase::Rollout
        } else {
            started
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Run => "run",
            Phase::Baseline => "baseline",
            Phase::Rollout => "rollout",
            Phase::Settle => "settle",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One network request of a page load, as Chromium reported it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub url: String,
    pub method: String,
    /// DevTools resource type: Document, Script, Stylesheet, Image, Font, Fetch, XHR, ...
    pub resource_type: String,
    /// HTTP status, when a response arrived.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// Chromium's net error text (`net::ERR_CONNECTION_REFUSED`, ...), when the request failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Chromium marks requests the page itself cancelled (navigation away, AbortController).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub canceled: bool,
    /// Milliseconds from the start of the load to the start of this request.
    pub start_ms: f64,
    /// Milliseconds the request took; absent while it never finished.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_ms: Option<f64>,
    /// App version of the backend that answered, from the version header when configured.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// The pod that answered, from the pod header (`--pod-header`, else a common one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pod: Option<String>,
    /// The response's MIME type as Chromium understood it (`text/html`, `text/javascript`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// The response's `Content-Type` header as the server sent it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_type: Option<String>,
    /// Bytes received for it (headers and body as sent on the wire), once it finished.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub encoded_bytes: Option<u64>,
    /// Why Chromium blocked the response (`content-type`, `integrity`, `csp`, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked: Option<String>,
    /// The browser's own error refusing this response (strict MIME type checking, a failed
    /// integrity check), as it logged it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refused: Option<String>,
    /// An event stream, WebSocket, or fetch/XHR open longer than `--long-request`: the load did
    /// not wait for it, and a cut after it was open is recorded, not a failure (apps reconnect).
    /// Without `duration_ms` it was still open when the load ended.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub long_lived: bool,
    /// The worker that made it, when not the page: `worker https://…/worker-3f9a.js`,
    /// `service worker https://…/sw.js`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub worker: Option<String>,
    /// Where the answer came from, when not the network: a browser that remembers answers
    /// from its caches and its service worker.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<Source>,
    /// The caching headers of the document, and of an answer that may be a failure (an error
    /// status, an HTML page where an asset was), by lowercase name: what caches do with it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub cache: BTreeMap<String, String>,
}

/// The response headers that say how an answer is cached, and by whom: recorded on failures.
pub const CACHE_HEADERS: [&str; 9] = [
    "cache-control",
    "age",
    "expires",
    "etag",
    "vary",
    "x-cache",
    "cf-cache-status",
    "x-served-by",
    "via",
];

/// Where an answer came from besides the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The browser's HTTP cache (memory or disk).
    HttpCache,
    /// The service worker answered from its cache storage (a precache, a runtime cache).
    ServiceWorkerCache,
    /// The service worker answered some other way (it fetched, or built the answer).
    ServiceWorker,
}

impl Source {
    /// As the JSON spells it: `service_worker_cache`.
    pub fn key(self) -> &'static str {
        match self {
            Source::HttpCache => "http_cache",
            Source::ServiceWorkerCache => "service_worker_cache",
            Source::ServiceWorker => "service_worker",
        }
    }

    /// In words, for a failure's message: `from the service worker's cache`.
    pub fn words(self) -> &'static str {
        match self {
            Source::HttpCache => "from the browser's HTTP cache",
            Source::ServiceWorkerCache => "from the service worker's cache",
            Source::ServiceWorker => "by the service worker",
        }
    }
}

/// How [`Request::worker`] starts for a service worker's requests.
pub const SERVICE_WORKER: &str = "service worker";

impl Request {
    /// Made by a service worker (its script, its imports, its precache fetches).
    pub fn by_service_worker(&self) -> bool {
        self.worker
            .as_deref()
            .is_some_and(|w| w.starts_with(SERVICE_WORKER))
    }
}

/// One reason a load failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub load_id: u64,
    pub phase: Phase,
    pub class: FailureClass,
    /// The request (or page) the failure is about.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// A one-line human explanation.
    pub message: String,
    /// When it happened, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// App version of the backend that answered the failing request, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// The pod that answered the failing request (or failed to), when an answer named it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pod: Option<String>,
    /// The app version of the page the failure happened on, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub page_version: Option<String>,
    /// Where the failing answer came from, when not the network (a cache, a service worker).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<Source>,
    /// The failing answer's caching headers (`cache-control`, `age`, `x-cache`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub cache: BTreeMap<String, String>,
    /// The failing answer was sent cacheable: browsers and CDNs may keep it this many seconds
    /// (0: cacheable for as long as a cache decides, `public` or `immutable` without an age).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cacheable_s: Option<u64>,
    /// What the message cannot say: for a missing asset, which version served the page and
    /// which the asset; for a timeout, that the prober's own CPU may have caused it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub diagnosis: Option<String>,
}

/// The verdict on one load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    /// The prober could not make a meaningful load; says nothing about the site.
    ProberError,
}

/// Everything a worker saw during one page load, before judging. Lives only until the recorder
/// has digested it (or in a saved fixture, see `--save-observations`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub id: u64,
    pub worker: usize,
    pub phase: Phase,
    /// The start URL this load opened.
    pub url: String,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    pub duration_ms: f64,
    pub requests: Vec<Request>,
    pub js_errors: Vec<JsError>,
    /// The dialogs the page opened (`alert`, `confirm`, ...), each answered as the run's user
    /// does (`--dialogs`: dismissed by default), and a page asking to be left is left.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dialogs: Vec<Dialog>,
    /// Set when the load did not finish: which deadline it missed and why.
    pub timed_out: Option<String>,
    /// Set when the prober itself failed (CDP error, browser gone).
    pub prober_error: Option<String>,
    /// Set when a journey step failed: which and why.
    pub step_failed: Option<String>,
    /// New documents the page's main frame committed by itself during the load (a reload, a
    /// `location` change), journey steps' navigations aside.
    #[serde(skip_serializing_if = "is_zero_u32", default)]
    pub self_navigations: u32,
    /// What the page showed at the end of a load that got its document (the judge ignores it
    /// when a step failed or the document was an error); absent when the load timed out or the
    /// prober failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub render: Option<Render>,
    /// App version of the document, when a version source is configured.
    pub version: Option<String>,
    /// A later stretch of a page already loaded (an open tab's round): it has no document
    /// request of its own.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub continues_page: bool,
    /// The load ended after the run was interrupted (Ctrl-C, SIGTERM).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub after_interrupt: bool,
    /// What was saved of this failed load (`--artifacts`), when it was among the first of its
    /// failure class or failing URL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifacts: Option<LoadArtifacts>,
}

/// The evidence saved of one failed load: a screenshot of the page when the load ended and a
/// HAR file of its requests, as the paths they were written to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadArtifacts {
    /// PNG screenshot (absolute path).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub screenshot: Option<String>,
    /// HAR 1.2 file of the load's requests (absolute path).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub har: Option<String>,
    /// The screenshot itself, base64, when small enough to embed in the HTML report (exporters
    /// never read files).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub screenshot_base64: Option<String>,
    /// What could not be saved, and why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl Observation {
    /// A load starting at `started_at_ms`, with nothing observed yet.
    pub fn start(
        id: u64,
        worker: usize,
        phase: Phase,
        url: String,
        started_at_ms: u64,
    ) -> Observation {
        Observation {
            id,
            worker,
            phase,
            url,
            started_at_ms,
            duration_ms: 0.0,
            requests: Vec::new(),
            js_errors: Vec::new(),
            dialogs: Vec::new(),
            timed_out: None,
            prober_error: None,
            step_failed: None,
            self_navigations: 0,
            render: None,
            continues_page: false,
            version: None,
            after_interrupt: false,
            artifacts: None,
        }
    }
}

/// What the page showed at the end of a load, read in the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Render {
    /// `--expect-selector`, and whether a visible element matched it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub selector: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub matched: bool,
    /// The body had no text and no visible element at all (a canvas or image is visible).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub blank: bool,
}

/// A JavaScript dialog the page opened during a load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dialog {
    /// `alert`, `confirm`, `prompt` or `beforeunload`.
    pub kind: String,
    pub message: String,
    /// The document that opened it.
    pub url: String,
    /// How the user answered: `dismissed`, `accepted`, or `left` (a page asking to be left).
    /// Absent in reports written before it was recorded, when every one was dismissed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub answer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsError {
    /// `exception` or `console`.
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    pub at_ms: f64,
}

/// The compact per-load line every report keeps, for good loads as for bad ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub id: u64,
    pub worker: usize,
    pub phase: Phase,
    /// The start URL, when the run has several.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    pub started_at_ms: u64,
    pub duration_ms: f64,
    pub outcome: Outcome,
    /// Distinct failure classes of this load (empty when it succeeded).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub classes: Vec<FailureClass>,
    /// What it failed on, each resource and class once: what a deployment is judged on
    /// against its baseline.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failed_on: Vec<FailedOn>,
    pub requests: u32,
    /// Of those, event streams, WebSockets and long polls the load did not wait for.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub long_lived_requests: u32,
    /// App version of the document.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// Every app version that answered any request of this load, from the version header.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub served_by: Vec<String>,
    /// Every pod that answered any request of this load, from the pod header.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pods: Vec<String>,
    /// The evidence saved of this failed load (`--artifacts`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifacts: Option<LoadArtifacts>,
    /// The dialogs the page opened, answered as a user would.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dialogs: Vec<Dialog>,
}

/// One counted failure of a load, as the baseline comparison matches it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailedOn {
    pub class: FailureClass,
    /// The resource, without its query string.
    pub url: String,
    /// The page itself failed: its document did not load in time or at all, or it never
    /// rendered. A baseline whose loads mostly fail so cannot vouch for the site.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub page: bool,
}

/// Full detail of a failed load, kept for the first failed loads only (memory stays bounded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadDetail {
    pub load_id: u64,
    pub requests: Vec<Request>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub js_errors: Vec<JsError>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}
