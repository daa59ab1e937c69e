//! Which app versions were served over time (see the judge's versions analysis).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// Per second (Unix seconds, by load start): loads by the version of their document.
    pub timeline: Vec<Second>,
    /// Every version seen, in the order it first appeared.
    pub seen: Vec<Seen>,
    /// From the first second a second version was served to the last second an earlier one
    /// still was: the window in which users could mix versions.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mixed_window: Option<Window>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Second {
    pub unix_s: u64,
    pub loads: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    pub version: String,
    /// Loads that this version served the document or any request of.
    pub loads: u64,
    pub first_unix_ms: u64,
    pub last_unix_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start_unix_ms: u64,
    pub end_unix_ms: u64,
}
