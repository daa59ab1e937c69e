//! Drives one load: navigate, wait for network idle, walk the journey, all under the load's
//! deadline and with every page event fed to the tracker.

use std::sync::Arc;
use std::time::Instant;

use chromiumoxide_cdp::cdp::browser_protocol::network;
use chromiumoxide_cdp::cdp::browser_protocol::page::{
    DialogType, EventJavascriptDialogOpening, HandleJavaScriptDialogParams, NavigateParams,
    ReloadParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::EventAttachedToTarget;
use chromiumoxide_cdp::cdp::js_protocol::runtime::{self, RunIfWaitingForDebuggerParams};
use tokio::sync::{mpsc, oneshot};

use super::events::PageEvent;
use super::tracker::Tracker;
use super::{Console, Dialogs, LoadSettings};
use crate::cdp::{Event, Page};
use crate::clock::sleep_until_opt;
use crate::defaults;
use crate::model::Dialog;

/// Why a load stopped before its journey was done.
pub(super) enum Halt {
    /// Recorded in the tracker already (timeout, prober fault, failed document).
    Recorded,
    /// A journey step failed: the step and why.
    Step(String),
}

/// A page under observation: every await in a load goes through `during`, so events keep
/// flowing into the tracker and the deadline holds whatever the load is doing.
pub(super) struct Session<'a> {
    pub(super) page: &'a Arc<Page>,
    settings: &'a LoadSettings,
    events: mpsc::UnboundedReceiver<Event>,
    pub(super) tracker: Tracker,
    deadline: tokio::time::Instant,
    /// Told once the page first goes quiet (its idle window starts).
    pub(super) quiet: Option<oneshot::Sender<()>>,
}

impl<'a> Session<'a> {
    /// Starts listening to the page; Err: the prober could not.
    pub(super) fn open(
        page: &'a Arc<Page>,
        settings: &'a LoadSettings,
        deadline: Instant,
    ) -> Result<Session<'a>, String> {
        let events = page
            .take_events()
            .ok_or("listening to page events: another load took them")?;
        Ok(Session {
            page,
            settings,
            events,
            tracker: Tracker::new(settings, page),
            deadline: tokio::time::Instant::from_std(deadline),
            quiet: None,
        })
    }

    /// A new stretch of the same page (an open tab's next round): its own books and deadline;
    /// the books kept so far are handed back.
    pub(super) fn next_round(&mut self, deadline: Instant) -> Tracker {
        self.deadline = tokio::time::Instant::from_std(deadline);
        let next = self.tracker.next_round(self.settings, self.page);
        std::mem::replace(&mut self.tracker, next)
    }

    /// Feeds events to the tracker until `work` is done.
    pub(super) async fn during<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Halt> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                ev = self.events.recv() => self.apply(ev)?,
                _ = tokio::time::sleep_until(self.deadline) => return Err(self.timed_out()),
            }
        }
    }

    /// Feeds events to the tracker until `work` is done, past the deadline and whatever the
    /// page does: for reading the page once its load is over.
    pub(super) async fn alongside<T>(&mut self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        let mut open = true;
        loop {
            tokio::select! {
                out = &mut work => return out,
                ev = self.events.recv(), if open => {
                    open = ev.is_some();
                    let _ = self.apply(ev);
                }
            }
        }
    }

    /// Closes the tab as a user leaves it, taking the page's events until Chromium says it is
    /// gone: requests the page started after its idle window are the load's too. Whatever is
    /// still open then was cut by the leaving, not by the site.
    pub(super) async fn leave(&mut self) {
        let (page, limit) = (self.page, self.settings.cdp_timeout);
        let mut close = std::pin::pin!(page.close());
        let mut closing = true;
        let gone = async {
            loop {
                tokio::select! {
                    closed = &mut close, if closing => {
                        closing = false;
                        if closed.is_err() {
                            return;
                        }
                    }
                    ev = self.events.recv() => match ev {
                        Some(ev) => {
                            let _ = self.apply(Some(ev));
                        }
                        None => return,
                    }
                }
            }
        };
        let _ = tokio::time::timeout(limit, gone).await;
    }

    /// Feeds events until the network has been idle for the idle window after the document
    /// loaded. Long-lived requests (event streams, long polls, WebSockets) do not count.
    pub(super) async fn until_idle(&mut self) -> Result<(), Halt> {
        self.tracker.update_quiet();
        loop {
            let idle_at = self
                .tracker
                .quiet_since
                .map(|since| tokio::time::Instant::from_std(since + self.settings.idle));
            if idle_at.is_some()
                && let Some(quiet) = self.quiet.take()
            {
                let _ = quiet.send(());
            }
            let long_at = self
                .tracker
                .next_long_request()
                .map(tokio::time::Instant::from_std);
            // In this order: the deadline holds whatever the page does, and an event that is
            // ready counts before a timer, so a request that finished at the threshold is not
            // taken for a long one.
            tokio::select! {
                biased;
                _ = tokio::time::sleep_until(self.deadline) => return Err(self.timed_out()),
                ev = self.events.recv() => self.apply(ev)?,
                _ = sleep_until_opt(idle_at) => return Ok(()),
                // A request just became long-lived: the load may be quiet without it.
                _ = sleep_until_opt(long_at) => self.tracker.update_quiet(),
            }
        }
    }

    fn apply(&mut self, ev: Option<Event>) -> Result<(), Halt> {
        let Some(ev) = ev else {
            self.tracker.prober_error = Some("the browser went away during the load".into());
            return Err(Halt::Recorded);
        };
        let Some(decoded) = PageEvent::decode(&ev) else {
            return Ok(());
        };
        match &decoded {
            PageEvent::Attached(child) => self.resume(child),
            PageEvent::Dialog(dialog) => {
                let answer = self.answer(dialog);
                self.tracker.dialogs.push(Dialog {
                    kind: dialog.r#type.as_ref().to_string(),
                    message: dialog.message.clone(),
                    url: dialog.url.clone(),
                    answer: Some(answer.to_string()),
                });
            }
            _ => {}
        }
        self.tracker.apply(&ev.session, decoded);
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

    /// A worker, service worker or frame the page attached waits, paused, until its network
    /// events are on; then it runs. Both calls go out together: a paused service worker answers
    /// `Network.enable` only once it runs. Beside the load: the load keeps taking events.
    fn resume(&self, child: &EventAttachedToTarget) {
        let (page, session) = (self.page.clone(), child.session_id.inner().clone());
        let limit = self.settings.cdp_timeout;
        tokio::spawn(async move {
            let enable = page.call_child(&session, network::EnableParams::default());
            let run = page.call_child(&session, RunIfWaitingForDebuggerParams::default());
            let _ = tokio::time::timeout(limit, futures::future::join(enable, run)).await;
        });
    }

    /// Answers a dialog as the run's user does (dismissed, unless told to accept); a page
    /// asking whether it may be left is left. Gives the answer, in a word, for the report.
    fn answer(&self, dialog: &EventJavascriptDialogOpening) -> &'static str {
        let leaving = dialog.r#type == DialogType::Beforeunload;
        let mut params = HandleJavaScriptDialogParams::new(leaving);
        if let (false, Dialogs::Accept { prompt_text }) = (leaving, &self.settings.dialogs) {
            params.accept = true;
            params.prompt_text = prompt_text.clone();
        }
        let answer = match (leaving, params.accept) {
            (true, _) => "left",
            (false, true) => "accepted",
            (false, false) => "dismissed",
        };
        let page = self.page.clone();
        let limit = self.settings.cdp_timeout;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, page.call(params)).await;
        });
        answer
    }

    fn timed_out(&mut self) -> Halt {
        self.tracker.timed_out = true;
        Halt::Recorded
    }

    /// Reloads the page's document, as a user pressing reload does (the browser revalidates
    /// what it cached), and waits for network idle.
    pub(super) async fn reload(&mut self, url: &str) -> Result<(), Halt> {
        // Chromium answers before the new document commits: until it does, there is none.
        self.tracker.loader_id = None;
        self.tracker.navigating_to = Some(url.to_string());
        let page = self.page;
        if let Err(e) = self.during(page.call(ReloadParams::default())).await? {
            self.tracker.prober_error = Some(format!("reloading {url}: {e}"));
            return Err(Halt::Recorded);
        }
        self.until_idle().await
    }

    /// Opens `url` as the page's document, waits for network idle, and hears what its scripts
    /// reported.
    pub(super) async fn navigate(&mut self, url: &str) -> Result<(), Halt> {
        let loaded = self.open_document(url).await;
        self.hear_console().await;
        loaded
    }

    /// Hears what the page's scripts reported (uncaught exceptions, console errors) once its
    /// document is loaded, or its load stopped, unless it heard them from the start
    /// ([`Console`]): Chromium replays what the current document logged, with its times,
    /// before it answers. Once on, it reports as things happen (a journey's next documents, a
    /// tab's rounds), and enabling it again replays nothing.
    async fn hear_console(&mut self) {
        if self.settings.console == Console::FromStart || self.tracker.crashed {
            return;
        }
        let page = self.page;
        let enable = page.call(runtime::EnableParams::default());
        // Not answered in time (a page whose script holds its main thread): its errors go
        // unheard, which blames nobody, and the load is not held for them.
        let _ = self
            .alongside(tokio::time::timeout(defaults::CONSOLE_WAIT, enable))
            .await;
        // The replay comes before the answer: what of it is still queued is this document's.
        while let Ok(ev) = self.events.try_recv() {
            let _ = self.apply(Some(ev));
        }
    }

    async fn open_document(&mut self, url: &str) -> Result<(), Halt> {
        // A new document is coming: until it commits, it has no loader.
        self.tracker.loader_id = None;
        self.tracker.navigating_to = Some(url.to_string());
        let page = self.page;
        let nav = self
            .during(page.call(NavigateParams::new(url.to_string())))
            .await?;
        match nav {
            Ok(nav) => {
                self.tracker
                    .expect_document(nav.loader_id.as_ref().map(|l| l.inner().clone()));
                if self.tracker.document_broken() {
                    return Err(Halt::Recorded);
                }
                if let Some(error) = nav.error_text.clone() {
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
