//! Drives one load: navigate, wait for network idle, walk the journey, all under the load's
//! deadline and with every page event fed to the tracker.

use std::time::Instant;

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::page::NavigateParams;
use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use tokio::sync::oneshot;

use super::LoadSettings;
use super::events::{PageEvent, subscribe};
use super::journey;
use super::tracker::Tracker;
use crate::clock::sleep_until_opt;

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
    pub(super) page: &'a Page,
    settings: &'a LoadSettings,
    events: SelectAll<BoxStream<'static, PageEvent>>,
    pub(super) tracker: Tracker,
    deadline: tokio::time::Instant,
    /// Told once the page first goes quiet (its idle window starts).
    quiet: Option<oneshot::Sender<()>>,
}

impl<'a> Session<'a> {
    /// Starts listening to the page; Err: the prober could not.
    pub(super) async fn open(
        page: &'a Page,
        settings: &'a LoadSettings,
        deadline: Instant,
    ) -> Result<Session<'a>, String> {
        let events = subscribe(page)
            .await
            .map_err(|e| format!("listening to page events: {e}"))?;
        Ok(Session {
            page,
            settings,
            events,
            tracker: Tracker::new(settings),
            deadline: tokio::time::Instant::from_std(deadline),
            quiet: None,
        })
    }

    /// A new stretch of the same page (an open tab's next round): its own books and deadline;
    /// the books kept so far are handed back.
    pub(super) fn next_round(&mut self, deadline: Instant) -> Tracker {
        self.deadline = tokio::time::Instant::from_std(deadline);
        let next = self.tracker.next_round(self.settings);
        std::mem::replace(&mut self.tracker, next)
    }

    /// Feeds events to the tracker until `work` is done.
    pub(super) async fn during<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Halt> {
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
                ev = self.events.next() => self.apply(ev)?,
                _ = sleep_until_opt(idle_at) => return Ok(()),
                // A request just became long-lived: the load may be quiet without it.
                _ = sleep_until_opt(long_at) => self.tracker.update_quiet(),
            }
        }
    }

    fn apply(&mut self, ev: Option<PageEvent>) -> Result<(), Halt> {
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
    pub(super) async fn navigate(&mut self, url: &str) -> Result<(), Halt> {
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
/// where it can start requests; `quiet` is told when the page first goes quiet. Gives the
/// load's books.
pub(super) async fn drive(
    page: &Page,
    url: &str,
    settings: &LoadSettings,
    deadline: Instant,
    quiet: oneshot::Sender<()>,
) -> Tracker {
    let mut session = match Session::open(page, settings, deadline).await {
        Ok(session) => Session {
            quiet: Some(quiet),
            ..session
        },
        Err(e) => {
            let mut tracker = Tracker::new(settings);
            tracker.prober_error = Some(e);
            return tracker;
        }
    };
    let result = session.navigate(url).await;
    walk(&mut session, &settings.steps, url, result).await;
    session.tracker
}

/// Takes `steps` in order after `before`, stopping at the first that fails, which the books
/// then name.
pub(super) async fn walk(
    session: &mut Session<'_>,
    steps: &[crate::scenario::Step],
    url: &str,
    before: Result<(), Halt>,
) {
    let mut result = before;
    for (i, step) in steps.iter().enumerate() {
        if result.is_err() {
            break;
        }
        session.tracker.step = Some(format!("step {} ({step})", i + 1));
        result = journey::take_step(session, step, url).await;
    }
    if let Err(Halt::Step(why)) = result {
        let step = session.tracker.step.take().unwrap_or_default();
        session.tracker.step_failed = Some(format!("{step} failed: {why}"));
    }
}
