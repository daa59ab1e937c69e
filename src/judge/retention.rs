//! Old-asset retention, the judge's side: which assets of the old version the recorder keeps to
//! be checked after the deployment ([`AssetCollector`]), and what the check's findings mean for
//! the report ([`check`], [`merge`]). The requests themselves are made by the retention
//! checker, after probing.

use std::collections::HashSet;

use super::classify::{Rules, made_by_page, stands_for};
use crate::model::{Check, ContentKind, Kept, Observation, OldAsset, OldAssets, Phase, Retention};

pub use crate::model::RETENTION_CHECK_NAME as CHECK_NAME;

/// Resource types a bundler emits as files a later page of the same version asks for again.
const RETAINED_TYPES: [&str; 4] = ["Script", "Stylesheet", "Font", "Image"];

/// Who fetched an asset, when it was a load's.
pub const FRESH_USERS: &str = "fresh users";

/// Keeps, from the loads and rounds of the first phase (the baseline, or a plain run's only
/// phase), each static asset answered 2xx with a non-HTML type, within a bound: the lazy chunk
/// an open tab's step imported and what a returning user's service worker precached included.
pub struct AssetCollector {
    max: usize,
    seen: HashSet<String>,
    assets: Vec<OldAsset>,
    /// Versions of the first phase's pages, in the order first seen.
    versions: Vec<String>,
    /// Whether the first phase is a plain run's `run`: a deploy in another step may happen
    /// during it, so only the first version seen is the old one.
    plain_run: bool,
    dropped: u64,
}

impl AssetCollector {
    pub fn new(max: usize) -> AssetCollector {
        AssetCollector {
            max,
            seen: HashSet::new(),
            assets: Vec::new(),
            versions: Vec::new(),
            plain_run: false,
            dropped: 0,
        }
    }

    /// Takes the assets of one load or round, fetched by `who` (`fresh users`, `open tabs`,
    /// `returning users`).
    pub fn take(&mut self, obs: &Observation, rules: &Rules, who: &str) {
        if !matches!(obs.phase, Phase::Run | Phase::Baseline) {
            return;
        }
        self.plain_run = obs.phase == Phase::Run;
        if let Some(v) = &obs.version
            && !self.versions.contains(v)
        {
            self.versions.push(v.clone());
        }
        for r in &obs.requests {
            let ok = r.status.is_some_and(|s| (200..300).contains(&s))
                && r.error.is_none()
                && r.method == "GET"
                && RETAINED_TYPES.contains(&stands_for(r))
                && !r.mime_type.as_deref().is_some_and(ContentKind::is_html)
                && made_by_page(&r.url, &r.resource_type)
                && !rules.ignore.matches(&r.url);
            if !ok {
                continue;
            }
            let url = r.url.split('#').next().unwrap_or(&r.url);
            if self.seen.contains(url) {
                let known = self.assets.iter_mut().find(|a| a.url == url);
                if let Some(a) = known.filter(|a| !a.needed_by.iter().any(|w| w == who)) {
                    a.needed_by.push(who.to_string());
                }
                continue;
            }
            if self.assets.len() >= self.max {
                self.dropped += 1;
                // Counted once each: the set bounds itself to what it counts.
                if self.seen.len() < self.max * 4 {
                    self.seen.insert(url.to_string());
                }
                continue;
            }
            self.seen.insert(url.to_string());
            self.assets.push(OldAsset {
                url: url.to_string(),
                resource_type: r.resource_type.clone(),
                mime_type: r.mime_type.clone(),
                version: r.version.clone().or_else(|| obs.version.clone()),
                needed_by: vec![who.to_string()],
            });
        }
    }

    /// The old version's assets: with a version source, those of the versions the baseline
    /// served (a plain run: the first version it saw); without one, every asset kept.
    pub fn finish(self) -> OldAssets {
        let mut versions = self.versions;
        if self.plain_run {
            versions.truncate(1);
        }
        let assets = self
            .assets
            .into_iter()
            .filter(|a| {
                versions.is_empty() || a.version.as_ref().is_none_or(|v| versions.contains(v))
            })
            .collect();
        OldAssets {
            versions,
            assets,
            dropped: self.dropped,
        }
    }
}

/// The check, once the retention check ran: it passes when every asset was served. A gone or
/// unchecked asset fails it, or only warns with `--retention-required false`.
pub fn check(r: &Retention) -> Option<Check> {
    if r.not_checked.is_some() {
        return None;
    }
    let total = r.assets.len();
    let of = match r.old_versions.as_slice() {
        [] => "the previous version".to_string(),
        versions => versions.join(", "),
    };
    let mut problems = Vec::new();
    if !r.gone.is_empty() {
        problems.push(format!(
            "{} of {total} assets of {of} are gone after the rollout: tabs opened before the deploy will fail when they load a lazy route ({})",
            r.gone.len(),
            examples(r, Kept::Gone)
        ));
    }
    if !r.unchecked.is_empty() {
        problems.push(format!(
            "{} of {total} assets of {of} could not be shown to be served ({})",
            r.unchecked.len(),
            examples(r, Kept::Unchecked)
        ));
    }
    let passed = problems.is_empty();
    let message = if passed {
        format!(
            "all {total} assets of {of} are still served ({} requests each)",
            r.attempts
        )
    } else {
        problems.join("; ")
    };
    Some(Check {
        name: CHECK_NAME.to_string(),
        passed,
        message: if !passed && !r.required {
            format!("warning only (--retention-required false): {message}")
        } else {
            message
        },
        warning: !passed && !r.required,
    })
}

/// The first asset of a kind, with how it was answered: the reports list them all.
fn examples(r: &Retention, kept: Kept) -> String {
    r.assets
        .iter()
        .find(|a| a.kept == kept)
        .map(|a| {
            // Who will ask for it again, when not only fresh users fetched it.
            let needed = match a.needed_by.as_slice() {
                [] => String::new(),
                [only] if only == FRESH_USERS => String::new(),
                who => format!(", fetched by {}", who.join(" and ")),
            };
            format!(
                "first: {} {}{needed}",
                a.how.as_deref().unwrap_or("?"),
                a.url
            )
        })
        .unwrap_or_default()
}

/// Why there is no check, for the notes.
pub fn note(r: &Retention) -> Option<String> {
    r.not_checked
        .as_ref()
        .map(|why| format!("old-asset retention was not checked: {why}"))
}

/// The shards' findings as one: every asset any shard checked, the worst answer winning (gone,
/// then unchecked, then served), attempts added up; required if any shard required it.
pub fn merge(shards: &[&Retention]) -> Option<Retention> {
    let checked: Vec<&&Retention> = shards.iter().filter(|r| r.not_checked.is_none()).collect();
    if checked.is_empty() {
        return shards.first().map(|r| (*r).clone());
    }
    let mut out = Retention {
        required: checked.iter().any(|r| r.required),
        attempts: 0,
        started_at_ms: checked.iter().map(|r| r.started_at_ms).min().unwrap_or(0),
        ..Retention::default()
    };
    let ended = checked
        .iter()
        .map(|r| r.started_at_ms + r.duration_ms)
        .max()
        .unwrap_or(0);
    out.duration_ms = ended.saturating_sub(out.started_at_ms);
    for r in &checked {
        out.attempts = out.attempts.max(r.attempts);
        out.assets_dropped += r.assets_dropped;
        for v in &r.old_versions {
            if !out.old_versions.contains(v) {
                out.old_versions.push(v.clone());
            }
        }
        for p in &r.past_cache {
            if !out.past_cache.iter().any(|m| m.url == p.url) {
                out.past_cache.push(p.clone());
            }
        }
        for a in &r.assets {
            match out.assets.iter_mut().find(|m| m.url == a.url) {
                None => out.assets.push(a.clone()),
                Some(m) => {
                    if a.kept > m.kept {
                        m.kept = a.kept;
                        m.how = a.how.clone();
                    }
                    m.attempts += a.attempts;
                    m.gone_attempts += a.gone_attempts;
                    for v in &a.answered_by {
                        if !m.answered_by.contains(v) {
                            m.answered_by.push(v.clone());
                        }
                    }
                }
            }
        }
    }
    out.old_versions.sort();
    sort_into_lists(&mut out);
    Some(out)
}

/// `served`, `gone` and `unchecked` from the assets' verdicts.
pub fn sort_into_lists(r: &mut Retention) {
    let urls = |kept: Kept| -> Vec<String> {
        r.assets
            .iter()
            .filter(|a| a.kept == kept)
            .map(|a| a.url.clone())
            .collect()
    };
    (r.served, r.gone, r.unchecked) = (urls(Kept::Served), urls(Kept::Gone), urls(Kept::Unchecked));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AssetRetention, Request};

    fn request(url: &str, kind: &str, status: u16, mime: &str) -> Request {
        Request {
            url: url.into(),
            method: "GET".into(),
            resource_type: kind.into(),
            status: Some(status),
            error: None,
            canceled: false,
            start_ms: 0.0,
            duration_ms: Some(1.0),
            version: None,
            pod: None,
            mime_type: Some(mime.into()),
            content_type: Some(mime.into()),
            encoded_bytes: None,
            blocked: None,
            refused: None,
            long_lived: false,
            worker: None,
            source: None,
            cache: Default::default(),
        }
    }

    fn load(phase: Phase, version: &str, requests: Vec<Request>) -> Observation {
        let mut obs = Observation::start(1, 0, phase, "http://a/".into(), 0);
        obs.version = Some(version.into());
        obs.requests = requests;
        obs
    }

    fn v1_page(phase: Phase) -> Observation {
        load(
            phase,
            "v1",
            vec![
                request("http://a/", "Document", 200, "text/html"),
                request(
                    "http://a/assets/index-1.js",
                    "Script",
                    200,
                    "text/javascript",
                ),
                request(
                    "http://a/assets/index-1.css#x",
                    "Stylesheet",
                    200,
                    "text/css",
                ),
                request("http://cdn/font.woff2", "Font", 200, "font/woff2"),
                request("http://a/api/me", "Fetch", 200, "application/json"),
                request("http://a/assets/gone.js", "Script", 404, "text/html"),
                request("http://a/assets/fallback.js", "Script", 200, "text/html"),
                request("data:image/png;base64,AAAA", "Image", 200, "image/png"),
            ],
        )
    }

    #[test]
    fn the_baselines_static_assets_are_kept_once_each_with_their_version() {
        let mut c = AssetCollector::new(500);
        let rules = Rules::default();
        c.take(&v1_page(Phase::Baseline), &rules, FRESH_USERS);
        c.take(&v1_page(Phase::Baseline), &rules, FRESH_USERS);
        let mut v2 = v1_page(Phase::Rollout);
        v2.requests[1].url = "http://a/assets/index-2.js".into();
        c.take(&v2, &rules, FRESH_USERS);
        let old = c.finish();
        let urls: Vec<&str> = old.assets.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://a/assets/index-1.js",
                "http://a/assets/index-1.css",
                "http://cdn/font.woff2"
            ]
        );
        assert_eq!(old.versions, ["v1"]);
        assert!(
            old.assets
                .iter()
                .all(|a| a.version.as_deref() == Some("v1"))
        );
    }

    #[test]
    fn what_a_service_worker_precached_is_kept_as_the_asset_it_stands_for() {
        let mut c = AssetCollector::new(500);
        let mut precache = request(
            "http://a/assets/reports-1.js",
            "Fetch",
            200,
            "text/javascript",
        );
        precache.worker = Some("service worker http://a/sw.js".into());
        // The page's own fetch of an API is not an asset.
        let api = request("http://a/api/me", "Fetch", 200, "application/json");
        let page = load(Phase::Baseline, "v1", vec![precache, api]);
        c.take(&page, &Rules::default(), "returning users");
        let old = c.finish();
        let urls: Vec<&str> = old.assets.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(urls, ["http://a/assets/reports-1.js"]);
        assert_eq!(old.assets[0].needed_by, ["returning users"]);
    }

    #[test]
    fn a_plain_run_checks_the_first_version_it_saw_and_the_bound_holds() {
        let mut c = AssetCollector::new(2);
        let rules = Rules::default();
        c.take(&v1_page(Phase::Run), &rules, FRESH_USERS);
        let mut v2 = load(
            Phase::Run,
            "v2",
            vec![request(
                "http://a/assets/index-2.js",
                "Script",
                200,
                "text/javascript",
            )],
        );
        v2.requests[0].version = Some("v2".into());
        c.take(&v2, &rules, FRESH_USERS);
        let old = c.finish();
        assert_eq!(old.versions, ["v1"]);
        assert_eq!(old.assets.len(), 2);
        assert_eq!(
            old.dropped, 2,
            "the font and v2's script were past the bound"
        );
    }

    fn asset(url: &str, kept: Kept, how: Option<&str>) -> AssetRetention {
        AssetRetention {
            url: url.into(),
            resource_type: "Script".into(),
            expected_mime: Some("text/javascript".into()),
            version: Some("v1".into()),
            kept,
            needed_by: vec![FRESH_USERS.into(), "open tabs".into()],
            attempts: 4,
            gone_attempts: u32::from(kept == Kept::Gone) * 4,
            how: how.map(str::to_string),
            answered_by: vec!["v2".into()],
        }
    }

    fn retention(assets: Vec<AssetRetention>, required: bool) -> Retention {
        let mut r = Retention {
            old_versions: vec!["v1".into()],
            required,
            attempts: 4,
            assets,
            ..Retention::default()
        };
        sort_into_lists(&mut r);
        r
    }

    #[test]
    fn gone_assets_fail_the_check_unless_retention_is_not_required() {
        let assets = vec![
            asset("http://a/1.js", Kept::Gone, Some("404")),
            asset("http://a/2.js", Kept::Served, None),
        ];
        let c = check(&retention(assets.clone(), true)).unwrap();
        assert_eq!(c.name, CHECK_NAME);
        assert!(c.fails_run());
        assert!(
            c.message.starts_with(
                "1 of 2 assets of v1 are gone after the rollout: tabs opened before the deploy will fail when they load a lazy route (first: 404 http://a/1.js, fetched by fresh users and open tabs)"
            ),
            "{}",
            c.message
        );
        let warn = check(&retention(assets, false)).unwrap();
        assert!(!warn.passed && warn.warning && !warn.fails_run());
        let ok = check(&retention(
            vec![asset("http://a/2.js", Kept::Served, None)],
            true,
        ))
        .unwrap();
        assert!(ok.passed, "{}", ok.message);
        let skipped = Retention {
            not_checked: Some("the run was interrupted".into()),
            ..Retention::default()
        };
        assert!(check(&skipped).is_none());
        assert!(note(&skipped).unwrap().contains("interrupted"));
    }

    #[test]
    fn merged_shards_keep_every_asset_and_gone_wins() {
        let a = retention(
            vec![
                asset("http://a/1.js", Kept::Served, None),
                asset("http://a/2.js", Kept::Served, None),
            ],
            false,
        );
        let b = retention(
            vec![
                asset("http://a/1.js", Kept::Gone, Some("404")),
                asset("http://a/3.js", Kept::Unchecked, Some("503")),
            ],
            true,
        );
        let m = merge(&[&a, &b]).unwrap();
        assert_eq!(m.gone, ["http://a/1.js"]);
        assert_eq!(m.served, ["http://a/2.js"]);
        assert_eq!(m.unchecked, ["http://a/3.js"]);
        assert!(m.required);
        assert_eq!(m.assets[0].attempts, 8);
        assert_eq!(m.assets[0].how.as_deref(), Some("404"));
    }
}
