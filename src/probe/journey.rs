//! The steps of a user journey after the first load: click, goto, wait_for, wait_idle, eval,
//! sleep. Each runs inside the load's session, so its requests belong to the load and the
//! load's deadline bounds it.

use std::time::Duration;

use tokio::sync::oneshot;

use super::LoadSettings;
use super::Step;
use super::session::{Halt, Session};
use crate::cdp::Page;

const POLL: Duration = Duration::from_millis(100);

pub(super) async fn take_step(
    s: &mut Session<'_>,
    step: &Step,
    start_url: &str,
) -> Result<(), Halt> {
    let page = s.page;
    match step {
        Step::Click { selector } => {
            let script = format!(
                "(() => {{ const el = document.querySelector({}); if (!el) return false; el.click(); return true; }})()",
                js_string(selector)
            );
            let clicked = match s.during(truthy(page, &script)).await? {
                Ok(found) => found,
                // The click took the page to a new document before Chromium answered (a busy
                // machine): it was clicked.
                Err(e) if between_documents(&e) => true,
                Err(e) => return Err(Halt::Step(e)),
            };
            if !clicked {
                return Err(Halt::Step(format!("no element matches `{selector}`")));
            }
            s.until_idle().await
        }
        Step::Goto { path } => {
            let url = url::Url::parse(start_url)
                .and_then(|base| base.join(path))
                .map_err(|e| {
                    Halt::Step(format!("cannot resolve {path:?} against {start_url}: {e}"))
                })?;
            s.navigate(url.as_str()).await
        }
        Step::WaitFor { selector, timeout } => {
            let script = format!("!!document.querySelector({})", js_string(selector));
            let appeared = s
                .during(poll(page, &script, *timeout))
                .await?
                .map_err(Halt::Step)?;
            if appeared {
                Ok(())
            } else {
                Err(Halt::Step(format!(
                    "no element matches `{selector}` after {timeout:?}"
                )))
            }
        }
        Step::WaitIdle => s.until_idle().await,
        Step::Eval { expr } => {
            if s.during(truthy(page, expr)).await?.map_err(Halt::Step)? {
                Ok(())
            } else {
                Err(Halt::Step(format!("`{expr}` is not truthy")))
            }
        }
        Step::Sleep { duration } => s.during(tokio::time::sleep(*duration)).await,
    }
}

/// Evaluates `expr` in the page's current document; Ok(whether it is truthy), Err(the
/// exception) when it throws.
async fn truthy(page: &Page, expr: &str) -> Result<bool, String> {
    let value = page
        .evaluate(format!("!!({expr})"))
        .await
        .map_err(|e| format!("`{expr}` threw: {e}"))?;
    Ok(value.as_bool().unwrap_or(false))
}

/// Re-evaluates `expr` until it is truthy or `timeout` passes. A document that is being
/// replaced (a link the journey clicked) has no context to evaluate in for a moment: that is
/// "not yet", as for a person waiting for the next page.
async fn poll(page: &Page, expr: &str, timeout: Duration) -> Result<bool, String> {
    let until = tokio::time::Instant::now() + timeout;
    loop {
        match truthy(page, expr).await {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) if between_documents(&e) => {}
            Err(e) => return Err(e),
        }
        if tokio::time::Instant::now() >= until {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Chromium's words for an evaluation that met a document on its way out.
fn between_documents(error: &str) -> bool {
    [
        "Execution context was destroyed",
        "Cannot find context",
        "Cannot find default execution context",
    ]
    .iter()
    .any(|said| error.contains(said))
}

/// A Rust string as a JavaScript string literal.
fn js_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// The whole load: the start URL, then the journey's steps, each followed by network idle
/// where it can start requests; `quiet` is told when the page first goes quiet. Gives the
/// load's books.
pub(super) async fn drive<'a>(
    session: &mut Session<'a>,
    url: &str,
    settings: &LoadSettings,
    quiet: oneshot::Sender<()>,
) {
    session.quiet = Some(quiet);
    let result = session.navigate(url).await;
    walk(session, &settings.steps, url, result).await;
}

/// Takes `steps` in order after `before`, stopping at the first that fails, which the books
/// then name.
pub(super) async fn walk(
    session: &mut Session<'_>,
    steps: &[Step],
    url: &str,
    before: Result<(), Halt>,
) {
    let mut result = before;
    for (i, step) in steps.iter().enumerate() {
        if result.is_err() {
            break;
        }
        session.tracker.step = Some(format!("step {} ({step})", i + 1));
        result = take_step(session, step, url).await;
    }
    // A journey that ends while its last document is still loading (a step found what it
    // waited for on a page a link just opened) ends when that document is done, as a user's
    // visit does: its requests are the load's.
    if result.is_ok() && !steps.is_empty() && !session.tracker.settled() {
        result = session.until_idle().await;
    }
    if let Err(Halt::Step(why)) = result {
        let step = session.tracker.step.take().unwrap_or_default();
        session.tracker.step_failed = Some(format!("{step} failed: {why}"));
    }
}
