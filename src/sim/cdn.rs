//! A CDN in front of the ingress (`--cdn`), caching as the common ones do by default: a GET's
//! answer is kept by its full URL (query included) for its `s-maxage` or `max-age`, a 404 or
//! 410 sent without caching headers for a few minutes (Cloudflare's default for them), and a
//! request's own `Cache-Control` is ignored. Answers carry `Age` and `X-Cache: HIT` or `MISS`.
//! What it keeps during a rollout, a 404 or an SPA fallback's page included, it serves to
//! everyone after it: the failure that outlives the deploy.

use super::{
    http::{Body, Headers, Request, Response, header},
    ingress::FailedLog,
    server::{Handler, handler},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::io::AsyncReadExt;

/// How long a 404 or 410 sent without caching headers is kept.
const NEGATIVE_TTL: Duration = Duration::from_secs(180);

/// Who answered a cache hit, in the ingress's log of failed requests.
pub const CDN: &str = "cdn";

struct Kept {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
    stored: Instant,
    ttl: Duration,
}

/// In front of `origin`: answers what it keeps, asks the origin for the rest and keeps what
/// may be kept. Hits that are failures go to `failed`, as the ingress logs its own.
pub fn cdn_handler(origin: Handler, failed: FailedLog) -> Handler {
    let store: Arc<Mutex<HashMap<String, Kept>>> = Arc::default();
    handler(move |req: Request| {
        let (origin, store, failed) = (origin.clone(), store.clone(), failed.clone());
        async move {
            if req.method != "GET" {
                return origin(req).await;
            }
            if let Some(hit) = lookup(&store, &req.target) {
                failed.record(&req, &hit, CDN);
                return hit;
            }
            let target = req.target.clone();
            let resp = origin(req).await;
            let Some(ttl) = ttl(resp.status, &resp.headers) else {
                return resp.with_header("X-Cache", "MISS");
            };
            let Response {
                status,
                headers,
                body,
            } = resp;
            // A body the origin broke off is not kept, and reaches the client broken.
            let body = match read_all(body).await {
                Ok(body) => body,
                Err(body) => {
                    let resp = Response {
                        status,
                        headers,
                        body,
                    };
                    return resp.with_header("X-Cache", "MISS");
                }
            };
            store.lock().expect("cdn store lock").insert(
                target,
                Kept {
                    status,
                    headers: headers.clone(),
                    body: body.clone(),
                    stored: Instant::now(),
                    ttl,
                },
            );
            Response {
                status,
                headers,
                body: full(body),
            }
            .with_header("X-Cache", "MISS")
        }
    })
}

fn lookup(store: &Mutex<HashMap<String, Kept>>, target: &str) -> Option<Response> {
    let mut store = store.lock().expect("cdn store lock");
    let kept = store.get(target)?;
    let age = kept.stored.elapsed();
    if age >= kept.ttl {
        store.remove(target);
        return None;
    }
    let resp = Response {
        status: kept.status,
        headers: kept.headers.clone(),
        body: full(kept.body.clone()),
    };
    Some(
        resp.with_header("Age", age.as_secs().to_string())
            .with_header("X-Cache", "HIT"),
    )
}

/// How long an answer may be kept, if at all.
fn ttl(status: u16, headers: &Headers) -> Option<Duration> {
    let Some(control) = header(headers, "cache-control") else {
        return matches!(status, 404 | 410).then_some(NEGATIVE_TTL);
    };
    let control = control.to_ascii_lowercase();
    let directives: Vec<&str> = control.split(',').map(str::trim).collect();
    if directives
        .iter()
        .any(|d| matches!(*d, "no-store" | "no-cache" | "private"))
    {
        return None;
    }
    let seconds = |name: &str| {
        directives
            .iter()
            .find_map(|d| d.strip_prefix(name)?.strip_prefix('=')?.parse::<u64>().ok())
    };
    let s = seconds("s-maxage").or_else(|| seconds("max-age"))?;
    (s > 0).then(|| Duration::from_secs(s))
}

/// The whole body, or the body as far as it came when the origin broke off.
async fn read_all(body: Body) -> Result<Vec<u8>, Body> {
    match body {
        Body::Full { data, .. } => Ok(data),
        Body::Upstream { mut reader, len } => {
            let mut data = Vec::with_capacity(len.min(1 << 20) as usize);
            let read = (&mut reader).take(len).read_to_end(&mut data).await;
            match read {
                Ok(n) if n as u64 == len => Ok(data),
                // The reader is spent: the client's copy comes up short, as a broken connection.
                _ => Err(Body::Upstream { reader, len }),
            }
        }
        other => Err(other),
    }
}

fn full(data: Vec<u8>) -> Body {
    Body::Full {
        data,
        pause_midway: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_kept_and_for_how_long() {
        let cc = |v: &str| vec![("Cache-Control".to_string(), v.to_string())];
        let year = Some(Duration::from_secs(31_536_000));
        assert_eq!(ttl(200, &cc("public, max-age=31536000, immutable")), year);
        assert_eq!(
            ttl(200, &cc("max-age=60, s-maxage=600")),
            Some(Duration::from_secs(600))
        );
        assert_eq!(ttl(404, &Headers::new()), Some(NEGATIVE_TTL));
        assert_eq!(ttl(200, &Headers::new()), None);
        assert_eq!(ttl(502, &Headers::new()), None);
        assert_eq!(ttl(200, &cc("no-cache")), None);
        assert_eq!(ttl(404, &cc("no-store")), None);
    }
}
