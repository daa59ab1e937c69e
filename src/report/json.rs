//! The JSON report: the results model as is (see docs/report-schema.md).

use std::path::Path;

use anyhow::{Context, Result};

use super::Report;

pub fn write(report: &Report, path: &Path) -> Result<()> {
    super::write::atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")?;
        Ok(())
    })
}

pub fn read(path: &Path) -> Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a rollprobe JSON report", path.display()))
}
