//! One request's books, as the tracker keeps them until the load ends: filled in by events in
//! whatever order they arrive, then turned into the observation's request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chromiumoxide_cdp::cdp::browser_protocol::network::{
    EventRequestWillBeSent, EventResponseReceived,
};

use crate::judge::classify::made_by_page;
use crate::model::{Request, Source};

#[derive(Clone, Default)]
pub(super) struct Entry {
    pub(super) url: String,
    pub(super) method: String,
    pub(super) resource_type: String,
    pub(super) started: Option<(f64, f64)>, // (monotonic seconds, wall seconds)
    pub(super) ended: Option<f64>,
    pub(super) status: Option<u16>,
    pub(super) error: Option<String>,
    pub(super) canceled: bool,
    pub(super) version: Option<String>,
    pub(super) pod: Option<String>,
    pub(super) mime_type: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) encoded_bytes: Option<u64>,
    pub(super) blocked: Option<String>,
    /// When the prober first heard of it: the long-request threshold counts from here.
    pub(super) seen: Option<Instant>,
    pub(super) long_lived: bool,
    /// The document it was made for (its loader), when the page's frame made it.
    pub(super) loader: Option<String>,
    /// The worker or service worker that made it, when not the page.
    pub(super) worker: Option<Arc<str>>,
    pub(super) source: Option<Source>,
    pub(super) cache: BTreeMap<String, String>,
    pub(super) wire: Wire,
}

/// The CDP events of one request as they came, kept (shared, not copied) for a failed load's HAR
/// file: its headers are only needed when a load fails, so nothing is read from them before.
#[derive(Clone, Debug, Default)]
pub(super) struct Wire {
    pub(super) request: Option<Arc<EventRequestWillBeSent>>,
    pub(super) response: Option<Arc<EventResponseReceived>>,
}

impl Entry {
    /// The request as the observation keeps it, and its CDP events for a HAR file.
    pub(super) fn into_request(self, start_ms: f64, refused: Option<String>) -> (Request, Wire) {
        let request = Request {
            duration_ms: match (self.started, self.ended) {
                (Some(s), Some(end)) => Some(((end - s.0) * 1000.0).max(0.0)),
                _ => None,
            },
            url: self.url,
            method: self.method,
            resource_type: self.resource_type,
            status: self.status,
            error: self.error,
            canceled: self.canceled,
            start_ms,
            version: self.version,
            pod: self.pod,
            mime_type: self.mime_type,
            content_type: self.content_type,
            encoded_bytes: self.encoded_bytes,
            blocked: self.blocked,
            refused,
            long_lived: self.long_lived,
            worker: self.worker.map(|w| w.to_string()),
            source: self.source,
            cache: self.cache,
        };
        (request, self.wire)
    }

    pub(super) fn judged(&self) -> bool {
        made_by_page(&self.url, &self.resource_type)
    }

    pub(super) fn open(&self) -> bool {
        self.started.is_some() && self.ended.is_none()
    }

    /// A fetch or XHR can be a long poll, and an event stream can be held back by a buffering
    /// proxy: either stops holding the load at the long-request threshold.
    pub(super) fn may_turn_long(&self) -> bool {
        matches!(self.resource_type.as_str(), "Fetch" | "XHR" | "EventSource") && !self.long_lived
    }
}
