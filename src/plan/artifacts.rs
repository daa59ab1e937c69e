//! Where failed loads' evidence goes (`--artifacts DIR`, `--max-artifacts N`): the directory
//! given; else beside the first report written to a regular file, as `<report name>-artifacts/`
//! (so a CI job that keeps its reports' directory keeps the evidence); else
//! `./rollprobe-artifacts/`. Made absolute once, so every report names the same files.

use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::defaults;
use crate::error::UsageError;
use crate::probe::EvidencePlan;

pub(super) fn evidence(
    given: &config::Evidence,
    first_report_file: Option<&Path>,
) -> Result<Option<EvidencePlan>, UsageError> {
    let max = given.max_artifacts();
    if max == 0 {
        return Ok(None);
    }
    let dir = match (&given.artifacts, first_report_file) {
        (Some(dir), _) => dir.clone(),
        (None, Some(report)) => beside(report),
        (None, None) => PathBuf::from(defaults::ARTIFACTS_DIR),
    };
    if dir.is_file() {
        return Err(UsageError(format!(
            "{} {}: a file is there; give a directory",
            Config::name("artifacts"),
            dir.display()
        )));
    }
    let dir = std::path::absolute(&dir).map_err(|e| {
        UsageError(format!(
            "{} {}: {e}",
            Config::name("artifacts"),
            dir.display()
        ))
    })?;
    Ok(Some(EvidencePlan {
        dir,
        max,
        embed_max: defaults::MAX_EMBEDDED_SCREENSHOT,
    }))
}

/// `reports/run.xml` → `reports/run-artifacts`.
fn beside(report: &Path) -> PathBuf {
    let stem = report
        .file_stem()
        .map_or("rollprobe".into(), |s| s.to_string_lossy().into_owned());
    report.with_file_name(format!("{stem}-artifacts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_goes_beside_the_first_report_file() {
        assert_eq!(
            beside(Path::new("out/report.json")),
            Path::new("out/report-artifacts")
        );
        assert_eq!(beside(Path::new("run.xml")), Path::new("run-artifacts"));
    }
}
