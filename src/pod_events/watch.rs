//! Where the pods' lives come from: a file read once probing is over, or a `kubectl get pods
//! --watch` rollprobe runs itself from the start of probing to its end (`--kubectl`).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::error::UsageError;
use crate::model::PodEvents;

#[derive(Clone, Debug, PartialEq)]
pub enum PodSource {
    File(PathBuf),
    Kubectl {
        /// The kubectl found on the PATH.
        kubectl: PathBuf,
        namespace: String,
        selector: String,
    },
}

impl PodSource {
    /// `--kubectl NAMESPACE:SELECTOR`, with kubectl on the PATH.
    pub fn kubectl(spec: &str) -> Result<PodSource> {
        let Some((namespace, selector)) = spec
            .split_once(':')
            .filter(|(n, s)| !n.is_empty() && !s.is_empty())
        else {
            return Err(UsageError(format!(
                "--kubectl {spec:?}: give NAMESPACE:SELECTOR, e.g. shop:app=web"
            ))
            .into());
        };
        let kubectl = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                UsageError("--kubectl needs kubectl on the PATH; or give --pod-events FILE with what `kubectl get pods --watch -o json` wrote".to_string())
            })?;
        Ok(PodSource::Kubectl {
            kubectl,
            namespace: namespace.to_string(),
            selector: selector.to_string(),
        })
    }
}

/// A source being watched: for kubectl, its process writing into a file of our own.
pub struct Watch {
    source: PodSource,
    running: Option<Running>,
    error: Option<String>,
}

impl Watch {
    pub fn start(source: &PodSource) -> Watch {
        let mut watch = Watch {
            source: source.clone(),
            running: None,
            error: None,
        };
        if let PodSource::Kubectl {
            kubectl,
            namespace,
            selector,
        } = source
        {
            match spawn(kubectl, namespace, selector) {
                Ok(running) => watch.running = Some(running),
                Err(e) => watch.error = Some(format!("{e:#}")),
            }
        }
        watch
    }

    /// What the source told: the file read, or the watch stopped and its output read.
    pub async fn finish(self) -> PodEvents {
        let path = match (&self.source, self.running) {
            (PodSource::File(path), _) => return super::read(path),
            (PodSource::Kubectl { .. }, Some(mut running)) => {
                // A watch that ended by itself failed (a wrong context, no permission).
                let ended = running.child.try_wait().ok().flatten();
                // Killing a watch loses nothing: every object was written as it came.
                let _ = running.child.kill().await;
                let mut events = super::read(running.out.path());
                let said = std::fs::read_to_string(running.err.path()).unwrap_or_default();
                let said = said
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or_default();
                if let Some(status) = ended.filter(|_| events.lives.is_empty()) {
                    events.error = Some(format!("kubectl exited ({status}): {said}"));
                }
                return PodEvents {
                    path: "kubectl get pods --watch".to_string(),
                    ..events
                };
            }
            (PodSource::Kubectl { .. }, None) => "kubectl get pods --watch",
        };
        PodEvents {
            path: path.to_string(),
            error: self.error,
            ..PodEvents::default()
        }
    }
}

/// The watch's process, what it writes, and what it says when it fails.
struct Running {
    child: tokio::process::Child,
    out: tempfile::NamedTempFile,
    err: tempfile::NamedTempFile,
}

fn spawn(kubectl: &Path, namespace: &str, selector: &str) -> Result<Running> {
    let file = || tempfile::NamedTempFile::new().context("creating the pod watch's files");
    let (out, err) = (file()?, file()?);
    let child = tokio::process::Command::new(kubectl)
        .args([
            "get",
            "pods",
            "--namespace",
            namespace,
            "--selector",
            selector,
        ])
        .args(["--watch", "--output", "json", "--output-watch-events"])
        .stdin(Stdio::null())
        .stdout(out.reopen().context("opening the pod watch's file")?)
        .stderr(err.reopen().context("opening the pod watch's file")?)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", kubectl.display()))?;
    Ok(Running { child, out, err })
}
