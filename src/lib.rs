//! rollprobe: tells, with evidence, whether a deployment of a single-page web app was
//! zero-downtime for the people using it.
//!
//! Data flows one way: workers ([`runner`], [`probe`]) → observations → [`recorder`]
//! ([`classify`] judges each load) → [`report`] and [`verdict`].

pub mod browser;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod cpu;
pub mod deploy;
pub mod error;
pub mod filter;
pub mod model;
pub mod probe;
pub mod progress;
pub mod recorder;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod signals;
pub mod sim;
pub mod target;
pub mod verdict;
pub mod versions;
