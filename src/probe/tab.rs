//! An open tab, as a user who had the app open: opened like a load, then, every `every`, a
//! round of its steps without reloading. Without steps a round fetches again, from inside the
//! page, the scripts and stylesheets the tab loaded: when the old build's files are gone, the
//! tab's next lazy chunk will fail. Each round's requests and errors are observed like a
//! load's.

use std::sync::Arc;
use std::time::Instant;

use super::journey::walk;
use super::read_page;
use super::session::{Halt, Session};
use super::stay::{Stopped, TabContext, far_away};
use super::user::FreshUser;
use crate::browser::Chromium;
use crate::cdp::Page;
use crate::model::{Observation, Round};

/// An open tab: opened like a load, then its rounds on the same page.
pub(super) async fn keep_open(
    chromium: &Arc<Chromium>,
    cx: &TabContext<'_>,
    url: &str,
    stopped: Stopped<'_>,
    send: &impl Fn(Round) -> bool,
) -> Result<(), String> {
    let settings = cx.settings;
    let user = FreshUser::new(chromium, settings).await?;
    let cookies = user.set_cookies(settings, url).await;
    if cookies.is_ok() {
        rounds(&user.page, cx, url, stopped, send).await;
    }
    user.retire(settings.cdp_timeout);
    cookies
}

/// The tab's opening, then its rounds, until the run stops, the tab is lost or its opening
/// failed.
async fn rounds(
    page: &Arc<Page>,
    cx: &TabContext<'_>,
    url: &str,
    mut stopped: Stopped<'_>,
    send: &impl Fn(Round) -> bool,
) {
    let settings = cx.settings;
    let (mut opening, started) = cx.observe(0, url);
    let opened_at_ms = opening.started_at_ms;
    let mut session = match Session::open(page, settings, Instant::now() + settings.load_timeout) {
        Ok(session) => session,
        Err(e) => {
            opening.prober_error = Some(e);
            send(cx.round(0, opened_at_ms, None, opening));
            return;
        }
    };
    let opened = session.navigate(url).await;
    let books = session.next_round(far_away());
    let usable = opened.is_ok() && books.prober_error.is_none() && !books.timed_out;
    books.finish(&mut opening, settings);
    cx.ended(&mut opening, &started);
    if usable {
        read_page(page, settings, &mut opening).await;
    }
    let opened_on = opening.version.clone();
    let assets = scripts_and_stylesheets(&opening);
    if !send(cx.round(0, opened_at_ms, opened_on.clone(), opening)) || !usable {
        return;
    }
    for n in 1u32.. {
        // Between rounds the page lives on; what it does then is not a round's.
        match stopped.wait(&mut session, cx.plan.every).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(_) => {
                send(cx.lost(n, url));
                return;
            }
        }
        let (mut obs, started) = cx.observe(n, url);
        session.next_round(Instant::now() + settings.load_timeout);
        let result = if cx.plan.steps.is_empty() {
            fetch_again(&mut session, &assets).await
        } else {
            Ok(())
        };
        walk(&mut session, &cx.plan.steps, url, result).await;
        let books = session.next_round(far_away());
        let lost = books.crashed || books.prober_error.is_some();
        obs.continues_page = true;
        books.finish(&mut obs, settings);
        cx.ended(&mut obs, &started);
        asked_as(&mut obs, &assets);
        // The tab runs the version it opened on: failures are judged against it.
        obs.version = opened_on.clone();
        if !send(cx.round(n, opened_at_ms, opened_on.clone(), obs)) || lost {
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
