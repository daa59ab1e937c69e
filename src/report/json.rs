//! The JSON report: the results model as is (see docs/report-schema.md).

use std::path::Path;

use anyhow::{Context, Result};

use super::Exporter;
use crate::model::Report;

pub struct Json;

impl Exporter for Json {
    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(report)?;
        out.push(b'\n');
        Ok(out)
    }
}

pub fn read(path: &Path) -> Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a rollprobe JSON report", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::fixtures;

    #[test]
    fn a_written_report_reads_back_as_the_same_report() {
        let report = fixtures::report("no-drain");
        let bytes = Json.render(&report).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, &bytes).unwrap();
        let again = read(&path).unwrap();
        assert_eq!(
            Json.render(&again).unwrap(),
            bytes,
            "floats and all, byte for byte"
        );
        std::fs::write(&path, "{\"not\": \"a report\"}").unwrap();
        let e = format!("{:#}", read(&path).unwrap_err());
        assert!(e.contains("is not a rollprobe JSON report"), "{e}");
    }
}
