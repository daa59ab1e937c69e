//! One retention request: a GET over plain HTTP(S), as the browser would have made it for the
//! old page, on a connection of its own.

use anyhow::{Context, Result};
use reqwest::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderName, HeaderValue, PRAGMA,
};

use super::RetentionPlan;
use crate::judge::retained::Answer;

/// A client with the run's certificate trust and `--resolve` addresses, HTTP(S)_PROXY / NO_PROXY from the environment
/// (reqwest's default), and no connection kept: every request opens its own, so a balancer that
/// picks a backend per connection (a Kubernetes Service) spreads the attempts too.
pub fn build(plan: &RetentionPlan) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    // `--resolve`: the old assets are asked where the browser asked for them.
    for (host, addr) in &plan.host_map {
        builder = builder.resolve(host, *addr);
    }
    builder
        .tls_backend_preconfigured(super::tls::config(&plan.trust)?)
        .pool_max_idle_per_host(0)
        .connect_timeout(plan.request_timeout)
        .timeout(plan.request_timeout)
        .user_agent(concat!(
            "rollprobe/",
            env!("CARGO_PKG_VERSION"),
            " (retention check)"
        ))
        .build()
        .context("building the HTTP client")
}

/// What one request got, and the version header of the backend that answered it. The status
/// and type decide; the body is read to its end all the same (and dropped as it comes), so the
/// server logs a whole answer, not a client that hung up midway.
pub async fn fetch(
    client: &reqwest::Client,
    plan: &RetentionPlan,
    url: &reqwest::Url,
    resource_type: &str,
) -> (Answer, Option<String>) {
    let request = match request(client, plan, url, resource_type) {
        Ok(r) => r,
        Err(e) => return (Err(format!("{e:#}")), None),
    };
    match request.send().await {
        Ok(mut response) => {
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let version = plan.version_header.as_deref().and_then(header);
            let content_type = header(CONTENT_TYPE.as_str());
            let status = response.status().as_u16();
            // A body cut off by the request timeout or the connection says nothing more about
            // the asset: the head already did.
            while let Ok(Some(_)) = response.chunk().await {}
            (Ok((status, content_type)), version)
        }
        Err(e) => (Err(describe(&e)), None),
    }
}

fn request(
    client: &reqwest::Client,
    plan: &RetentionPlan,
    url: &reqwest::Url,
    resource_type: &str,
) -> Result<reqwest::RequestBuilder> {
    let mut request = client
        .get(url.clone())
        .header(ACCEPT, accept(resource_type))
        // Past every cache that honours it (CDNs mostly do not: see `past_cache`).
        .header(CACHE_CONTROL, "no-cache")
        .header(PRAGMA, "no-cache");
    for (name, value) in &plan.headers {
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).with_context(|| format!("header {name}"))?,
            HeaderValue::from_str(value).with_context(|| format!("header {name}"))?,
        );
    }
    // The probe sets its cookies for the start URLs' hosts: sent there only, as the browser did.
    let own_host = url
        .host_str()
        .is_some_and(|h| plan.cookie_hosts.iter().any(|c| c == h));
    if own_host && !plan.cookies.is_empty() {
        let cookies: Vec<String> = plan
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        request = request.header(
            COOKIE,
            HeaderValue::from_str(&cookies.join("; ")).context("cookies")?,
        );
    }
    Ok(request)
}

/// The Accept header Chromium sends for such a resource, so content negotiation answers alike.
fn accept(resource_type: &str) -> &'static str {
    match resource_type {
        "Stylesheet" => "text/css,*/*;q=0.1",
        "Image" => "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        _ => "*/*",
    }
}

/// The innermost cause: `connection refused`, a certificate error, `timed out`.
fn describe(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    if e.is_timeout() {
        "no answer within the request timeout".to_string()
    } else {
        source.to_string()
    }
}
