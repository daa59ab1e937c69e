//! The exporters: each renders the report model (crate::model::Report) in one format and reads
//! nothing else. The file formats (json, junit, html) sit behind one small interface; `text` is
//! the summary printed at the end. `outputs` is the registry (which report goes where), `write`
//! puts files where users point.

pub mod causes;
pub mod evidence;
pub mod html;
pub mod json;
pub mod junit;
mod outputs;
pub mod text;
pub mod write;

pub use outputs::{Destinations, Outputs};

use crate::model::Report;

/// One output format.
pub trait Exporter {
    fn render(&self, report: &Report) -> anyhow::Result<Vec<u8>>;
}
