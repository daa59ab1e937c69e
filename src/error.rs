//! Errors that decide the exit code on their own: a usage or configuration mistake is exit 2,
//! whatever layer notices it.

use std::fmt;

/// The user asked for something that cannot work (bad URL, missing Chromium, bad flag value).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
