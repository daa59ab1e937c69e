//! The verdict on one answer to a retention request: served, gone, or neither. The retention
//! check asks; the judge decides. Pure, so every case is tested without a server.

use crate::model::{ContentKind, essence};

/// What came back for one request: the status and `Content-Type`, or why there was no answer.
pub type Answer = Result<(u16, Option<String>), String>;

/// One attempt's verdict; the text says how it was answered, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx with content of the asset's kind.
    Served,
    /// 404, 410 or 403 (a bucket's answer for a missing object), or an HTML page where the
    /// asset was (the SPA fallback's `index.html`), or content of another kind.
    Gone(String),
    /// No verdict: a 5xx, another 4xx (401, 429), no answer at all. The asset is not shown to be
    /// retained, nor to be gone.
    Unchecked(String),
}

/// Judges one answer for an asset the first phase loaded as `resource_type` with
/// `expected_mime`.
pub fn judge(resource_type: &str, expected_mime: Option<&str>, answer: &Answer) -> Attempt {
    let (status, content_type) = match answer {
        Err(e) => return Attempt::Unchecked(e.clone()),
        Ok((status, content_type)) => (*status, content_type.as_deref()),
    };
    match status {
        404 | 410 | 403 => return Attempt::Gone(status.to_string()),
        200..=299 => {}
        _ => return Attempt::Unchecked(status.to_string()),
    }
    let Some(content_type) = content_type else {
        // Nothing to compare: browsers sniff an untyped image, font or classic script.
        return Attempt::Served;
    };
    let got = ContentKind::of_mime(content_type);
    let expected = expected_mime.map(ContentKind::of_mime);
    if got == ContentKind::Html && expected != Some(ContentKind::Html) {
        return Attempt::Gone(format!(
            "{status} {} (SPA fallback page)",
            essence(content_type)
        ));
    }
    let of_kind = match resource_type {
        "Script" => got == ContentKind::Script,
        "Stylesheet" => got == ContentKind::Stylesheet,
        // Fonts and images come under many types (octet-stream, content negotiation).
        _ => true,
    };
    // Of the kind the first phase got: the same family, or the very same type.
    let as_before = expected_mime.is_some_and(|m| {
        expected == Some(got)
            && (got != ContentKind::Other || essence(m).eq_ignore_ascii_case(essence(content_type)))
    });
    if of_kind || as_before {
        Attempt::Served
    } else {
        Attempt::Gone(format!(
            "{status} {} (the first phase got {})",
            essence(content_type),
            expected_mime.map_or("another type", essence)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(status: u16, content_type: &str) -> Answer {
        Ok((status, Some(content_type.to_string())))
    }

    #[test]
    fn an_asset_of_its_own_kind_is_served() {
        let js = Some("text/javascript");
        assert_eq!(
            judge("Script", js, &ok(200, "text/javascript; charset=utf-8")),
            Attempt::Served
        );
        assert_eq!(
            judge("Script", js, &ok(200, "application/javascript")),
            Attempt::Served
        );
        assert_eq!(
            judge("Stylesheet", Some("text/css"), &ok(200, "text/css")),
            Attempt::Served
        );
        assert_eq!(
            judge(
                "Font",
                Some("font/woff2"),
                &ok(200, "application/octet-stream")
            ),
            Attempt::Served
        );
        assert_eq!(
            judge("Image", Some("image/png"), &ok(200, "image/webp")),
            Attempt::Served
        );
        assert_eq!(judge("Script", js, &Ok((200, None))), Attempt::Served);
        // What the first phase got, whatever the kind says.
        assert_eq!(
            judge(
                "Script",
                Some("application/octet-stream"),
                &ok(200, "application/octet-stream")
            ),
            Attempt::Served
        );
    }

    #[test]
    fn a_404_or_the_spa_fallback_page_is_gone() {
        let js = Some("text/javascript");
        assert_eq!(
            judge("Script", js, &ok(404, "text/plain")),
            Attempt::Gone("404".into())
        );
        assert_eq!(
            judge("Script", js, &ok(410, "text/plain")),
            Attempt::Gone("410".into())
        );
        assert_eq!(
            judge("Font", None, &ok(403, "application/xml")),
            Attempt::Gone("403".into())
        );
        assert_eq!(
            judge("Script", js, &ok(200, "text/html; charset=utf-8")),
            Attempt::Gone("200 text/html (SPA fallback page)".into())
        );
        assert_eq!(
            judge("Image", Some("image/png"), &ok(200, "text/html")),
            Attempt::Gone("200 text/html (SPA fallback page)".into())
        );
        assert_eq!(
            judge("Stylesheet", Some("text/css"), &ok(200, "text/plain")),
            Attempt::Gone("200 text/plain (the first phase got text/css)".into())
        );
    }

    #[test]
    fn errors_and_other_statuses_prove_nothing() {
        let js = Some("text/javascript");
        assert_eq!(
            judge("Script", js, &ok(503, "text/html")),
            Attempt::Unchecked("503".into())
        );
        assert_eq!(
            judge("Script", js, &ok(401, "text/html")),
            Attempt::Unchecked("401".into())
        );
        assert_eq!(
            judge("Script", js, &Err("connection refused".into())),
            Attempt::Unchecked("connection refused".into())
        );
    }
}
