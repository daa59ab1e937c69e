//! One action of a user journey, as the probe takes it; the scenario file's `[[step]]` tables
//! are checked into these.

use std::fmt;
use std::time::Duration;

/// One action of the user journey, run after the start URL is idle.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Click {
        selector: String,
    },
    /// A path (`/settings`) or an absolute http(s) URL.
    Goto {
        path: String,
    },
    WaitFor {
        selector: String,
        timeout: Duration,
    },
    WaitIdle,
    /// Must evaluate truthy.
    Eval {
        expr: String,
    },
    Sleep {
        duration: Duration,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let human = |d: &Duration| humantime::format_duration(*d).to_string();
        match self {
            Step::Click { selector } => write!(f, "click `{selector}`"),
            Step::Goto { path } => write!(f, "goto {path}"),
            Step::WaitFor { selector, timeout } => {
                write!(f, "wait_for `{selector}` ({})", human(timeout))
            }
            Step::WaitIdle => f.write_str("wait_idle"),
            Step::Eval { expr } => write!(f, "eval `{expr}`"),
            Step::Sleep { duration } => write!(f, "sleep {}", human(duration)),
        }
    }
}
