//! The exporter registry: where the reports go (`--json`, `--junit`, `--html`, checked before any
//! work), one exporter per format, and the text summary printed at the end. `run`, `report`,
//! `merge` and the demo all write through it.

use crate::error::UsageError;
use crate::model::EXIT_USAGE;

/// Where the reports go; `run`, `report` and `merge` all write the same three.
#[derive(clap::Args, Debug, Default)]
pub struct Outputs {
    /// Write the JSON report here (`-`: standard output, and the summary goes to stderr)
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,

    /// Write a JUnit XML report here (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write a self-contained HTML report here (`-`: standard output; timeline, failures,
    /// versions; no network needed)
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

impl Outputs {
    /// Checks every report path before any work, so a typo costs no probing run.
    pub fn check(&self) -> Result<Destinations, UsageError> {
        use super::write::Destination;
        let mut list = Vec::new();
        for (path, format) in [
            (&self.json, Format::Json),
            (&self.junit, Format::Junit),
            (&self.html, Format::Html),
        ] {
            if let Some(path) = path {
                list.push((format, path.clone(), Destination::check(path)?));
            }
        }
        if list.iter().filter(|(_, _, d)| d.is_stdout()).count() > 1 {
            return Err(UsageError(
                "only one report can go to standard output (`-` or /dev/stdout)".into(),
            ));
        }
        Ok(Destinations { list })
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Json,
    Junit,
    Html,
}

/// The reports' checked destinations.
pub struct Destinations {
    list: Vec<(Format, std::path::PathBuf, super::write::Destination)>,
}

impl Destinations {
    /// Writes every report, prints the text summary (to stderr when a report takes stdout, so a
    /// pipe gets the report alone) and returns the exit code: `verdict_code`, or 2 when a report
    /// could not be written, unless the site failed, which wins.
    pub fn finish(&self, report: &crate::model::Report, verdict_code: i32) -> i32 {
        let errors = self.write(report);
        for e in &errors {
            eprintln!("rollprobe: error: {e}");
        }
        let failed = !errors.is_empty();
        let summary = super::text::render(report);
        if self.to_stdout() {
            eprint!("{summary}");
        } else {
            print!("{summary}");
        }
        match (failed, verdict_code) {
            (true, code) if code != crate::model::EXIT_SITE_FAILED => EXIT_USAGE,
            (_, code) => code,
        }
    }

    /// Writes every report; one that cannot be written does not cost the others. Gives what
    /// went wrong, naming the path.
    pub fn write(&self, report: &crate::model::Report) -> Vec<String> {
        use super::{Exporter, html::Html, json::Json, junit::Junit};
        let mut errors = Vec::new();
        for (format, path, destination) in &self.list {
            let exporter: Box<dyn Exporter> = match format {
                Format::Json => Box::new(Json),
                // Attachments are relative to the JUnit file: GitLab resolves them from the
                // project directory, where its example writes the file (ci/gitlab-ci.yml).
                Format::Junit => Box::new(Junit {
                    dir: directory(path, destination),
                }),
                Format::Html => Box::new(Html {
                    dir: directory(path, destination),
                }),
            };
            if let Err(e) = exporter
                .render(report)
                .and_then(|bytes| destination.write(&bytes))
            {
                errors.push(format!("report {}: {e:#}", path.display()));
            }
        }
        errors
    }

    /// The first report written to a regular file, as given: failed loads' evidence goes
    /// beside it.
    pub fn first_file(&self) -> Option<std::path::PathBuf> {
        self.list
            .iter()
            .find(|(_, _, d)| d.is_file())
            .map(|(_, path, _)| path.clone())
    }

    /// Whether standard output carries a report, so nothing else may be printed there.
    fn to_stdout(&self) -> bool {
        self.list.iter().any(|(_, _, d)| d.is_stdout())
    }
}

/// The directory a report file goes to (absolute), which the evidence's paths in it are
/// relative to; None for standard output, a pipe or a device.
fn directory(
    path: &std::path::Path,
    destination: &super::write::Destination,
) -> Option<std::path::PathBuf> {
    destination
        .is_file()
        .then(|| std::path::absolute(path).ok())
        .flatten()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()))
}
