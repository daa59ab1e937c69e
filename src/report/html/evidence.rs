//! Screenshots of failed loads next to their failures: each failing resource row gets the
//! thumbnail of the first saved load that failed on it (`--artifacts`). The image is embedded
//! from the report model (a data: URL, so the file stays self-contained); one too large to embed
//! (see `defaults::MAX_EMBEDDED_SCREENSHOT`) is named by its path only.

use super::esc;
use crate::model::{FailingResource, Phase, Report};
use crate::report::evidence;

/// The `<td>` of a failing resource row: `img.thumb[data-load-id]`, or the paths, or nothing.
pub(super) fn cell(r: &Report, phase: Phase, f: &FailingResource) -> String {
    let Some((load, a)) = evidence::first(r, phase, Some(f.class), Some(&f.url)) else {
        return r#"<td class="evidence"></td>"#.to_string();
    };
    let png = a.screenshot.as_deref().unwrap_or("");
    let har = a
        .har
        .as_deref()
        .map(|h| format!(r#"<div class="har">HAR: {}</div>"#, esc(h)))
        .unwrap_or_default();
    match &a.screenshot_base64 {
        Some(b64) => format!(
            r#"<td class="evidence"><img class="thumb" data-load-id="{id}" alt="load {id} when it ended" title="{path}" src="data:image/png;base64,{b64}">{har}</td>"#,
            id = load.id,
            path = esc(png),
        ),
        None => format!(
            r#"<td class="evidence"><div class="shot">screenshot: {}</div>{har}</td>"#,
            esc(png)
        ),
    }
}
