//! The exporters: each renders the report model (crate::model::Report) in one format, behind
//! one small interface, and never reads anything else. `write` puts files where users point.

pub mod html;
pub mod json;
pub mod junit;
pub mod text;
pub mod write;

use crate::model::Report;

/// One output format.
pub trait Exporter {
    fn render(&self, report: &Report) -> anyhow::Result<Vec<u8>>;
}
