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
