//! What the page shows when its load is done: the render check reads it in the page, the judge
//! decides what it means.

use std::time::Duration;

use serde::Deserialize;

use crate::browser::Chromium;
use crate::cdp::Page;
use crate::model::Render;

/// Visible: laid out with an area, and not hidden by style. Text counts as content wherever it
/// is; an element counts when it has an area of its own (a canvas, an image, a styled box).
const READ_RENDER: &str = r#"(() => {
  const visible = (e) => {
    const box = e.getBoundingClientRect();
    if (box.width <= 0 || box.height <= 0) return false;
    const style = getComputedStyle(e);
    return style.visibility !== 'hidden' && style.opacity !== '0';
  };
  const selector = SELECTOR;
  let matched = false;
  if (selector !== null) {
    matched = Array.from(document.querySelectorAll(selector)).some(visible);
  }
  const body = document.body;
  const text = body ? body.innerText.trim() : '';
  const blank = !body || (text === '' && !Array.from(body.querySelectorAll('*')).some(visible));
  return { matched, blank };
})()"#;

#[derive(Deserialize)]
struct Read {
    #[serde(default)]
    matched: bool,
    #[serde(default)]
    blank: bool,
}

/// Whether the browser takes `selector` as CSS. A selector it refuses would fail every load as
/// the prober's fault, when the mistake is the user's: better said once, before the run.
pub async fn check_selector(
    chromium: &Chromium,
    selector: &str,
    limit: Duration,
) -> Result<(), String> {
    let literal = serde_json::to_string(selector).map_err(|e| e.to_string())?;
    let script = format!(
        "(() => {{ try {{ document.querySelector({literal}); return ''; }} catch (e) {{ return String(e.message || e); }} }})()"
    );
    let page = super::cdp(limit, "opening a page", chromium.open_page(None)).await?;
    let refused = super::cdp(limit, "checking --expect-selector", page.evaluate(script))
        .await
        .map(|v| v.as_str().unwrap_or_default().to_string());
    let _ = tokio::time::timeout(limit, page.close()).await;
    match refused? {
        why if why.is_empty() => Ok(()),
        why => Err(format!(
            "--expect-selector {selector:?} is not a valid CSS selector: {why}"
        )),
    }
}

/// Reads what the page shows (the selector was checked before the run). Err: the prober could
/// not tell.
pub(super) async fn read(
    page: &Page,
    selector: Option<&str>,
    limit: Duration,
) -> Result<Render, String> {
    let literal = serde_json::to_string(&selector).map_err(|e| e.to_string())?;
    let script = READ_RENDER.replace("SELECTOR", &literal);
    let value = tokio::time::timeout(limit, page.evaluate(script))
        .await
        .map_err(|_| format!("reading what the page shows: no answer within {limit:?}"))?
        .map_err(|e| format!("reading what the page shows: {e}"))?;
    let read: Read =
        serde_json::from_value(value).map_err(|e| format!("reading what the page shows: {e}"))?;
    Ok(Render {
        selector: selector.map(str::to_string),
        matched: read.matched,
        blank: read.blank,
    })
}
