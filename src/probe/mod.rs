//! One page load as a fresh user: a new browser context, navigate, wait for network idle, and
//! everything the page's requests did on the way. Judging the load is the judge's job.
//!
//! [`events`] merges the page's CDP events into one stream, [`tracker`] keeps the books of one
//! load's requests, [`session`] feeds it the page's events (navigate, idle, deadline), [`journey`]
//! walks the load: the start URL, then its [`Step`]s,
//! [`user`] makes the fresh users, ahead of their loads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::browser::Chromium;
use crate::cdp::Page;
use crate::filter::UrlFilter;
use crate::model::{Kind, Observation, Phase, Round};
use crate::start::Targets;
pub use evidence::{Evidence, EvidencePlan};
use journey::drive;
pub use kept::ContextLife;
pub use render::check_selector;
use session::Session;
use stay::{Stopped, now};
pub use stay::{TabContext, TabPlan};
pub use step::Step;
pub use user::FreshUser;
pub use users::Users;

mod entry;
mod events;
mod evidence;
mod har;
mod journey;
mod kept;
mod render;
mod returning;
mod session;
mod stay;
mod step;
mod tab;
mod tracker;
mod user;
mod users;

/// What every load of a run shares.
#[derive(Clone, Debug)]
pub struct LoadSettings {
    pub targets: Targets,
    /// Extra request headers (basic auth included), values already resolved.
    pub headers: Vec<(String, String)>,
    /// Cookies set for the start URL's origin before each load.
    pub cookies: Vec<(String, String)>,
    pub idle: Duration,
    /// A fetch or XHR open this long is a long poll: the load stops waiting for it.
    pub long_request: Duration,
    pub load_timeout: Duration,
    pub cdp_timeout: Duration,
    /// Requests that neither count nor keep the page busy (analytics, beacons).
    pub ignore: UrlFilter,
    /// Response header naming the app version of the backend that answered.
    pub version_header: Option<String>,
    /// Response header naming the pod that answered; None: the common ones.
    pub pod_header: Option<String>,
    /// JavaScript evaluated in the loaded page that yields the app version of the document
    /// (from `--version-meta` or `--version-js`); it wins over the header for the document.
    pub version_expr: Option<String>,
    /// The user journey after the first load (scenario steps).
    pub steps: Vec<Step>,
    /// URL patterns the browser must not fetch (`--block`), in URLPattern syntax.
    pub block: Vec<String>,
    /// A CSS selector that must match a visible element when the load is done.
    pub expect_selector: Option<String>,
    /// How the user answers the page's dialogs.
    pub dialogs: Dialogs,
    /// When the page's console (uncaught exceptions, console errors) is heard.
    pub console: Console,
    /// Whether a load's browser context is its own or its worker's.
    pub context: ContextLife,
}

/// How the user answers the page's `alert`, `confirm` and `prompt` dialogs; a page asking
/// whether it may be left (`beforeunload`) is left either way.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialogs {
    Dismiss,
    /// With what a prompt is given (None: its own default).
    Accept {
        prompt_text: Option<String>,
    },
}

/// When a load hears the page's console. Enabling it (the Runtime domain) before the page runs
/// makes the renderer do more for every script. Chromium keeps what a document logged and
/// replays it when the domain is enabled, so hearing it after the load misses only a document
/// the page left during its own load (a hard reload after a failed chunk): Chromium clears a
/// document's console when it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// From the start: JS errors decide the verdict, every one is heard.
    FromStart,
    /// Once the document loaded: JS errors are evidence.
    AfterLoad,
}

/// What a worker hands each load it makes.
pub struct Worker<'a> {
    pub settings: &'a LoadSettings,
    /// Where a failed load leaves its screenshot and HAR file, when the run takes any.
    pub evidence: Option<&'a Evidence>,
    pub users: &'a Users,
    /// The run's phase now: a load ends in the phase [`Phase::of_load`] gives it.
    pub phase: &'a watch::Receiver<Phase>,
}

/// Loads the page once as a fresh user and, when `more` loads may follow, has the next user
/// made while this one waits out its idle window. Never fails: the prober's own faults are
/// recorded in the observation so they can be kept apart from the site's.
pub async fn load_page(
    chromium: &Arc<Chromium>,
    worker: &Worker<'_>,
    more: bool,
    mut obs: Observation,
) -> Observation {
    let Worker {
        settings,
        evidence,
        users,
        phase,
    } = *worker;
    let t0 = Instant::now();
    let user = match users.take(chromium, obs.worker).await {
        Ok(user) => user,
        Err(e) => {
            obs.prober_error = Some(e);
            ended(&mut obs, t0, phase);
            return obs;
        }
    };
    let (quiet, when) = oneshot::channel();
    if more {
        users.make_when(chromium, &user, obs.worker, when);
    }
    let deadline = t0 + settings.load_timeout;
    let opened = match user.set_cookies(settings, &obs.url).await {
        Ok(()) => Session::open(&user.page, settings, deadline),
        Err(e) => Err(e),
    };
    match opened {
        Ok(mut session) => {
            drive(&mut session, &obs.url, settings, quiet).await;
            let books = &session.tracker;
            let completed =
                !books.timed_out && books.prober_error.is_none() && books.loader_id.is_some();
            if completed {
                let page = session.page;
                session.alongside(read_page(page, settings, &mut obs)).await;
            }
            ended(&mut obs, t0, phase);
            // The evidence shows the page as it was when the load ended, before it is torn
            // down; judged on the load as it stands then.
            let artifacts = match evidence {
                Some(evidence) => {
                    let mut ended = obs.clone();
                    let wires = session.tracker.clone().finish(&mut ended, settings);
                    let page = session.page;
                    let collect = evidence.collect(page, settings, &wires, &mut ended);
                    session.alongside(collect).await;
                    ended.artifacts
                }
                None => None,
            };
            session.leave().await;
            session.tracker.finish(&mut obs, settings);
            obs.artifacts = artifacts;
        }
        Err(e) => {
            obs.prober_error = Some(e);
            ended(&mut obs, t0, phase);
        }
    }
    users.release(user, obs.worker, &obs);
    obs
}

/// The load is over: how long it took, and the phase it belongs to, decided here once so its
/// evidence is named as the report names the load.
fn ended(obs: &mut Observation, t0: Instant, phase: &watch::Receiver<Phase>) {
    obs.duration_ms = elapsed_ms(t0);
    obs.phase = Phase::of_load(obs.phase, *phase.borrow());
}

/// Keeps user `cx.tab` of the plan's population, a round every `plan.every`, until `stopped`
/// completes between two rounds: a round in flight then finishes within its own deadline, so
/// what it saw is in the report. Each round goes to `send` (false: nobody listens any more).
/// The user ends early when it is lost (crashed, the browser gone), which its last round
/// records as the prober's fault.
pub async fn stay(
    chromium: Arc<Chromium>,
    cx: TabContext<'_>,
    stopped: impl Future<Output = ()> + Send,
    send: impl Fn(Round) -> bool,
) {
    let url = cx.settings.targets.pick(cx.tab as u64).to_string();
    let stopped = std::pin::pin!(stopped);
    let stopped = Stopped(stopped);
    let started = match cx.plan.kind {
        Kind::OpenTabs => tab::keep_open(&chromium, &cx, &url, stopped, &send).await,
        Kind::ReturningUsers => {
            returning::keep_returning(&chromium, &cx, &url, stopped, &send).await
        }
    };
    // A user the prober could not start is its fault, and says so in the report.
    if let Err(why) = started {
        let (mut obs, _) = cx.observe(0, &url);
        obs.prober_error = Some(why);
        send(cx.round(0, now(), None, obs));
    }
}

/// Runs a CDP call with a bound: some calls hang forever when the browser misbehaves.
async fn cdp<T>(
    limit: Duration,
    what: &str,
    call: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer from Chromium within {limit:?}")),
    }
}

/// What the loaded page declares and shows, read once its load and journey are done.
pub(super) async fn read_page(page: &Page, settings: &LoadSettings, obs: &mut Observation) {
    let limit = settings.cdp_timeout;
    if let Some(expr) = &settings.version_expr {
        obs.version = page_version(page, expr, limit).await.or(obs.version.take());
    }
    match render::read(page, settings.expect_selector.as_deref(), limit).await {
        Ok(render) => obs.render = Some(render),
        Err(e) => obs.prober_error = Some(e),
    }
}

/// The app version the page itself declares; None when the expression yields nothing.
async fn page_version(page: &Page, expr: &str, limit: Duration) -> Option<String> {
    let value = tokio::time::timeout(limit, page.evaluate(expr))
        .await
        .ok()?
        .ok()?;
    match &value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn elapsed_ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}
