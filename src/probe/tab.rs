//! A tab that stays open across the deploy, as a user who had the app open does: opened like a
//! load, then, every `every`, a round of its steps without reloading. Without steps a round
//! fetches again, from inside the page, the scripts and stylesheets the tab loaded: when the
//! old build's files are gone, the tab's next lazy chunk will fail. Each round's requests and
//! errors are observed like a load's.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::Step;
use super::journey::walk;
use super::session::{Halt, Session};
use super::user::FreshUser;
use super::{LoadSettings, read_page};
use crate::browser::Chromium;
use crate::cdp::Page;
use crate::clock;
use crate::model::{Observation, Phase, TabRound};

/// The open tabs of a run.
#[derive(Clone, Debug)]
pub struct TabPlan {
    pub count: usize,
    pub every: Duration,
    /// Each round's steps; empty: fetch the tab's scripts and stylesheets again.
    pub steps: Vec<Step>,
}

/// What a tab needs besides its browser.
pub struct TabContext<'a> {
    pub settings: &'a LoadSettings,
    pub plan: &'a TabPlan,
    pub tab: usize,
    pub phase: watch::Receiver<Phase>,
}

/// Keeps tab `tab` open, a round every `plan.every`, until `stopped` completes; each round goes
/// to `send` (false: nobody listens any more). The tab ends early when it is lost (crashed, the
/// browser gone), which its last round records as the prober's fault.
pub async fn keep_open(
    chromium: Arc<Chromium>,
    cx: TabContext<'_>,
    stopped: impl Future<Output = ()>,
    send: impl Fn(TabRound) -> bool,
) {
    let settings = cx.settings;
    let url = settings.targets.pick(cx.tab as u64).to_string();
    // A tab the prober could not open is its fault, and says so in the report.
    let never_opened = |why: String| {
        let mut obs = Observation::start(0, cx.tab, *cx.phase.borrow(), url.clone(), now());
        obs.prober_error = Some(why);
        send(TabRound {
            tab: cx.tab,
            round: 0,
            opened_at_ms: now(),
            opened_on: None,
            observation: obs,
        });
    };
    let user = match FreshUser::new(&chromium, settings).await {
        Ok(user) => user,
        Err(e) => return never_opened(e),
    };
    match user.set_cookies(settings, &url).await {
        Ok(()) => {
            tokio::select! {
                _ = rounds(&user.page, &cx, &url, &send) => {}
                _ = stopped => {}
            }
        }
        Err(e) => never_opened(e),
    }
    user.retire(settings.cdp_timeout);
}

/// The tab's opening, then its rounds, until it is lost or its opening failed.
async fn rounds(
    page: &Arc<Page>,
    cx: &TabContext<'_>,
    url: &str,
    send: &impl Fn(TabRound) -> bool,
) {
    let settings = cx.settings;
    let (opened_at_ms, phase) = (clock::unix_ms(SystemTime::now()), *cx.phase.borrow());
    let mut opening = Observation::start(0, cx.tab, phase, url.into(), opened_at_ms);
    let mut session = match Session::open(page, settings, Instant::now() + settings.load_timeout) {
        Ok(session) => session,
        Err(e) => {
            opening.prober_error = Some(e);
            send(TabRound {
                tab: cx.tab,
                round: 0,
                opened_at_ms,
                opened_on: None,
                observation: opening,
            });
            return;
        }
    };
    let opening_clock = Instant::now();
    let opened = session.navigate(url).await;
    let books = session.next_round(far_away());
    let usable = opened.is_ok() && books.prober_error.is_none() && !books.timed_out;
    books.finish(&mut opening, settings);
    opening.duration_ms = opening_clock.elapsed().as_secs_f64() * 1000.0;
    opening.phase = Phase::of_load(phase, *cx.phase.borrow());
    if usable {
        read_page(page, settings, &mut opening).await;
    }
    let opened_on = opening.version.clone();
    let assets = scripts_and_stylesheets(&opening);
    let round = |round, observation| TabRound {
        tab: cx.tab,
        round,
        opened_at_ms,
        opened_on: opened_on.clone(),
        observation,
    };
    if !send(round(0, opening)) || !usable {
        return;
    }
    for n in 1u32.. {
        // Between rounds the page lives on; what it does then is not a round's.
        let gap = session.during(tokio::time::sleep(cx.plan.every)).await;
        if gap.is_err() {
            let mut lost =
                Observation::start(n.into(), cx.tab, *cx.phase.borrow(), url.into(), now());
            lost.prober_error =
                Some("the open tab was lost (crashed, or its browser went away)".into());
            send(round(n, lost));
            return;
        }
        let started = (now(), *cx.phase.borrow());
        let clock = Instant::now();
        session.next_round(Instant::now() + settings.load_timeout);
        let result = if cx.plan.steps.is_empty() {
            fetch_again(&mut session, &assets).await
        } else {
            Ok(())
        };
        walk(&mut session, &cx.plan.steps, url, result).await;
        let books = session.next_round(far_away());
        let lost = books.crashed || books.prober_error.is_some();
        let mut obs = Observation::start(n.into(), cx.tab, started.1, url.into(), started.0);
        obs.continues_page = true;
        obs.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
        books.finish(&mut obs, settings);
        asked_as(&mut obs, &assets);
        obs.phase = Phase::of_load(started.1, *cx.phase.borrow());
        // The tab runs the version it opened on: failures are judged against it.
        obs.version = opened_on.clone();
        if !send(round(n, obs)) || lost {
            return;
        }
    }
}

/// What the tab loaded that its next rounds fetch again, with what each was asked for as.
fn scripts_and_stylesheets(opening: &Observation) -> Vec<(String, String)> {
    opening
        .requests
        .iter()
        .filter(|r| matches!(r.resource_type.as_str(), "Script" | "Stylesheet"))
        .filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
        .map(|r| (r.url.clone(), r.resource_type.clone()))
        .collect()
}

/// Fetches the tab's scripts and stylesheets again, bypassing every cache, and waits for idle.
async fn fetch_again(session: &mut Session<'_>, assets: &[(String, String)]) -> Result<(), Halt> {
    let urls: Vec<&str> = assets.iter().map(|(url, _)| url.as_str()).collect();
    let urls = serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into());
    // no-cors: a CDN's file is fetched like the page fetched it, without a CORS check. The
    // body is read, or Chromium never reports the request finished.
    let script = format!(
        "Promise.all({urls}.map((u) => fetch(u, {{ cache: 'no-store', mode: 'no-cors' }}).then((r) => r.arrayBuffer()).catch(() => null))).then(() => true)"
    );
    let page = session.page;
    if let Err(e) = session.during(page.evaluate(script)).await? {
        // The prober's own call failed, not a step of the user's.
        session.tracker.prober_error = Some(format!("fetching the tab's assets again: {e}"));
        return Err(Halt::Recorded);
    }
    session.until_idle().await
}

/// A refetched script is still a script: its failure is judged like the asset's own.
fn asked_as(obs: &mut Observation, assets: &[(String, String)]) {
    for r in obs
        .requests
        .iter_mut()
        .filter(|r| r.resource_type == "Fetch")
    {
        if let Some((_, kind)) = assets.iter().find(|(url, _)| *url == r.url) {
            r.resource_type = kind.clone();
        }
    }
}

fn now() -> u64 {
    clock::unix_ms(SystemTime::now())
}

/// A deadline that does not bound the wait between rounds (the round's own deadline does).
fn far_away() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}
