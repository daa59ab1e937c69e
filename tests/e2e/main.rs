//! The integration tests, one binary (one link of the library): the real `rollprobe` binary
//! against real local sites and the embedded rollout simulator, read back the way a user would.
//! Everything the test modules share lives in `support`.

mod support;

mod baseline;
mod cdn;
mod content;
mod contexts;
mod deploy;
mod destinations;
mod evidence;
mod frameworks;
mod interrupt;
mod load_path;
mod modes;
mod pods;
mod reports;
mod resolve;
mod retention;
mod returning;
mod run;
mod scenarios;
mod simulator;
mod site;
mod staying_power;
mod streams;
mod tabs;
mod tls;
