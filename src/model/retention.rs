//! Old-asset retention: whether the static assets the previous version's pages loaded are still
//! served once the deployment is over. Tabs opened before a deploy keep asking for them (a lazy
//! route's chunk, a font); teams keep them on purpose (N-1 assets in the image, a shared asset
//! bucket, skew protection), and this is what checks that they did.

/// The retention check's name, in every report.
pub const RETENTION_CHECK_NAME: &str = "assets of the previous version are still served";

use serde::{Deserialize, Serialize};

/// A static asset the first phase (the baseline, or a plain run's `run`) loaded: what the
/// retention check requests again after the deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OldAsset {
    pub url: String,
    /// DevTools resource type: Script, Stylesheet, Font or Image.
    pub resource_type: String,
    /// The MIME type it was served with then, as Chromium understood it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// The version that answered it (the version header), else the page's version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// Who fetched it: `fresh users`, `open tabs`, `returning users`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub needed_by: Vec<String>,
}

/// The assets of the old version, as the recorder kept them (bounded).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OldAssets {
    /// The version(s) they belong to, when a version source was set.
    pub versions: Vec<String>,
    /// In the order they were first loaded.
    pub assets: Vec<OldAsset>,
    /// Distinct assets past the bound, not kept.
    pub dropped: u64,
}

/// What the retention check found, one entry per asset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Retention {
    /// The version(s) whose assets were checked (the baseline's), when a version source was set.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub old_versions: Vec<String>,
    /// Gone assets fail the run (`--retention-required`, default true); false: a warning.
    pub required: bool,
    /// Requests made for each asset (a round-robin ingress must reach every backend).
    pub attempts: u32,
    /// URLs answered 2xx with the right content type on every attempt.
    pub served: Vec<String>,
    /// URLs answered 404/410/403, or with an HTML page (the SPA fallback), on any attempt.
    pub gone: Vec<String>,
    /// URLs neither served nor gone on some attempt (5xx, no answer, the time bound): not shown
    /// to be retained.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unchecked: Vec<String>,
    /// Each asset checked, in the order the first phase loaded them.
    pub assets: Vec<AssetRetention>,
    /// Distinct assets the first phase loaded past the bound, not checked.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub assets_dropped: u64,
    /// Why there was nothing to check or the check did not run (interrupted, no asset loaded).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_checked: Option<String>,
    /// What failed in the last phase with a cache's answer, fetched again past the caches.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub past_cache: Vec<PastCache>,
    pub started_at_ms: u64,
    pub duration_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    Served,
    Unchecked,
    /// Worst last: a merge keeps the worst.
    Gone,
}

impl Kept {
    pub fn as_str(self) -> &'static str {
        match self {
            Kept::Served => "served",
            Kept::Unchecked => "unchecked",
            Kept::Gone => "gone",
        }
    }
}

/// One asset of the old version, requested again after the deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssetRetention {
    pub url: String,
    pub resource_type: String,
    /// The MIME type the first phase got, which a served answer must match.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_mime: Option<String>,
    /// The version it was loaded from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    pub kept: Kept,
    /// Who fetched it in the first phase: `fresh users`, `open tabs`, `returning users`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub needed_by: Vec<String>,
    /// Requests made, and of those the ones answered as gone.
    pub attempts: u32,
    pub gone_attempts: u32,
    /// The worst answer, when not served: `404`, `200 text/html (SPA fallback page)`, `503`, a
    /// connection error.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub how: Option<String>,
    /// Versions of the backends that answered (the version header), where known.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub answered_by: Vec<String>,
}

/// A URL that failed in the last phase (settle, or a plain run) with a cache's answer (an
/// `Age`, a CDN's `X-Cache: HIT`), fetched again after probing with a query no cache has seen:
/// the origin's own answer, which tells a cache that kept a failure from an origin that lacks
/// the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PastCache {
    pub url: String,
    /// DevTools resource type of the failed request.
    pub resource_type: String,
    /// What the cache answered, in words: `404 with Age 37 s, X-Cache HIT`.
    pub cached: String,
    /// The origin's answer past the caches, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// Why there was no answer, or what was wrong with it (`200 text/html (SPA fallback page)`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub how: Option<String>,
    /// The origin serves it (the cache kept a failure the origin no longer gives), fails it too
    /// (the cache passed the failure on), or could not be checked (`how` says why): null.
    pub served: Option<bool>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
