//! A returning user: a browser that remembers (its HTTP cache, its service workers, its
//! storage) visits the app during the baseline and comes back every `every` through the
//! rollout and the settle phase: a new navigation to the start URL, then a reload, as people
//! do. Each visit is a round on a page of its own, judged like a load: a service worker that
//! kept the old build, or a cache that kept a broken answer, shows here and not to a fresh user.

use std::sync::Arc;
use std::time::Instant;

use super::read_page;
use super::session::{Halt, Session};
use super::stay::{Started, Stopped, TabContext, far_away};
use super::user::{ReturningUser, close};
use crate::browser::Chromium;
use crate::cdp::Page;
use crate::model::{Observation, Round};

/// Visits until the run stops (heard between visits), the user is lost, or nobody listens.
pub(super) async fn keep_returning(
    chromium: &Arc<Chromium>,
    cx: &TabContext<'_>,
    url: &str,
    mut stopped: Stopped<'_>,
    send: &impl Fn(Round) -> bool,
) -> Result<(), String> {
    let settings = cx.settings;
    let user = ReturningUser::new(chromium, settings).await?;
    let mut visits = Visits {
        cx,
        url,
        send,
        next: 0,
        first: None,
    };
    loop {
        let page = match user.page(settings, url).await {
            Ok(page) => page,
            Err(e) if visits.next == 0 => {
                user.retire(settings.cdp_timeout);
                return Err(e);
            }
            Err(_) => {
                send(cx.lost(visits.next, url));
                break;
            }
        };
        let more = visits.on(&page).await;
        close(page, settings.cdp_timeout);
        if !more || !stopped.idle(cx.plan.every).await {
            break;
        }
    }
    user.retire(settings.cdp_timeout);
    Ok(())
}

/// One user's visits so far.
struct Visits<'a, F> {
    cx: &'a TabContext<'a>,
    url: &'a str,
    send: &'a F,
    /// The next round's number: 0 is the first visit.
    next: u32,
    /// When the user first came, and the version it got then.
    first: Option<(u64, Option<String>)>,
}

impl<F: Fn(Round) -> bool> Visits<'_, F> {
    /// A visit on a new page: the navigation and, when the user comes back and the page
    /// loaded, a reload. False: nobody listens any more. A visit the prober failed on ends
    /// there; the next one is on a new page (a browser gone fails to make it).
    async fn on(&mut self, page: &Arc<Page>) -> bool {
        let settings = self.cx.settings;
        let (mut obs, started) = self.cx.observe(self.next, self.url);
        let deadline = Instant::now() + settings.load_timeout;
        let mut session = match Session::open(page, settings, deadline) {
            Ok(session) => session,
            Err(e) => {
                obs.prober_error = Some(e);
                self.sent(obs);
                return false;
            }
        };
        let coming_back = self.next > 0;
        let navigated = session.navigate(self.url).await;
        let (sent, usable) = self.round(&mut session, navigated, obs, started).await;
        if !sent || !usable || !coming_back {
            return sent;
        }
        let (obs, started) = self.cx.observe(self.next, self.url);
        session.next_round(Instant::now() + settings.load_timeout);
        let reloaded = session.reload(self.url).await;
        self.round(&mut session, reloaded, obs, started).await.0
    }

    /// Ends a round and sends it: whether anybody listens, and whether the page loaded.
    async fn round(
        &mut self,
        session: &mut Session<'_>,
        result: Result<(), Halt>,
        mut obs: Observation,
        started: Started,
    ) -> (bool, bool) {
        let settings = self.cx.settings;
        let books = session.next_round(far_away());
        let usable = result.is_ok() && books.prober_error.is_none() && !books.timed_out;
        books.finish(&mut obs, settings);
        self.cx.ended(&mut obs, &started);
        if usable {
            read_page(session.page, settings, &mut obs).await;
        }
        (self.sent(obs), usable)
    }

    fn sent(&mut self, obs: Observation) -> bool {
        let (at, on) = self
            .first
            .get_or_insert_with(|| (obs.started_at_ms, obs.version.clone()))
            .clone();
        let n = self.next;
        self.next += 1;
        (self.send)(self.cx.round(n, at, on, obs))
    }
}
