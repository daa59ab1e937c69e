//! The old-asset retention check: once the deployment is over, request every static asset the
//! first phase loaded from the old version again, several times each over plain HTTP(S), and
//! tell which are still served and which are gone. A tab opened before the deploy asks for
//! exactly these when it loads a lazy route.
//!
//! The judge's [`crate::judge::retained`] decides what one answer means; [`client`] makes one request, [`tls`] accepts the
//! certificates the browser accepted; [`check`] runs them all within a time bound.

mod client;
#[cfg(test)]
mod tests;
mod tls;

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;

use crate::browser::Trust;
use crate::clock::unix_ms;
use crate::judge::retained::{self, Attempt};
use crate::model::{AssetRetention, Kept, OldAsset, OldAssets, PastCache, Retention};

/// How the check runs and what it sends: resolved once by the plan.
#[derive(Clone, Debug)]
pub struct RetentionPlan {
    /// Gone assets fail the run; false: a warning only.
    pub required: bool,
    /// Requests per asset.
    pub attempts: u32,
    /// The whole check's bound.
    pub time_limit: Duration,
    pub request_timeout: Duration,
    pub concurrency: usize,
    /// The run's request headers (basic auth included), values resolved.
    pub headers: Vec<(String, String)>,
    /// The run's cookies, sent to `cookie_hosts` only.
    pub cookies: Vec<(String, String)>,
    /// The start URLs' hosts, which the probe set its cookies for.
    pub cookie_hosts: Vec<String>,
    /// The certificates the browser accepted.
    pub trust: Trust,
    /// `--resolve`: these hosts' requests go to these addresses (the URL's port is kept).
    pub host_map: Vec<(String, std::net::SocketAddr)>,
    /// The response header naming the app version of the backend that answered.
    pub version_header: Option<String>,
    /// A signal is how the run ends as planned (`--until-signal`): the check runs after it
    /// (and a further signal stops it). Otherwise a signal interrupts the run and skips it.
    pub after_signal: bool,
    /// Around a deploy: the check runs only once the deploy has finished.
    pub after_deploy: bool,
}

/// A retention finding that checked nothing, and why.
pub fn not_checked(plan: &RetentionPlan, old: &OldAssets, why: &str) -> Retention {
    Retention {
        old_versions: old.versions.clone(),
        required: plan.required,
        attempts: plan.attempts,
        not_checked: Some(why.to_string()),
        started_at_ms: unix_ms(SystemTime::now()),
        ..Retention::default()
    }
}

/// Requests every asset `attempts` times, at most `concurrency` at once, until done, the time
/// limit, or `stop` (a signal: then nothing is claimed). A URL is served only if every attempt
/// was; gone if any was.
pub async fn check(
    plan: &RetentionPlan,
    old: OldAssets,
    stop: impl Future<Output = ()>,
) -> Retention {
    if old.assets.is_empty() {
        return not_checked(
            plan,
            &old,
            "the first phase loaded no static asset to check",
        );
    }
    let client = match client::build(plan) {
        Ok(c) => c,
        Err(e) => return not_checked(plan, &old, &format!("{e:#}")),
    };
    let (started, t0) = (SystemTime::now(), Instant::now());
    let mut tallies: Vec<AssetRetention> = old.assets.iter().map(tally).collect();
    // Attempt-major: the first round reaches every asset before any is asked again.
    let jobs = (0..plan.attempts).flat_map(|_| 0..old.assets.len());
    let mut answers = futures::stream::iter(jobs)
        .map(|i| {
            let (client, asset) = (&client, &old.assets[i]);
            async move {
                let answer = match reqwest::Url::parse(&asset.url) {
                    Ok(url) => client::fetch(client, plan, &url, &asset.resource_type).await,
                    Err(e) => (Err(format!("not a URL: {e}")), None),
                };
                (i, answer)
            }
        })
        .buffer_unordered(plan.concurrency.max(1));
    let deadline = tokio::time::sleep(plan.time_limit);
    tokio::pin!(deadline, stop);
    loop {
        tokio::select! {
            next = answers.next() => match next {
                Some((i, (answer, version))) => {
                    let t = &mut tallies[i];
                    let a = &old.assets[i];
                    record(t, retained::judge(&a.resource_type, a.mime_type.as_deref(), &answer), version);
                }
                None => break,
            },
            _ = &mut deadline => break,
            _ = &mut stop => {
                return not_checked(plan, &old, "stopped by a signal during the check");
            }
        }
    }
    for t in &mut tallies {
        if t.kept == Kept::Served && t.attempts < plan.attempts {
            t.kept = Kept::Unchecked;
            t.how = Some(format!(
                "{} of {} requests made within {}",
                t.attempts,
                plan.attempts,
                crate::model::shown(plan.time_limit)
            ));
        }
    }
    let mut retention = Retention {
        old_versions: old.versions,
        required: plan.required,
        attempts: plan.attempts,
        assets: tallies,
        assets_dropped: old.dropped,
        started_at_ms: unix_ms(started),
        duration_ms: t0.elapsed().as_millis() as u64,
        ..Retention::default()
    };
    crate::judge::retention::sort_into_lists(&mut retention);
    retention
}

/// Each URL that failed in the last phase with a cache's answer, fetched once more with a
/// query no cache has seen (a CDN ignores a request's `Cache-Control` and keys on the whole
/// URL), so the answer is the origin's. Bounded by the check's time limit.
pub async fn past_cache(plan: &RetentionPlan, suspects: Vec<PastCache>) -> Vec<PastCache> {
    if suspects.is_empty() {
        return suspects;
    }
    let client = match client::build(plan) {
        Ok(c) => c,
        Err(e) => {
            let how = Some(format!("{e:#}"));
            return (suspects.into_iter())
                .map(|s| PastCache {
                    how: how.clone(),
                    ..s
                })
                .collect();
        }
    };
    let bust = unix_ms(SystemTime::now()).to_string();
    let unanswered = suspects.clone();
    let fetches = futures::stream::iter(suspects)
        .map(|s| {
            let (client, bust) = (&client, &bust);
            async move {
                let Ok(mut url) = reqwest::Url::parse(&s.url) else {
                    return PastCache {
                        how: Some("not a URL".into()),
                        ..s
                    };
                };
                url.query_pairs_mut()
                    .append_pair("rollprobe-past-cache", bust);
                let (answer, version) = client::fetch(client, plan, &url, &s.resource_type).await;
                let status = answer.as_ref().ok().map(|(status, _)| *status);
                // A document is served as a page: HTML is its kind.
                let expected = (s.resource_type == "Document").then_some("text/html");
                let (served, how) = match retained::judge(&s.resource_type, expected, &answer) {
                    Attempt::Served => (Some(true), None),
                    Attempt::Gone(how) => (Some(false), Some(how)),
                    Attempt::Unchecked(how) => (None, Some(how)),
                };
                PastCache {
                    status,
                    version,
                    how,
                    served,
                    ..s
                }
            }
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect::<Vec<PastCache>>();
    let mut answered = match tokio::time::timeout(plan.time_limit, fetches).await {
        Ok(answered) => answered,
        Err(_) => {
            let how = format!(
                "not fetched within {}",
                crate::model::shown(plan.time_limit)
            );
            (unanswered.into_iter())
                .map(|s| PastCache {
                    how: Some(how.clone()),
                    ..s
                })
                .collect()
        }
    };
    answered.sort_by(|a, b| a.url.cmp(&b.url));
    answered
}

/// An asset not requested yet: served until an attempt says otherwise.
fn tally(a: &OldAsset) -> AssetRetention {
    AssetRetention {
        url: a.url.clone(),
        resource_type: a.resource_type.clone(),
        expected_mime: a.mime_type.clone(),
        version: a.version.clone(),
        kept: Kept::Served,
        needed_by: a.needed_by.clone(),
        attempts: 0,
        gone_attempts: 0,
        how: None,
        answered_by: Vec::new(),
    }
}

/// One attempt into its asset's tally: the worst answer is the one kept.
fn record(t: &mut AssetRetention, attempt: Attempt, version: Option<String>) {
    t.attempts += 1;
    if let Some(v) = version
        && !t.answered_by.contains(&v)
    {
        t.answered_by.push(v);
        t.answered_by.sort();
    }
    let (kept, how) = match attempt {
        Attempt::Served => return,
        Attempt::Gone(how) => {
            t.gone_attempts += 1;
            (Kept::Gone, how)
        }
        Attempt::Unchecked(how) => (Kept::Unchecked, how),
    };
    if kept > t.kept {
        t.kept = kept;
        t.how = Some(how);
    }
}
