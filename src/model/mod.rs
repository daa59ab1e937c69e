//! The plain serde types every part of rollprobe shares: observations of page loads, the
//! failures judged from them, run facts, verdicts and the report. Depended on by all, depending
//! on nothing else in the crate.

mod load;
mod report;
mod retention;
mod run;
mod tabs;
mod verdict;
mod versions;

pub use load::*;
pub use report::*;
pub use retention::*;
pub use run::*;
pub use tabs::*;
pub use verdict::*;
pub use versions::*;
