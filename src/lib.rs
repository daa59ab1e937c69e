//! rollprobe: tells, with evidence, whether a deployment of a single-page web app was
//! zero-downtime for the people using it.
//!
//! Data flows one way: the [`plan`] (the [`config`] of [`cli`] flags and a [`scenario`] file,
//! [`defaults`] for the rest, [`start`] URLs checked) → a [`run`] (its workers, one [`probe`]
//! per page load, in a [`browser`]) → observations ([`model`]) → the [`judge`] (failures,
//! verdicts, the report model) → exporters ([`report`]). The judge's rules are pure functions that the probe and the
//! exporters may ask (what the page's own requests are, which classes count), never copy.

pub mod browser;
pub mod cdp;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cpu;
pub mod defaults;
pub mod demo;
pub mod error;
pub mod filter;
pub mod judge;
pub mod model;
pub mod plan;
pub mod pod_events;
pub mod probe;
pub mod report;
pub mod retention;
pub mod run;
pub mod scenario;
pub mod signals;
pub mod sim;
pub mod start;
