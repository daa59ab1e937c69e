//! The scenario file's own tables as written (targets, steps, secrets, per-phase SLOs): serde's
//! view of them, every value with its span so the scenario's validator can point at it.
//! Nothing here judges a value beyond its TOML type.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub url: Spanned<String>,
    pub weight: Option<Spanned<i64>>,
}

pub type SecretMap = BTreeMap<Spanned<String>, Spanned<RawSecret>>;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBasicAuth {
    pub username: Spanned<String>,
    pub password: Spanned<RawSecret>,
}

/// A string, or `{ env = "VAR" }`.
#[derive(Clone, Debug)]
pub enum RawSecret {
    Literal(String),
    Env(String),
}

#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug)]
pub struct RawDuration(pub Duration);

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

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub click: Option<Spanned<String>>,
    pub goto: Option<Spanned<String>>,
    pub wait_for: Option<Spanned<String>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub wait_idle: Option<Spanned<bool>>,
    pub eval: Option<Spanned<String>>,
    pub sleep: Option<RawDuration>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    // Read as `[slo]`'s own keys are: `99.5`, `"99.5%"`, `3`.
    #[serde(default, deserialize_with = "super::value::from_toml")]
    pub min_success_percent: Option<super::Percent>,
    #[serde(default, deserialize_with = "super::value::from_toml")]
    pub max_failed_loads: Option<u64>,
}
