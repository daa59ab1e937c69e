//! The scenario file as written: serde's view of it, every value with its span so the
//! validator can point at it. Nothing here judges a value beyond its TOML type.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) target: Option<Spanned<Vec<RawTarget>>>,
    #[serde(default)]
    pub(super) request: RawRequest,
    #[serde(default)]
    pub(super) load: RawLoad,
    #[serde(default)]
    pub(super) step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub(super) judge: RawJudge,
    #[serde(default)]
    pub(super) version: RawVersion,
    #[serde(default)]
    pub(super) slo: RawSlos,
    pub(super) open_tabs: Option<RawOpenTabs>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOpenTabs {
    pub(super) count: Option<Spanned<i64>>,
    pub(super) every: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub(super) step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub(super) url: Spanned<String>,
    pub(super) weight: Option<Spanned<i64>>,
}

pub(super) type SecretMap = BTreeMap<Spanned<String>, Spanned<RawSecret>>;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    #[serde(default)]
    pub(super) headers: SecretMap,
    #[serde(default)]
    pub(super) cookies: SecretMap,
    pub(super) basic_auth: Option<Spanned<RawBasicAuth>>,
    pub(super) insecure: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBasicAuth {
    pub(super) username: Spanned<String>,
    pub(super) password: Spanned<RawSecret>,
}

/// A string, or `{ env = "VAR" }`.
pub(super) enum RawSecret {
    Literal(String),
    Env(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRef {
    env: String,
}

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = RawSecret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or { env = \"VARIABLE\" } to read it from the environment")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSecret, A::Error> {
                let r = EnvRef::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawSecret::Env(r.env))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// A duration: `"30s"`, `"2m"`, `"500ms"`, or a bare number of seconds, as on the command line.
pub(super) struct RawDuration(pub(super) Duration);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like \"30s\", \"2m\" or \"500ms\", or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                crate::clock::parse_duration(v)
                    .map(RawDuration)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoad {
    pub(super) workers: Option<Spanned<i64>>,
    pub(super) rate: Option<Spanned<String>>,
    pub(super) max_workers: Option<Spanned<i64>>,
    pub(super) duration: Option<Spanned<RawDuration>>,
    pub(super) idle: Option<RawDuration>,
    pub(super) long_request: Option<Spanned<RawDuration>>,
    pub(super) load_timeout: Option<Spanned<RawDuration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) click: Option<Spanned<String>>,
    pub(super) goto: Option<Spanned<String>>,
    pub(super) wait_for: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<RawDuration>>,
    pub(super) wait_idle: Option<Spanned<bool>>,
    pub(super) eval: Option<Spanned<String>>,
    pub(super) sleep: Option<RawDuration>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJudge {
    #[serde(default)]
    pub(super) ignore: Vec<Spanned<String>>,
    pub(super) fail_on_js_error: Option<bool>,
    pub(super) expect_selector: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVersion {
    pub(super) header: Option<Spanned<String>>,
    pub(super) meta: Option<Spanned<String>>,
    pub(super) js: Option<Spanned<String>>,
    pub(super) expect: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlos {
    pub(super) min_success_percent: Option<Spanned<f64>>,
    pub(super) max_failed_loads: Option<Spanned<i64>>,
    pub(super) baseline: Option<RawSlo>,
    pub(super) rollout: Option<RawSlo>,
    pub(super) settle: Option<RawSlo>,
    pub(super) open_tabs: Option<RawSlo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlo {
    pub(super) min_success_percent: Option<Spanned<f64>>,
    pub(super) max_failed_loads: Option<Spanned<i64>>,
}
