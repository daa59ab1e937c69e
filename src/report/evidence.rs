//! Which saved evidence (a failed load's screenshot and HAR file, `--artifacts`) goes with what
//! a report shows: a phase, a failure class, a failing URL. One place for the JUnit and HTML
//! exporters; the paths are the report's, no file is read.

use std::path::{Component, Path, PathBuf};

use crate::model::{FailureClass, Load, LoadArtifacts, Phase, Report};

/// Failed loads with evidence, in the order they finished.
pub fn loads(report: &Report) -> impl Iterator<Item = (&Load, &LoadArtifacts)> {
    report
        .loads
        .iter()
        .filter_map(|l| l.artifacts.as_ref().map(|a| (l, a)))
}

/// The first evidence of a phase's failed loads, of one class or URL when given.
pub fn first<'a>(
    report: &'a Report,
    phase: Phase,
    class: Option<FailureClass>,
    url: Option<&str>,
) -> Option<(&'a Load, &'a LoadArtifacts)> {
    loads(report)
        .filter(|(l, _)| l.phase == phase)
        .filter(|(l, _)| class.is_none_or(|c| l.classes.contains(&c)))
        .find(|(l, _)| {
            url.is_none_or(|u| {
                report
                    .failures
                    .iter()
                    .any(|f| f.load_id == l.id && f.url == u)
            })
        })
}

/// `path` as seen from `base` (both absolute): `../run-artifacts/load-3-run.png`.
pub fn relative(path: &Path, base: &Path) -> PathBuf {
    let (path, base): (Vec<Component>, Vec<Component>) =
        (path.components().collect(), base.components().collect());
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for c in &path[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative;
    use std::path::Path;

    #[test]
    fn paths_relative_to_the_report() {
        let rel = |p, b| relative(Path::new(p), Path::new(b)).display().to_string();
        assert_eq!(rel("/r/run-artifacts/a.png", "/r"), "run-artifacts/a.png");
        assert_eq!(rel("/r/x/a.png", "/r/junit"), "../x/a.png");
        assert_eq!(rel("/a.png", "/r/junit"), "../../a.png");
    }
}
