//! What a setting's value may be, read the same way from a flag and from the scenario file:
//! the file's scalars are read as the text a flag would carry (`workers = 4` as `--workers 4`,
//! `idle = 0.25` as `--idle 0.25`), so a value has one parser and one way to be shown.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::browser::BrowserKind;
use crate::defaults;
use crate::probe::ContextLife;

/// One value of a setting.
pub trait Value: Sized + Clone + Send + Sync + 'static {
    fn parse(text: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

/// A setting's type: one value, or a list of them (a repeatable flag, a TOML array).
pub trait Setting: Sized {
    type Elem: Value;
    fn from_toml(value: toml::Value) -> Result<Self, String>;
    fn show(&self) -> String;
}

impl<T: Value> Setting for T {
    type Elem = T;
    fn from_toml(value: toml::Value) -> Result<T, String> {
        T::parse(&scalar(value)?)
    }
    fn show(&self) -> String {
        Value::show(self)
    }
}

impl<T: Value> Setting for Vec<T> {
    type Elem = T;
    fn from_toml(value: toml::Value) -> Result<Vec<T>, String> {
        match value {
            toml::Value::Array(items) => items.into_iter().map(|v| T::parse(&scalar(v)?)).collect(),
            other => Ok(vec![T::parse(&scalar(other)?)?]),
        }
    }
    fn show(&self) -> String {
        if self.is_empty() {
            return "none".to_string();
        }
        self.iter().map(Value::show).collect::<Vec<_>>().join(", ")
    }
}

/// The text a flag would carry for a TOML scalar.
fn scalar(value: toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "expected a single value, found {}",
            other.type_str()
        )),
    }
}

/// The flag's parser: clap parses each value of a list on its own.
pub fn parser<S: Setting>() -> fn(&str) -> Result<S::Elem, String> {
    <S::Elem as Value>::parse
}

/// The file's reader; toml puts the line and column of the value in front of the message.
pub fn from_toml<'de, D: Deserializer<'de>, S: Setting>(d: D) -> Result<Option<S>, D::Error> {
    let value = toml::Value::deserialize(d)?;
    S::from_toml(value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl Value for Duration {
    fn parse(text: &str) -> Result<Duration, String> {
        crate::clock::parse_duration(text)
    }
    fn show(&self) -> String {
        crate::model::shown(*self)
    }
}

macro_rules! whole_number {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn parse(text: &str) -> Result<$t, String> {
                text.trim().parse().map_err(|_| format!("{text:?} is not a whole number of 0 or more"))
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

whole_number!(u64, usize);

impl Value for bool {
    fn parse(text: &str) -> Result<bool, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{text:?}: write true or false")),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl Value for String {
    fn parse(text: &str) -> Result<String, String> {
        Ok(text.to_string())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl Value for PathBuf {
    fn parse(text: &str) -> Result<PathBuf, String> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

/// A value one of clap's value enums names.
macro_rules! by_value_enum {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn parse(text: &str) -> Result<$t, String> {
                <$t as clap::ValueEnum>::from_str(text, true).map_err(|_| {
                    let names: Vec<String> = <$t as clap::ValueEnum>::value_variants()
                        .iter()
                        .filter_map(|v| clap::ValueEnum::to_possible_value(v).map(|p| p.get_name().to_string()))
                        .collect();
                    format!("{text:?}: give one of {}", names.join(", "))
                })
            }
            fn show(&self) -> String {
                clap::ValueEnum::to_possible_value(self)
                    .map(|p| p.get_name().to_string())
                    .unwrap_or_default()
            }
        }
    )*};
}

by_value_enum!(BrowserKind, Block, DialogAnswer, ContextLife);

/// How many browser users at once: a number from 1 to [`defaults::MAX_USERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Users(pub usize);

impl Value for Users {
    fn parse(text: &str) -> Result<Users, String> {
        match text.trim().parse::<usize>() {
            Ok(n) if (1..=defaults::MAX_USERS).contains(&n) => Ok(Users(n)),
            _ => Err(format!(
                "{text:?}: give a number of users from 1 to {}",
                defaults::MAX_USERS
            )),
        }
    }
    fn show(&self) -> String {
        self.0.to_string()
    }
}

/// How many users loop: a count, or as many as the machine can run (`auto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    Count(usize),
    Auto,
}

impl Value for Workers {
    fn parse(text: &str) -> Result<Workers, String> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(Workers::Auto);
        }
        Users::parse(text)
            .map(|Users(n)| Workers::Count(n))
            .map_err(|e| format!("{e}, or `auto`"))
    }
    fn show(&self) -> String {
        match self {
            Workers::Count(n) => n.to_string(),
            Workers::Auto => "auto".to_string(),
        }
    }
}

/// New users per second: `5/s`, `30/m`, `100/h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

impl Value for Rate {
    fn parse(text: &str) -> Result<Rate, String> {
        crate::clock::parse_rate(text).map(Rate)
    }
    fn show(&self) -> String {
        format!("{}/s", self.0)
    }
}

/// A share of loads, from 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent(pub f64);

impl Value for Percent {
    fn parse(text: &str) -> Result<Percent, String> {
        match text.trim().trim_end_matches('%').parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(Percent(p)),
            _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
        }
    }
    fn show(&self) -> String {
        format!("{}%", self.0)
    }
}

/// How a user answers the page's dialogs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DialogAnswer {
    Dismiss,
    Accept,
}

/// Resource kinds `--block` can keep the browser from fetching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Block {
    Images,
    Fonts,
    Media,
}
