//! What kind of content a MIME type names, decided once for every reader: the judge's
//! classification, the retention check's answers, the old assets it picks.

/// A kind of content, as a browser tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentKind {
    Html,
    Script,
    Stylesheet,
    Font,
    Image,
    Other,
}

impl ContentKind {
    /// The kind of a `Content-Type` or Chromium's MIME type: `text/javascript; charset=utf-8`,
    /// `Text/HTML` and `application/x-javascript` read as browsers read them.
    pub fn of_mime(mime: &str) -> ContentKind {
        let e = essence(mime).to_ascii_lowercase();
        const SCRIPT: [&str; 8] = [
            "text/javascript",
            "application/javascript",
            "application/x-javascript",
            "text/ecmascript",
            "application/ecmascript",
            "application/x-ecmascript",
            "text/x-javascript",
            "text/jscript",
        ];
        if SCRIPT.contains(&e.as_str()) {
            ContentKind::Script
        } else if e == "text/css" {
            ContentKind::Stylesheet
        } else if e == "text/html" || e == "application/xhtml+xml" {
            ContentKind::Html
        } else if e.starts_with("image/") {
            ContentKind::Image
        } else if e.starts_with("font/")
            || e.starts_with("application/font-")
            || e.starts_with("application/x-font-")
            || e == "application/vnd.ms-fontobject"
        {
            ContentKind::Font
        } else {
            ContentKind::Other
        }
    }

    /// Whether a MIME type is an HTML page (an SPA fallback's `index.html` where an asset was).
    pub fn is_html(mime: &str) -> bool {
        ContentKind::of_mime(mime) == ContentKind::Html
    }
}

/// `text/javascript; charset=utf-8` → `text/javascript`.
pub fn essence(mime: &str) -> &str {
    mime.split(';').next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_a_browser_reads_them() {
        assert_eq!(
            ContentKind::of_mime("Text/HTML; charset=utf-8"),
            ContentKind::Html
        );
        assert!(ContentKind::is_html("application/xhtml+xml"));
        assert_eq!(
            ContentKind::of_mime("application/x-javascript"),
            ContentKind::Script
        );
        assert_eq!(
            ContentKind::of_mime("text/css;charset=utf-8"),
            ContentKind::Stylesheet
        );
        assert_eq!(ContentKind::of_mime("font/woff2"), ContentKind::Font);
        assert_eq!(ContentKind::of_mime("image/avif"), ContentKind::Image);
        assert_eq!(ContentKind::of_mime("application/json"), ContentKind::Other);
        assert!(!ContentKind::is_html("text/plain"));
    }
}
