//! A HAR 1.2 file of one load's requests, from the observation and the CDP events behind it:
//! URL, method, status, headers of request and response as CDP gave them, timings, the error
//! of failed requests; no bodies. Values of headers and cookies that came from the run's
//! secrets (`--header`, `[request]` headers, basic auth, cookies) are redacted.

use serde_json::{Value, json};

use super::entry::Wire;
use crate::model::{Observation, Request};

const REDACTED: &str = "[redacted by rollprobe]";

/// What CDP's Network.requestWillBeSent and responseReceived leave out, said in the file.
const NOT_GIVEN: &str = "Headers are those of CDP's Network.requestWillBeSent and \
    Network.responseReceived: headers the network stack adds after them (Cookie, Host, \
    Connection, Accept-Encoding, ...) and response headers the browser keeps from pages \
    (Set-Cookie) come only in the *ExtraInfo events, which are not recorded, so they are \
    missing here. Timings are blocked/dns/connect -1 (not measured): wait is the request's \
    whole time, from being sent to its end. No bodies. Values of headers and cookies from the \
    run's secrets are redacted.";

/// The names whose values are secret: the run's extra headers and cookies.
pub(super) struct Secrets<'a> {
    pub(super) headers: &'a [(String, String)],
    pub(super) cookies: &'a [(String, String)],
}

pub(super) fn build(obs: &Observation, wires: &[Wire], secrets: &Secrets) -> Value {
    let entries: Vec<Value> = obs
        .requests
        .iter()
        .zip(wires)
        .map(|(r, w)| entry(obs, r, w, secrets))
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "rollprobe", "version": env!("CARGO_PKG_VERSION")},
            "comment": NOT_GIVEN,
            "pages": [{
                "startedDateTime": iso(obs.started_at_ms as f64),
                "id": format!("load-{}", obs.id),
                "title": obs.url,
                "pageTimings": {"comment": format!("load {} ({}) took {:.0} ms", obs.id, obs.phase, obs.duration_ms)},
            }],
            "entries": entries,
        }
    })
}

fn entry(obs: &Observation, r: &Request, w: &Wire, secrets: &Secrets) -> Value {
    let request_headers = w
        .request
        .as_ref()
        .map(|e| headers(e.request.headers.inner(), secrets))
        .unwrap_or_default();
    let response = w.response.as_ref().map(|e| &e.response);
    let response_headers = response
        .map(|r| headers(r.headers.inner(), secrets))
        .unwrap_or_default();
    let http_version = response
        .and_then(|r| r.protocol.clone())
        .unwrap_or_else(|| "unknown".into());
    let time = r.duration_ms.unwrap_or(-1.0);
    let mut e = json!({
        "pageref": format!("load-{}", obs.id),
        "startedDateTime": iso(obs.started_at_ms as f64 + r.start_ms),
        "time": time.max(0.0),
        "request": {
            "method": r.method,
            "url": r.url,
            "httpVersion": http_version,
            "cookies": [],
            "headers": request_headers,
            "queryString": [],
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": {
            "status": r.status.unwrap_or(0),
            "statusText": response.map_or(String::new(), |r| r.status_text.clone()),
            "httpVersion": http_version,
            "cookies": [],
            "headers": response_headers,
            "content": {"size": r.encoded_bytes.unwrap_or(0), "mimeType": r.mime_type.clone().unwrap_or_default()},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": time.max(0.0), "receive": 0},
        "_resourceType": r.resource_type,
    });
    if let Some(error) = r.error.as_ref().or(r.refused.as_ref()) {
        e["_error"] = Value::from(error.clone());
        e["comment"] = Value::from(format!("failed: {error}"));
    }
    e
}

/// HAR's name/value list, secrets redacted.
fn headers(map: &Value, secrets: &Secrets) -> Vec<Value> {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let value = value.as_str().unwrap_or_default();
            let secret = secrets
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name));
            let value = if secret {
                REDACTED.to_string()
            } else if name.eq_ignore_ascii_case("cookie") {
                redact_cookies(value, secrets.cookies)
            } else {
                value.to_string()
            };
            json!({"name": name, "value": value})
        })
        .collect()
}

/// `a=1; session=abc` with the run's cookie `session`: `a=1; session=[redacted by rollprobe]`.
fn redact_cookies(header: &str, cookies: &[(String, String)]) -> String {
    header
        .split(';')
        .map(|pair| {
            let pair = pair.trim();
            let name = pair.split('=').next().unwrap_or_default();
            if cookies.iter().any(|(n, _)| n == name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// HAR's ISO 8601 time, from Unix milliseconds.
fn iso(unix_ms: f64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros((unix_ms * 1000.0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_and_cookies_are_redacted() {
        let secrets = Secrets {
            headers: &[("Authorization".into(), "Basic x".into())],
            cookies: &[("session".into(), "abc".into())],
        };
        let map =
            json!({"authorization": "Basic x", "Cookie": "a=1; session=abc", "Accept": "*/*"});
        let out = headers(&map, &secrets);
        let value = |n: &str| {
            out.iter()
                .find(|h| h["name"] == n)
                .map(|h| h["value"].as_str().unwrap().to_string())
                .unwrap()
        };
        assert_eq!(value("authorization"), REDACTED);
        assert_eq!(value("Cookie"), format!("a=1; session={REDACTED}"));
        assert_eq!(value("Accept"), "*/*");
        assert_eq!(iso(1_000.5), "1970-01-01T00:00:01.000Z");
    }
}
