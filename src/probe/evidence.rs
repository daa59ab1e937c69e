//! Evidence of failed loads (`--artifacts`, `--max-artifacts`): a PNG screenshot of the page as
//! the user saw it when the load ended, and a HAR file of the load's requests, for the first
//! failed loads of each failure class and of each failing URL. Whether a load failed is the
//! judge's call ([`crate::judge::classify::judge`], a pure function called here, before the
//! page is gone); a load that did not fail costs nothing, and the directory is made only for
//! the first file.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine;

use super::entry::Wire;
use super::har::{self, Secrets};
use super::{LoadSettings, cdp};
use crate::cdp::Page;
use crate::judge::classify::{Rules, judge};
use crate::model::{FailureClass, LoadArtifacts, Observation, Outcome};

/// Where evidence goes and how much of it, as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidencePlan {
    /// Absolute.
    pub dir: PathBuf,
    /// Failed loads whose evidence is saved, at most.
    pub max: usize,
    /// The largest screenshot embedded in the report.
    pub embed_max: usize,
}

/// The evidence of a run as it is taken: shared by every worker.
#[derive(Debug)]
pub struct Evidence {
    dir: PathBuf,
    max: usize,
    embed_max: usize,
    rules: Rules,
    taken: Mutex<Taken>,
}

#[derive(Debug, Default)]
struct Taken {
    loads: usize,
    classes: HashSet<FailureClass>,
    urls: HashSet<String>,
}

impl Evidence {
    /// Judged by `rules`, the run's. The evidence an earlier run left in the directory goes
    /// first, so no old screenshot sits beside a new report.
    pub fn new(plan: EvidencePlan, rules: Rules) -> Evidence {
        clear_earlier(&plan.dir);
        Evidence {
            dir: plan.dir,
            max: plan.max,
            embed_max: plan.embed_max,
            rules,
            taken: Mutex::default(),
        }
    }

    /// Whether this load is evidence worth saving: it failed (as the judge says) with a class
    /// or on a URL no saved load has, and the budget is not spent. Claims its place.
    fn claim(&self, obs: &Observation) -> bool {
        // Once the budget is spent, a load costs not even its judging here.
        if self.taken.lock().expect("evidence lock").loads >= self.max {
            return false;
        }
        let judgement = judge(obs, &self.rules);
        if judgement.outcome != Outcome::Failed {
            return false;
        }
        let counted: Vec<_> = judgement
            .failures
            .iter()
            .filter(|f| self.rules.counts(f.class))
            .collect();
        let mut taken = self.taken.lock().expect("evidence lock");
        let new = counted
            .iter()
            .any(|f| !taken.classes.contains(&f.class) || !taken.urls.contains(&f.url));
        if !new || taken.loads >= self.max {
            return false;
        }
        taken.loads += 1;
        for f in counted {
            taken.classes.insert(f.class);
            taken.urls.insert(f.url.clone());
        }
        true
    }

    /// Saves the evidence of `obs` when [`Self::claim`] wants it, into `obs.artifacts`.
    pub(super) async fn collect(
        &self,
        page: &Page,
        settings: &LoadSettings,
        wires: &[Wire],
        obs: &mut Observation,
    ) {
        if !self.claim(obs) {
            return;
        }
        let mut saved = LoadArtifacts::default();
        let mut errors = Vec::new();
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            errors.push(format!("{}: {e}", self.dir.display()));
        }
        // Load ids are plain numbers: no `[`, `]` or `|`, which GitLab's attachments cannot take.
        let stem = format!("load-{}-{}", obs.id, obs.phase);
        match cdp(settings.cdp_timeout, "screenshot", page.screenshot()).await {
            Ok(png) => {
                let path = self.dir.join(format!("{stem}.png"));
                match std::fs::write(&path, &png) {
                    Ok(()) => saved.screenshot = Some(path.display().to_string()),
                    Err(e) => errors.push(format!("{}: {e}", path.display())),
                }
                saved.screenshot_base64 = (png.len() <= self.embed_max)
                    .then(|| base64::engine::general_purpose::STANDARD.encode(&png));
            }
            Err(e) => errors.push(e),
        }
        let secrets = Secrets {
            headers: &settings.headers,
            cookies: &settings.cookies,
        };
        let har = har::build(obs, wires, &secrets);
        let path = self.dir.join(format!("{stem}.har"));
        match std::fs::write(&path, har.to_string()) {
            Ok(()) => saved.har = Some(path.display().to_string()),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
        saved.error = (!errors.is_empty()).then(|| errors.join("; "));
        obs.artifacts = Some(saved);
    }
}

/// Removes the files an earlier run saved here (`load-7-rollout.png`, `load-7-rollout.har`),
/// and nothing else: the directory may be the user's.
fn clear_earlier(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if is_ours(&name.to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `load-<id>-<phase>.png` or `.har`, as [`Evidence::collect`] names them.
fn is_ours(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".png")
        .or_else(|| name.strip_suffix(".har"))
    else {
        return false;
    };
    let Some((id, phase)) = stem.strip_prefix("load-").and_then(|r| r.split_once('-')) else {
        return false;
    };
    !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && ["run", "baseline", "rollout", "settle"].contains(&phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_runs_evidence_goes_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "load-3-rollout.png",
            "load-3-rollout.har",
            "load-12-run.png",
            "notes.txt",
            "load-x-run.png",
            "load-3-rollout.png.bak",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        clear_earlier(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["load-3-rollout.png.bak", "load-x-run.png", "notes.txt"]
        );
    }
}
