//! One page target and the session rollprobe attached to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chromiumoxide_cdp::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::{
    AttachToTargetParams, CloseTargetParams, CreateTargetParams, TargetId,
};
use chromiumoxide_cdp::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide_types::Command;
use tokio::sync::mpsc;

use super::{Connection, Event};

pub struct Page {
    conn: Arc<Connection>,
    target: TargetId,
    session: String,
    /// The session's events, buffered from the moment it was attached until a load takes them.
    events: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    closed: AtomicBool,
}

impl Page {
    /// Opens `params` (its URL, its browser context) as a new tab and attaches to it. Nothing is
    /// enabled yet: the caller says which domains it listens to.
    pub async fn open(conn: &Arc<Connection>, params: CreateTargetParams) -> Result<Page, String> {
        let created = conn.call(None, params).await?;
        let attach = AttachToTargetParams::builder()
            .target_id(created.target_id.clone())
            .flatten(true)
            .build()
            .map_err(|e| e.to_string())?;
        let attached = match conn.call(None, attach).await {
            Ok(attached) => attached,
            Err(e) => {
                let _ = conn
                    .call(None, CloseTargetParams::new(created.target_id))
                    .await;
                return Err(e);
            }
        };
        let session = attached.session_id.inner().clone();
        let events = conn.subscribe(&session);
        Ok(Page {
            conn: conn.clone(),
            target: created.target_id,
            session,
            events: Mutex::new(Some(events)),
            closed: AtomicBool::new(false),
        })
    }

    /// The page's main frame has the target's id.
    pub fn main_frame(&self) -> &str {
        self.target.inner()
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    /// Sends `cmd` to the page's session.
    pub async fn call<C: Command>(&self, cmd: C) -> Result<C::Response, String> {
        self.conn.call(Some(&self.session), cmd).await
    }

    /// Sends `cmd` to a session the page attached (a worker's).
    pub async fn call_child<C: Command>(
        &self,
        session: &str,
        cmd: C,
    ) -> Result<C::Response, String> {
        self.conn.call(Some(session), cmd).await
    }

    /// The page's events from the moment it was attached; None once taken.
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events.lock().expect("events lock").take()
    }

    /// Evaluates `expr` in the main frame's current document (whichever document that is: no
    /// execution context is named, so a navigation never leaves a stale one), awaiting a
    /// promise. Err: the expression threw, or the call failed.
    pub async fn evaluate(&self, expr: impl Into<String>) -> Result<serde_json::Value, String> {
        let params = EvaluateParams::builder()
            .expression(expr)
            .return_by_value(true)
            .await_promise(true)
            .build()
            .map_err(|e| e.to_string())?;
        let result = self.call(params).await?;
        if let Some(details) = result.exception_details {
            let text = details
                .exception
                .and_then(|x| x.description)
                .unwrap_or(details.text);
            return Err(text);
        }
        Ok(result.result.value.unwrap_or(serde_json::Value::Null))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let params = CaptureScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        let shot = self.call(params).await?;
        base64::engine::general_purpose::STANDARD
            .decode(AsRef::<str>::as_ref(&shot.data))
            .map_err(|e| format!("decoding the screenshot: {e}"))
    }

    /// Closes the tab (once; later calls do nothing). Its events go on until Chromium says
    /// the page is gone: what it did meanwhile can still be taken.
    pub async fn close(&self) -> Result<(), String> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.conn
            .call(None, CloseTargetParams::new(self.target.clone()))
            .await
            .map(|_| ())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.conn.forget(&self.session);
    }
}
