//! `--ignore` patterns: URLs the user does not want judged (analytics, beacons, third parties).

use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

/// A pattern with a glob character (`*`, `?`, `[`) is a glob over the whole URL; any other
/// pattern matches as a plain substring, which is what people type for a host or a path.
#[derive(Clone, Debug, Default)]
pub struct UrlFilter {
    substrings: Vec<String>,
    globs: Option<GlobSet>,
}

impl UrlFilter {
    pub fn new(patterns: &[String]) -> Result<UrlFilter> {
        let mut substrings = Vec::new();
        let mut globs = GlobSetBuilder::new();
        let mut any_glob = false;
        for pattern in patterns {
            if pattern.contains(['*', '?', '[']) {
                globs.add(
                    Glob::new(pattern)
                        .with_context(|| format!("bad --ignore pattern {pattern:?}"))?,
                );
                any_glob = true;
            } else {
                substrings.push(pattern.clone());
            }
        }
        let globs = if any_glob { Some(globs.build()?) } else { None };
        Ok(UrlFilter { substrings, globs })
    }

    pub fn matches(&self, url: &str) -> bool {
        self.substrings.iter().any(|s| url.contains(s.as_str()))
            || self.globs.as_ref().is_some_and(|g| g.is_match(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_and_glob_patterns() {
        let f = UrlFilter::new(&["analytics.example".into(), "*/beacon?*".into()]).unwrap();
        assert!(f.matches("https://analytics.example.com/a.js"));
        assert!(f.matches("http://127.0.0.1:8080/beacon?x=1"));
        assert!(!f.matches("http://127.0.0.1:8080/assets/index-1a2b.js"));
    }
}
