//! The page events a load listens to, decoded from the page's session and from the sessions of
//! the workers, service workers and frames it attached. Everything is keyed by request id: the
//! request of a worker's script can start in the page's session and end in the worker's.

use std::collections::BTreeMap;
use std::sync::Arc;

use chromiumoxide_cdp::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide_cdp::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestServedFromCache, EventRequestWillBeSent,
    EventResponseReceived, EventWebSocketClosed, EventWebSocketCreated, EventWebSocketFrameError,
    EventWebSocketHandshakeResponseReceived, EventWebSocketWillSendHandshakeRequest,
};
use chromiumoxide_cdp::cdp::browser_protocol::page::{
    EventFrameNavigated, EventJavascriptDialogOpening, EventLifecycleEvent,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::EventAttachedToTarget;
use chromiumoxide_cdp::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};

use chromiumoxide_cdp::cdp::browser_protocol::network::{Headers, Response};
use chromiumoxide_cdp::cdp::js_protocol::runtime::RemoteObject;

use crate::cdp::Event;
use crate::model::{CACHE_HEADERS, ContentKind, Source};

pub(super) enum PageEvent {
    Sent(Arc<EventRequestWillBeSent>),
    Response(Arc<EventResponseReceived>),
    /// The request (its id) was answered from the browser's memory cache: no response event
    /// says so.
    FromCache(String),
    Finished(Box<EventLoadingFinished>),
    Failed(Box<EventLoadingFailed>),
    /// WebSockets have events of their own: CDP never reports them as requests.
    SocketCreated(Box<EventWebSocketCreated>),
    SocketHandshake(Box<EventWebSocketWillSendHandshakeRequest>),
    SocketOpened(Box<EventWebSocketHandshakeResponseReceived>),
    SocketError(Box<EventWebSocketFrameError>),
    SocketClosed(Box<EventWebSocketClosed>),
    Lifecycle(Box<EventLifecycleEvent>),
    /// A frame committed a new document (the main frame's: a new page in the same tab).
    Navigated(Box<EventFrameNavigated>),
    /// The page attached a worker, a service worker or a frame of another process: it waits
    /// for the prober before it runs.
    Attached(Box<EventAttachedToTarget>),
    /// `alert`, `confirm`, `prompt` or `beforeunload`: the page waits for an answer.
    Dialog(Box<EventJavascriptDialogOpening>),
    Exception(Box<EventExceptionThrown>),
    Console(Box<EventConsoleApiCalled>),
    /// The browser's own messages, where it says it refused a response.
    Log(Box<EventEntryAdded>),
    Crashed,
}

impl PageEvent {
    /// The event, when it is one a load listens to and it decodes.
    pub(super) fn decode(ev: &Event) -> Option<PageEvent> {
        Some(match ev.method.as_str() {
            "Network.requestWillBeSent" => PageEvent::Sent(Arc::new(ev.decode()?)),
            "Network.responseReceived" => PageEvent::Response(Arc::new(ev.decode()?)),
            "Network.requestServedFromCache" => {
                let e: EventRequestServedFromCache = ev.decode()?;
                PageEvent::FromCache(e.request_id.inner().clone())
            }
            "Network.loadingFinished" => PageEvent::Finished(Box::new(ev.decode()?)),
            "Network.loadingFailed" => PageEvent::Failed(Box::new(ev.decode()?)),
            "Network.webSocketCreated" => PageEvent::SocketCreated(Box::new(ev.decode()?)),
            "Network.webSocketWillSendHandshakeRequest" => {
                PageEvent::SocketHandshake(Box::new(ev.decode()?))
            }
            "Network.webSocketHandshakeResponseReceived" => {
                PageEvent::SocketOpened(Box::new(ev.decode()?))
            }
            "Network.webSocketFrameError" => PageEvent::SocketError(Box::new(ev.decode()?)),
            "Network.webSocketClosed" => PageEvent::SocketClosed(Box::new(ev.decode()?)),
            "Page.lifecycleEvent" => PageEvent::Lifecycle(Box::new(ev.decode()?)),
            "Page.frameNavigated" => PageEvent::Navigated(Box::new(ev.decode()?)),
            "Page.javascriptDialogOpening" => PageEvent::Dialog(Box::new(ev.decode()?)),
            "Target.attachedToTarget" => PageEvent::Attached(Box::new(ev.decode()?)),
            "Runtime.exceptionThrown" => PageEvent::Exception(Box::new(ev.decode()?)),
            "Runtime.consoleAPICalled" => PageEvent::Console(Box::new(ev.decode()?)),
            "Log.entryAdded" => PageEvent::Log(Box::new(ev.decode()?)),
            "Inspector.targetCrashed" => PageEvent::Crashed,
            _ => return None,
        })
    }
}

/// Which backend answered, as the response headers name it: the app version (the version
/// header, when set) and the pod (the pod header, else the first common one an answer has).
#[derive(Clone, Debug, Default)]
pub(super) struct Backend {
    version_header: Option<String>,
    pod_header: Option<String>,
}

impl Backend {
    pub(super) fn of(settings: &super::LoadSettings) -> Backend {
        Backend {
            version_header: settings.version_header.clone(),
            pod_header: settings.pod_header.clone(),
        }
    }

    /// `(version, pod)`.
    pub(super) fn read(&self, headers: &Headers) -> (Option<String>, Option<String>) {
        let version = (self.version_header.as_deref()).and_then(|h| header_value(headers, h));
        let pod = match &self.pod_header {
            Some(h) => header_value(headers, h),
            None => (crate::defaults::POD_HEADERS.iter()).find_map(|h| header_value(headers, h)),
        };
        (version, pod)
    }
}

/// A response header's value, whatever the case of its name.
pub(super) fn header_value(headers: &Headers, name: &str) -> Option<String> {
    headers
        .inner()
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// Where Chromium says a response came from, when not the network.
pub(super) fn source(r: &Response) -> Option<Source> {
    use chromiumoxide_cdp::cdp::browser_protocol::network::ServiceWorkerResponseSource as Sw;
    if r.from_service_worker == Some(true) {
        return Some(match r.service_worker_response_source {
            Some(Sw::CacheStorage) => Source::ServiceWorkerCache,
            Some(Sw::HttpCache) => Source::HttpCache,
            _ => Source::ServiceWorker,
        });
    }
    (r.from_disk_cache == Some(true) || r.from_prefetch_cache == Some(true))
        .then_some(Source::HttpCache)
}

/// The caching headers of a document, or of an answer that may be a failure (an error status,
/// an HTML page where an asset was), by lowercase name: what caches do with it is part of the
/// story.
pub(super) fn cache_headers(r: &Response, resource_type: &str) -> BTreeMap<String, String> {
    // The document too: how long caches keep the start page decides which build's files a
    // returning user asks for.
    let html_asset = resource_type != "Document" && ContentKind::is_html(&r.mime_type);
    if r.status < 400 && !html_asset && resource_type != "Document" {
        return BTreeMap::new();
    }
    CACHE_HEADERS
        .iter()
        .filter_map(|name| Some((name.to_string(), header_value(&r.headers, name)?)))
        .collect()
}

/// A console argument as text.
pub(super) fn describe(arg: &RemoteObject) -> String {
    match (&arg.value, &arg.description) {
        (Some(serde_json::Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => d.clone(),
        _ => String::new(),
    }
}

/// An error the browser logged about the page's resources, where it says it refused one: the
/// message names the resource in its `url`, or quotes the URL in its text, depending on the
/// check and on Chromium's version.
#[derive(Clone)]
pub(super) struct BrowserError {
    pub(super) text: String,
    pub(super) url: Option<String>,
    /// The request it is about, when the browser said.
    pub(super) request_id: Option<String>,
}

impl BrowserError {
    pub(super) fn names(&self, url: &str) -> bool {
        self.url.as_deref() == Some(url) || self.text.contains(&format!("'{url}'"))
    }
}
