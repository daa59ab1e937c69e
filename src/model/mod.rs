//! The plain serde types every part of rollprobe shares: observations of page loads, the
//! failures judged from them, run facts, verdicts and the report. Depended on by all, depending
//! on nothing else in the crate.

mod baseline;
mod content;
mod load;
mod pods;
mod population;
mod report;
mod retention;
mod run;
mod verdict;
mod versions;

pub use baseline::*;
pub use content::*;
pub use load::*;
pub use pods::*;
pub use population::*;
pub use report::*;
pub use retention::*;
pub use run::*;
pub use verdict::*;
pub use versions::*;

/// How people read a duration: `500ms`, `30s`, `2m 30s`. The help text, messages and every
/// report write durations this way.
pub fn shown(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}
