//! Judges one observed load: which of its requests failed, in which class, and whether the load
//! as a whole counts as failed.

use super::cached;
use crate::defaults::RELOAD_LOOP_DOCUMENTS;
use crate::filter::UrlFilter;
use crate::model::{
    ContentKind, FailedOn, Failure, FailureClass, Observation, Outcome, Request, Settings,
};

/// What counts against the site, from the run's settings.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub ignore: UrlFilter,
    pub fail_on_js_error: bool,
    /// Only these classes count against the site; None: every class of the site's.
    pub counted: Option<Vec<FailureClass>>,
}

impl Rules {
    pub fn of(settings: &Settings) -> Rules {
        Rules {
            // The patterns were checked when the plan was made (or by the run that wrote the
            // report being read), so a pattern that fails here cannot come from a user.
            ignore: UrlFilter::new(&settings.ignore).unwrap_or_default(),
            fail_on_js_error: settings.fail_on_js_error,
            counted: settings.count.clone(),
        }
    }

    pub fn counts(&self, class: FailureClass) -> bool {
        class.counts(self.fail_on_js_error, self.counted.as_deref())
    }
}

/// Only the site's own http(s) traffic is judged (and waited for). Chromium's error pages,
/// data: URLs and the favicon Chromium fetches on its own are not requests the page made: a
/// missing favicon breaks nothing for a user.
pub fn made_by_page(url: &str, resource_type: &str) -> bool {
    let web = ["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    let own_favicon =
        resource_type == "Other" && url::Url::parse(url).is_ok_and(|u| u.path() == "/favicon.ico");
    web && !own_favicon
}

/// The page cancelled the request itself (AbortController, navigation away): not a failure of
/// the site, nor of a document whose subresource it was.
pub fn cancelled_by_page(error: &str, canceled: bool) -> bool {
    canceled && error == "net::ERR_ABORTED"
}

/// Resource types a bundler emits as static files: a 404 on one of them is a missing asset.
const STATIC_TYPES: [&str; 7] = [
    "Script",
    "Stylesheet",
    "Font",
    "Image",
    "Media",
    "Manifest",
    "TextTrack",
];

/// How the prober records a request `--block` stopped.
pub const BLOCKED_BY_PROBER: &str = "net::ERR_BLOCKED_BY_CLIENT";

pub struct Judgement {
    pub outcome: Outcome,
    pub failures: Vec<Failure>,
    /// The page's document URL, or `(document)` when none was seen.
    pub document: String,
}

/// Classes that, on the document, mean the page itself failed: nothing of the app to judge.
const PAGE_CLASSES: [FailureClass; 6] = [
    FailureClass::HttpError,
    FailureClass::NetworkError,
    FailureClass::TlsError,
    FailureClass::Timeout,
    FailureClass::NotRendered,
    FailureClass::BlankPage,
];

impl Judgement {
    /// The distinct classes this load failed with that count against the site.
    pub fn counted_classes(&self, rules: &Rules) -> Vec<FailureClass> {
        let mut classes: Vec<FailureClass> = self
            .failures
            .iter()
            .map(|f| f.class)
            .filter(|c| rules.counts(*c))
            .collect();
        classes.sort();
        classes.dedup();
        classes
    }

    /// Each counted failure once, by class and resource, as the baseline comparison matches it.
    pub fn failed_on(&self, rules: &Rules) -> Vec<FailedOn> {
        let mut on: Vec<FailedOn> = self
            .failures
            .iter()
            .filter(|f| rules.counts(f.class))
            .map(|f| FailedOn {
                class: f.class,
                url: crate::model::resource(&f.url),
                page: f.url == self.document && PAGE_CLASSES.contains(&f.class),
            })
            .collect();
        on.sort();
        on.dedup();
        on
    }
}

pub fn judge(obs: &Observation, rules: &Rules) -> Judgement {
    let at = |offset_ms: f64| unix_ms(obs, offset_ms);
    let mut failures = request_failures(obs, rules);

    let document = obs
        .requests
        .iter()
        .find(|r| r.resource_type == "Document")
        .map_or("(document)", |r| r.url.as_str());
    let page_failure = |class, message: String| Failure {
        load_id: obs.id,
        phase: obs.phase,
        class,
        url: document.to_string(),
        status: None,
        error: None,
        message,
        at_unix_ms: at(obs.duration_ms),
        version: obs.version.clone(),
        pod: None,
        page_version: obs.version.clone(),
        source: None,
        cache: Default::default(),
        cacheable_s: None,
        diagnosis: None,
    };
    if let Some(why) = &obs.timed_out {
        failures.push(page_failure(FailureClass::Timeout, why.clone()));
    }
    if let Some(why) = &obs.step_failed {
        failures.push(page_failure(FailureClass::StepFailed, why.clone()));
    }
    if let Some((url, message)) = looped(obs) {
        let f = page_failure(FailureClass::ReloadLoop, message);
        failures.push(Failure { url, ..f });
    } else if let Some((class, why)) = render_failure(obs) {
        // What a looping page showed at the moment the probe stopped says nothing more.
        failures.push(page_failure(class, why));
    }
    if let Some(why) = &obs.prober_error {
        failures.push(page_failure(FailureClass::ProberError, why.clone()));
    }
    // A load that saw no document saw nothing: it proves neither success nor failure.
    let saw_document =
        obs.continues_page || obs.requests.iter().any(|r| r.resource_type == "Document");
    if !saw_document && obs.timed_out.is_none() && obs.prober_error.is_none() {
        failures.push(page_failure(
            FailureClass::ProberError,
            "no request of the page's document was observed".to_string(),
        ));
    }
    for js in &obs.js_errors {
        let mut f = page_failure(FailureClass::JsError, format!("{}: {}", js.kind, js.text));
        f.at_unix_ms = at(js.at_ms);
        if let Some(url) = &js.url {
            f.url = url.clone();
        }
        failures.push(f);
    }

    let outcome = if failures.iter().any(|f| rules.counts(f.class)) {
        Outcome::Failed
    } else if failures
        .iter()
        .any(|f| f.class == FailureClass::ProberError)
    {
        Outcome::ProberError
    } else {
        Outcome::Ok
    };
    Judgement {
        outcome,
        failures,
        document: document.to_string(),
    }
}

/// The document a load's page was on when it was found reloading in a loop, and the
/// failure's message: the page navigated itself so often in one load (journey steps' own
/// navigations aside) that it never settles.
fn looped(obs: &Observation) -> Option<(String, String)> {
    let documents = obs.self_navigations as usize + 1;
    if documents < RELOAD_LOOP_DOCUMENTS {
        return None;
    }
    let last = obs
        .requests
        .iter()
        .rev()
        .find(|r| r.resource_type == "Document");
    let url = last.map_or_else(|| obs.url.clone(), |r| r.url.clone());
    let s = obs.duration_ms / 1000.0;
    let message = format!(
        "the page loaded {documents} documents in {s:.1} s by itself (the last {url}): it reloads in a loop"
    );
    Some((url, message))
}

/// When something `offset_ms` into the load happened, in milliseconds since the Unix epoch.
fn unix_ms(obs: &Observation, offset_ms: f64) -> u64 {
    obs.started_at_ms.saturating_add(offset_ms.max(0.0) as u64)
}

/// The failures of the load's requests, each in its class.
fn request_failures(obs: &Observation, rules: &Rules) -> Vec<Failure> {
    obs.requests
        .iter()
        .filter(|r| !rules.ignore.matches(&r.url))
        .filter_map(|r| {
            let (class, mut message, error) = request_failure(r)?;
            // A remembered answer is not the server's answer now: the message says whose it is.
            if let Some(source) = r.source {
                message = format!("{message}, {}", source.words());
            }
            let cacheable_s = cached::cacheable_s(&r.cache);
            if let Some(s) = cacheable_s {
                let kept = cached::kept_for(s);
                message =
                    format!("{message}; sent cacheable: browsers and CDNs may keep it {kept}");
            }
            Some(Failure {
                load_id: obs.id,
                phase: obs.phase,
                class,
                url: r.url.clone(),
                status: r.status,
                error,
                message,
                at_unix_ms: unix_ms(obs, r.start_ms + r.duration_ms.unwrap_or(0.0)),
                version: r.version.clone(),
                pod: r.pod.clone(),
                page_version: obs.version.clone(),
                source: r.source,
                cache: r.cache.clone(),
                cacheable_s,
                diagnosis: diagnose(class, obs.version.as_deref(), r, led_by(obs, r)),
            })
        })
        .collect()
}

/// What the page showed, judged only when it was the app's own page and the load got to its
/// end: an error page or a page mid-journey says nothing about whether the app mounts.
fn render_failure(obs: &Observation) -> Option<(FailureClass, String)> {
    let render = obs.render.as_ref()?;
    let document_ok = obs.requests.iter().any(|r| {
        r.resource_type == "Document" && r.error.is_none() && r.status.is_some_and(|s| s < 400)
    });
    if !document_ok || obs.timed_out.is_some() || obs.step_failed.is_some() {
        return None;
    }
    match &render.selector {
        Some(selector) if !render.matched => Some((
            FailureClass::NotRendered,
            format!(
                "nothing visible matches {selector:?} when the load ended: the app did not mount"
            ),
        )),
        None if render.blank => Some((
            FailureClass::BlankPage,
            "the page ended blank: no text and no visible element in its body".to_string(),
        )),
        _ => None,
    }
}

/// The cross-version story of a missing or wrong asset, when both versions are known: the page
/// came from one version and the asset request landed on a backend of another.
fn diagnose(
    class: FailureClass,
    page: Option<&str>,
    r: &Request,
    led: Option<&Request>,
) -> Option<String> {
    let (page, backend) = (page?, r.version.as_deref()?);
    let answer = match class {
        FailureClass::MissingAsset => format!("({})", r.status?),
        FailureClass::WrongContent if r.mime_type.as_deref().is_some_and(ContentKind::is_html) => {
            "with its index.html".to_string()
        }
        FailureClass::WrongContent => "with content of another kind".to_string(),
        _ => return None,
    };
    let lacks = match class {
        FailureClass::MissingAsset => "lacks the asset",
        _ => "answers the asset",
    };
    Some(
        match (
            page == backend,
            led.and_then(|o| Some((o, o.version.as_deref()?))),
        ) {
            (false, _) if class == FailureClass::MissingAsset => {
                format!("index.html from {page}, asset requested from a {backend} backend {answer}")
            }
            (false, _) => {
                format!("index.html from {page}, asset answered by a {backend} backend {answer}")
            }
            // A page's own version asked for a file it does not have: something of another
            // version named it (a data payload naming that version's chunks), not the build.
            (true, Some((o, other))) => format!(
                "index.html and asset both from {page}, but asked for after {} came from {other}: {other} likely named it, a {backend} backend {lacks} {answer}",
                o.url
            ),
            (true, None) => format!(
                "index.html and asset both from {page}, and every answer before it too: the build itself {lacks} {answer}"
            ),
        },
    )
}

/// The last answer from another version than the page's that ended before `r` was asked for:
/// what may have named it.
fn led_by<'a>(obs: &'a Observation, r: &Request) -> Option<&'a Request> {
    let page = obs.version.as_deref()?;
    let ended = |o: &Request| o.start_ms + o.duration_ms.unwrap_or(f64::INFINITY);
    (obs.requests.iter())
        .filter(|o| o.version.as_deref().is_some_and(|v| v != page))
        .filter(|o| ended(o) <= r.start_ms)
        .max_by(|a, b| ended(a).total_cmp(&ended(b)))
}

/// What a request was for, where content of another kind breaks the page: its resource type,
/// or for a preload or prefetch (type `Other`) the extension a bundler gives the file.
fn asked_for(r: &Request) -> Option<&'static str> {
    match stands_for(r) {
        "Script" => return Some("Script"),
        "Stylesheet" => return Some("Stylesheet"),
        "Font" => return Some("Font"),
        "Document" | "Fetch" | "XHR" | "EventSource" | "WebSocket" => return None,
        _ => {}
    }
    by_extension(&r.url)
}

/// What a request stands for: its resource type, except that a service worker's fetch of an
/// asset (a precache) is that asset: the worker keeps what it got and serves it as the asset
/// on every later visit.
pub fn stands_for(r: &Request) -> &str {
    if r.resource_type == "Fetch"
        && r.by_service_worker()
        && let Some(kind) = by_extension(&r.url)
    {
        return kind;
    }
    &r.resource_type
}

/// The kind of asset a bundler's file extension names.
fn by_extension(url: &str) -> Option<&'static str> {
    let path = url::Url::parse(url).ok()?.path().to_ascii_lowercase();
    let ext = path.rsplit_once('.')?.1.to_string();
    match ext.as_str() {
        "js" | "mjs" | "cjs" => Some("Script"),
        "css" => Some("Stylesheet"),
        "woff" | "woff2" | "ttf" | "otf" => Some("Font"),
        _ => None,
    }
}

/// How Chromium reports a cross-origin asset it blocked for its content (ORB).
const BLOCKED_BY_ORB: &str = "net::ERR_BLOCKED_BY_ORB";

/// A script, stylesheet, font or event stream answered with content of another kind, however
/// Chromium showed it: the MIME type of a 2xx answer, a block for the content (`nosniff`, ORB,
/// integrity), or its own message refusing the response (whose wording changes between
/// versions, so it is matched by the URL it names, not by its words). Gives the message and, in
/// a word or two, what came back instead.
fn wrong_content(r: &Request) -> Option<(String, String)> {
    let url = &r.url;
    let answered = r.status.filter(|s| (200..300).contains(s));
    let mime = r.mime_type.as_deref().unwrap_or("no type");
    if r.resource_type == "EventSource" {
        // The browser closes a stream that is not one; the page's live updates never come.
        // (204 is the server's way of saying "no stream here".)
        let refused = answered.is_some_and(|s| s != 204) && mime != "text/event-stream";
        return refused.then(|| {
            let status = r.status.unwrap_or_default();
            let what = format!("Event stream {url} answered {status} {mime}");
            (format!("{what}, not text/event-stream"), mime.to_string())
        });
    }
    let kind = asked_for(r)?;
    // A 404 the browser also blocked is still a missing asset: the status is the truth.
    let blocked = r.error.as_deref() == Some(BLOCKED_BY_ORB)
        || matches!(r.blocked.as_deref(), Some("content-type" | "integrity"));
    if blocked && (r.status.is_none() || answered.is_some()) {
        let what = r
            .blocked
            .as_ref()
            .map_or_else(|| BLOCKED_BY_ORB.to_string(), |b| format!("blocked: {b}"));
        let message = format!("{kind} {url} was blocked by the browser for its content ({what})");
        return Some((message, what));
    }
    if let (Some(status), true) = (answered, ContentKind::is_html(mime)) {
        let message = format!(
            "{kind} {url} answered {status} {mime} (an HTML page, probably the SPA fallback)"
        );
        return Some((message, mime.to_string()));
    }
    // Refused once its body arrived, the request ends cleanly; refused before (a stylesheet
    // under nosniff), Chromium records an abort without a response.
    let aborted = r.status.is_none()
        && r.error
            .as_deref()
            .is_some_and(|e| cancelled_by_page(e, r.canceled));
    let clean = answered.is_some() && r.error.is_none();
    match &r.refused {
        Some(text) if clean || aborted => Some((
            format!("{kind} {url} was refused by the browser: {text}"),
            "refused".to_string(),
        )),
        _ => None,
    }
}

/// The request's failure: its class, the message, and the error to report (for wrong content,
/// what came back instead, which says more than Chromium's error).
fn request_failure(r: &Request) -> Option<(FailureClass, String, Option<String>)> {
    if let Some((message, came_back)) = wrong_content(r) {
        return Some((FailureClass::WrongContent, message, Some(came_back)));
    }
    if let Some(status) = r.status.filter(|s| *s >= 400) {
        // A 404 script also ends in loadingFailed ERR_ABORTED: the status is the truth, and the
        // failure is counted once.
        let class = if matches!(status, 404 | 410) && STATIC_TYPES.contains(&stands_for(r)) {
            FailureClass::MissingAsset
        } else {
            FailureClass::HttpError
        };
        let served_by = r
            .version
            .as_ref()
            .map(|v| format!(" (served by {v})"))
            .unwrap_or_default();
        return Some((
            class,
            format!("{} {} answered {status}{served_by}", r.resource_type, r.url),
            r.error.clone(),
        ));
    }
    let error = r.error.as_ref()?;
    // The page cancelled it itself (AbortController, navigation away), the prober blocked it
    // on purpose (--block), or a stream that was open was cut later (apps reconnect): not a
    // site failure.
    if cancelled_by_page(error, r.canceled) || error == BLOCKED_BY_PROBER || r.long_lived {
        return None;
    }
    if certificate_error(error) {
        let seen = match r.resource_type.as_str() {
            "Document" => "users see a full-page certificate warning instead of the page",
            _ => "the browser refused it, as it would for any user",
        };
        return Some((
            FailureClass::TlsError,
            format!(
                "{} {} failed the certificate check: {error} ({seen})",
                r.resource_type, r.url
            ),
            Some(error.clone()),
        ));
    }
    // A WebSocket handshake the server answered with anything but 101 has no status in CDP,
    // only Chromium's message; without a net error in it, the server refused it.
    let class = if r.resource_type == "WebSocket" && !error.contains("net::ERR_") {
        FailureClass::HttpError
    } else {
        FailureClass::NetworkError
    };
    Some((
        class,
        format!("{} {} failed: {error}", r.resource_type, r.url),
        Some(error.clone()),
    ))
}

/// Chromium's errors for a server certificate it refused (`net::ERR_CERT_AUTHORITY_INVALID`,
/// `ERR_CERT_DATE_INVALID`, `ERR_CERT_COMMON_NAME_INVALID`, `ERR_CERTIFICATE_TRANSPARENCY_REQUIRED`,
/// ...) or a TLS handshake that failed (`ERR_SSL_PROTOCOL_ERROR`,
/// `ERR_SSL_VERSION_OR_CIPHER_MISMATCH`, `ERR_BAD_SSL_CLIENT_AUTH_CERT`, ...). Matched anywhere
/// in the text: a WebSocket's error is a sentence around it.
fn certificate_error(error: &str) -> bool {
    [
        "net::ERR_CERT",
        "net::ERR_SSL_",
        "net::ERR_BAD_SSL_CLIENT_AUTH_CERT",
    ]
    .iter()
    .any(|code| error.contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        resource_type: &str,
        status: Option<u16>,
        error: Option<&str>,
        canceled: bool,
    ) -> Request {
        Request {
            url: "http://127.0.0.1:1/x".into(),
            method: "GET".into(),
            resource_type: resource_type.into(),
            status,
            error: error.map(str::to_string),
            canceled,
            start_ms: 0.0,
            duration_ms: Some(1.0),
            version: None,
            pod: None,
            mime_type: None,
            content_type: None,
            encoded_bytes: None,
            blocked: None,
            refused: None,
            long_lived: false,
            worker: None,
            source: None,
            cache: Default::default(),
        }
    }

    #[test]
    fn a_load_without_a_document_is_never_ok() {
        let obs = Observation::start(
            1,
            0,
            crate::model::Phase::Run,
            "http://127.0.0.1:1/".into(),
            0,
        );
        let judgement = judge(&obs, &Rules::default());
        assert_eq!(judgement.outcome, Outcome::ProberError);
    }

    #[test]
    fn request_classes() {
        let class = |r: Request| request_failure(&r).map(|(c, _, _)| c);
        assert_eq!(
            class(request("Script", Some(404), Some("net::ERR_ABORTED"), true)),
            Some(FailureClass::MissingAsset)
        );
        assert_eq!(
            class(request("Stylesheet", Some(410), None, false)),
            Some(FailureClass::MissingAsset)
        );
        assert_eq!(
            class(request("Fetch", Some(404), None, false)),
            Some(FailureClass::HttpError)
        );
        assert_eq!(
            class(request("Document", Some(502), None, false)),
            Some(FailureClass::HttpError)
        );
        assert_eq!(
            class(request(
                "Fetch",
                None,
                Some("net::ERR_CONNECTION_REFUSED"),
                false
            )),
            Some(FailureClass::NetworkError)
        );
        assert_eq!(
            class(request("Fetch", None, Some("net::ERR_ABORTED"), true)),
            None
        );
        assert_eq!(class(request("Script", Some(200), None, false)), None);
        assert_eq!(
            class(request(
                "Script",
                Some(200),
                Some("net::ERR_CONTENT_LENGTH_MISMATCH"),
                false
            )),
            Some(FailureClass::NetworkError)
        );
    }

    fn answered(resource_type: &str, url: &str, mime: &str) -> Request {
        Request {
            url: url.into(),
            mime_type: Some(mime.into()),
            ..request(resource_type, Some(200), None, false)
        }
    }

    #[test]
    fn certificate_errors_are_tls_errors() {
        let class = |r: Request| request_failure(&r).map(|(c, _, _)| c);
        let tls = Some(FailureClass::TlsError);
        for error in [
            "net::ERR_CERT_AUTHORITY_INVALID",
            "net::ERR_CERT_DATE_INVALID",
            "net::ERR_CERT_COMMON_NAME_INVALID",
            "net::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
            "net::ERR_SSL_PROTOCOL_ERROR",
            "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH",
            "net::ERR_BAD_SSL_CLIENT_AUTH_CERT",
        ] {
            for kind in ["Document", "Script", "Stylesheet", "Fetch", "Image"] {
                assert_eq!(
                    class(request(kind, None, Some(error), false)),
                    tls,
                    "{kind} {error}"
                );
            }
        }
        let socket = request(
            "WebSocket",
            None,
            Some("Error in connection establishment: net::ERR_CERT_DATE_INVALID"),
            false,
        );
        assert_eq!(class(socket), tls);
        // Not certificate errors: still network errors.
        for error in ["net::ERR_CONNECTION_REFUSED", "net::ERR_CONNECTION_RESET"] {
            assert_eq!(
                class(request("Document", None, Some(error), false)),
                Some(FailureClass::NetworkError)
            );
        }
    }

    #[test]
    fn a_certificate_error_fails_the_load_and_names_url_and_error() {
        let mut document = request(
            "Document",
            None,
            Some("net::ERR_CERT_AUTHORITY_INVALID"),
            false,
        );
        document.url = "https://127.0.0.1:8443/".into();
        let mut obs = Observation::start(3, 0, crate::model::Phase::Run, document.url.clone(), 0);
        obs.requests = vec![document];
        let j = judge(&obs, &Rules::default());
        assert_eq!(
            j.outcome,
            Outcome::Failed,
            "it counts against the site by default"
        );
        let [f] = &j.failures[..] else {
            panic!("one failure: {:?}", j.failures)
        };
        assert_eq!(f.class, FailureClass::TlsError);
        assert_eq!(f.url, "https://127.0.0.1:8443/");
        assert_eq!(f.error.as_deref(), Some("net::ERR_CERT_AUTHORITY_INVALID"));
        assert!(
            f.message.contains("https://127.0.0.1:8443/")
                && f.message.contains("net::ERR_CERT_AUTHORITY_INVALID")
                && f.message.contains("full-page certificate warning"),
            "{}",
            f.message
        );

        let mut script = request("Script", None, Some("net::ERR_CERT_DATE_INVALID"), false);
        script.url = "https://cdn.example.com/app.js".into();
        let j = judge(&observed(vec![script]), &Rules::default());
        assert_eq!(j.outcome, Outcome::Failed, "a subresource counts too");
        assert_eq!(j.failures[0].class, FailureClass::TlsError);
        assert!(
            j.failures[0]
                .message
                .contains("Script https://cdn.example.com/app.js")
                && j.failures[0].message.contains("net::ERR_CERT_DATE_INVALID"),
            "{}",
            j.failures[0].message
        );
        let rules = Rules {
            counted: Some(vec![FailureClass::MissingAsset]),
            ..Rules::default()
        };
        assert_eq!(
            judge(
                &observed(vec![request(
                    "Script",
                    None,
                    Some("net::ERR_CERT_DATE_INVALID"),
                    false
                )]),
                &rules
            )
            .outcome,
            Outcome::Ok,
            "[judge] count without tls_error leaves it recorded only"
        );
    }

    #[test]
    fn content_of_the_wrong_kind() {
        let class = |r: Request| request_failure(&r).map(|(c, _, _)| c);
        let wrong = Some(FailureClass::WrongContent);
        let js = "http://127.0.0.1:1/assets/app-3f9a1c.js";
        assert_eq!(class(answered("Script", js, "text/html")), wrong);
        assert_eq!(class(answered("Stylesheet", js, "text/html")), wrong);
        assert_eq!(class(answered("Font", js, "text/html")), wrong);
        assert_eq!(
            class(answered("Other", js, "text/html")),
            wrong,
            "a modulepreload of a .js URL"
        );
        assert_eq!(class(answered("Script", js, "text/javascript")), None);
        assert_eq!(
            class(answered("Script", js, "text/plain")),
            None,
            "a classic script runs as text/plain: no user suffers"
        );
        assert_eq!(
            class(answered("Fetch", "http://127.0.0.1:1/api", "text/html")),
            None
        );
        let refused = Request {
            refused: Some("Failed to load module script: ...".into()),
            ..answered("Script", js, "text/plain")
        };
        assert_eq!(
            class(refused.clone()),
            wrong,
            "a module refused for its type"
        );
        // Under nosniff a refused stylesheet is an abort without a response.
        let aborted = Request {
            status: None,
            error: Some("net::ERR_ABORTED".into()),
            canceled: true,
            ..refused.clone()
        };
        assert_eq!(class(aborted), wrong);
        let orb = request("Script", None, Some(BLOCKED_BY_ORB), false);
        assert_eq!(class(orb), wrong);
        let nosniff = Request {
            blocked: Some("content-type".into()),
            ..request("Script", None, Some("net::ERR_BLOCKED_BY_RESPONSE"), false)
        };
        assert_eq!(class(nosniff), wrong);
        // CSP logs a refusal naming the URL too, but it is a block of its own kind.
        let csp = Request {
            blocked: Some("csp".into()),
            refused: Some("Refused to load the script".into()),
            ..request("Script", None, Some("blocked: csp"), false)
        };
        assert_eq!(class(csp), Some(FailureClass::NetworkError));
        // A CORS failure on a module is logged naming the URL, but fails as a network error.
        let cors = Request {
            refused: Some("Access to script at '...' blocked by CORS policy".into()),
            error: Some("net::ERR_FAILED".into()),
            ..answered("Script", js, "text/javascript")
        };
        assert_eq!(class(cors), Some(FailureClass::NetworkError));
        let orb_404 = Request {
            status: Some(404),
            ..request("Script", None, Some(BLOCKED_BY_ORB), false)
        };
        assert_eq!(
            class(orb_404),
            Some(FailureClass::MissingAsset),
            "the status is the truth"
        );
        let events = "http://127.0.0.1:1/events";
        assert_eq!(class(answered("EventSource", events, "text/html")), wrong);
        assert_eq!(
            class(answered("EventSource", events, "text/event-stream")),
            None
        );
        let no_stream = Request {
            status: Some(204),
            ..answered("EventSource", events, "text/plain")
        };
        assert_eq!(class(no_stream), None, "204: the server says there is none");
    }

    #[test]
    fn long_lived_requests_and_websockets() {
        let class = |r: Request| request_failure(&r).map(|(c, _, _)| c);
        let cut = Request {
            long_lived: true,
            mime_type: Some("text/event-stream".into()),
            ..request(
                "EventSource",
                Some(200),
                Some("net::ERR_CONNECTION_RESET"),
                false,
            )
        };
        assert_eq!(class(cut), None, "cut after it was open: apps reconnect");
        let never_opened = request(
            "EventSource",
            None,
            Some("net::ERR_CONNECTION_REFUSED"),
            false,
        );
        assert_eq!(class(never_opened), Some(FailureClass::NetworkError));
        let handshake = request(
            "WebSocket",
            None,
            Some("Error during WebSocket handshake: Unexpected response code: 404"),
            false,
        );
        assert_eq!(class(handshake), Some(FailureClass::HttpError));
        assert!(made_by_page("wss://127.0.0.1:1/live", "WebSocket"));
    }

    fn observed(requests: Vec<Request>) -> Observation {
        let mut obs = Observation::start(
            7,
            0,
            crate::model::Phase::Rollout,
            "http://127.0.0.1:1/".into(),
            1_000,
        );
        let mut document = request("Document", Some(200), None, false);
        document.url = "http://127.0.0.1:1/".into();
        document.version = Some("v1".into());
        obs.requests = std::iter::once(document).chain(requests).collect();
        obs.version = Some("v1".into());
        obs
    }

    #[test]
    fn only_the_pages_own_requests_are_judged() {
        assert!(made_by_page("http://127.0.0.1:1/favicon.ico", "Image"));
        assert!(!made_by_page("http://127.0.0.1:1/favicon.ico", "Other"));
        assert!(!made_by_page("data:image/png;base64,AAAA", "Image"));
        assert!(!made_by_page("chrome-error://chromewebdata/", "Document"));
        assert!(made_by_page("https://cdn.example.com/app.js", "Script"));
    }

    #[test]
    fn what_counts_against_the_site() {
        use FailureClass::*;
        assert!(MissingAsset.counts(false, None));
        assert!(
            !JsError.counts(false, None),
            "recorded, not counted, unless asked"
        );
        assert!(JsError.counts(true, None));
        assert!(
            !ProberError.counts(true, None),
            "the prober's faults never count"
        );
        assert!(!Timeout.counts(false, Some(&[MissingAsset])));
        assert!(
            JsError.counts(true, Some(&[MissingAsset])),
            "--fail-on-js-error adds it"
        );
    }

    #[test]
    fn ignored_and_blocked_requests_are_not_failures() {
        let mut analytics = request("Script", Some(404), None, false);
        analytics.url = "http://127.0.0.1:1/analytics/tag.js".into();
        let blocked = request("Image", None, Some(BLOCKED_BY_PROBER), false);
        let obs = observed(vec![analytics, blocked]);
        assert_eq!(judge(&obs, &Rules::default()).outcome, Outcome::Failed);
        let rules = Rules {
            ignore: UrlFilter::new(&["*/analytics/*".into()]).unwrap(),
            ..Rules::default()
        };
        let j = judge(&obs, &rules);
        assert_eq!(j.outcome, Outcome::Ok);
        assert!(j.failures.is_empty());
    }

    #[test]
    fn a_cross_version_miss_names_both_versions() {
        let mut asset = request("Script", Some(404), Some("net::ERR_ABORTED"), true);
        asset.version = Some("v2".into());
        let j = judge(&observed(vec![asset]), &Rules::default());
        assert_eq!(
            j.failures.len(),
            1,
            "the 404 counts once, not again as its abort"
        );
        let f = &j.failures[0];
        assert_eq!(
            (f.class, f.phase),
            (FailureClass::MissingAsset, crate::model::Phase::Rollout)
        );
        assert_eq!(
            f.diagnosis.as_deref(),
            Some("index.html from v1, asset requested from a v2 backend (404)")
        );
        assert!(f.message.contains("(served by v2)"), "{}", f.message);
    }

    #[test]
    fn page_level_failures_are_booked_on_the_document() {
        let mut obs = observed(Vec::new());
        obs.timed_out = Some("network not idle".into());
        obs.js_errors.push(crate::model::JsError {
            kind: "exception".into(),
            text: "boom".into(),
            url: None,
            at_ms: 5.0,
        });
        let j = judge(&obs, &Rules::default());
        let classes: Vec<_> = j.failures.iter().map(|f| f.class).collect();
        assert_eq!(classes, [FailureClass::Timeout, FailureClass::JsError]);
        assert_eq!(j.failures[0].url, "http://127.0.0.1:1/");
        assert_eq!(j.failures[1].at_unix_ms, 1_005);
        assert_eq!(j.outcome, Outcome::Failed);
    }
}
