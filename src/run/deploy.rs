//! Wrapping a deployment: probe a baseline, run the deploy command while probing (the rollout
//! phase), keep probing while things settle, then end the run. The command's output passes
//! through, prefixed, or goes to a log file; its exit status is recorded.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

use super::Stop;
use super::progress::Console;
use crate::clock::unix_ms;
use crate::model::{DeployRecord, Phase};

/// How long a deploy command gets to exit after we pass it SIGTERM.
const TERM_GRACE: Duration = Duration::from_secs(10);

pub struct DeployPlan {
    pub deployment: Deployment,
    pub baseline: Duration,
    pub settle: Duration,
}

/// What performs the rollout.
pub enum Deployment {
    /// The user's deploy command; output to the terminal, or to `log` when set.
    Command {
        argv: Vec<String>,
        log: Option<PathBuf>,
    },
    /// A rollout driven in-process (the demo's simulator), described for the report.
    InProcess {
        description: String,
        rollout: futures::future::BoxFuture<'static, ()>,
    },
}

/// Drives the phases. Returns the command's record, or None when the run was interrupted before
/// the command started.
pub async fn drive(
    plan: DeployPlan,
    ready: tokio::sync::oneshot::Receiver<()>,
    phase: watch::Sender<Phase>,
    stop: watch::Sender<Stop>,
    mut signal: watch::Receiver<bool>,
    console: Console,
) -> Option<DeployRecord> {
    let started = tokio::select! {
        ready = ready => ready.is_ok(),
        _ = signal.wait_for(|s| *s) => false,
    };
    if !started {
        stop.send_replace(Stop::Interrupt);
        return None;
    }
    if interrupted_during(plan.baseline, &mut signal).await {
        stop.send_replace(Stop::Interrupt);
        return None;
    }

    phase.send_replace(Phase::Rollout);
    let started = SystemTime::now();
    let (command, log, exit_code) = match plan.deployment {
        Deployment::Command { argv, log } => {
            let exit_code =
                match run_command(&argv, log.as_deref(), &mut signal, &stop, &console).await {
                    Ok(code) => code,
                    Err(e) => {
                        console.line(&format!("[deploy] could not run the deploy command: {e:#}"));
                        None
                    }
                };
            (argv, log.map(|p| p.display().to_string()), exit_code)
        }
        Deployment::InProcess {
            description,
            rollout,
        } => {
            tokio::select! {
                _ = rollout => {}
                _ = signal.wait_for(|s| *s) => { stop.send_replace(Stop::Interrupt); }
            }
            (vec![description], None, Some(0))
        }
    };
    let record = DeployRecord {
        command,
        exit_code,
        started_at_ms: unix_ms(started),
        ended_at_ms: unix_ms(SystemTime::now()),
        log,
    };
    let how = exit_code.map_or("killed".to_string(), |c| format!("exit {c}"));
    if *stop.borrow() == Stop::Interrupt {
        console.line(&format!("[deploy] finished: {how}"));
    } else {
        console.line(&format!(
            "[deploy] finished: {how}; settling for {:?}",
            plan.settle
        ));
        phase.send_replace(Phase::Settle);
        let cut_short = interrupted_during(plan.settle, &mut signal).await;
        stop.send_replace(if cut_short {
            Stop::Interrupt
        } else {
            Stop::Finish
        });
    }
    Some(record)
}

async fn interrupted_during(period: Duration, signal: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(period) => false,
        _ = signal.wait_for(|s| *s) => true,
    }
}

/// Runs the command to its end; on a stop signal passes SIGTERM on and waits a little.
/// Returns its exit code (None when killed by a signal).
async fn run_command(
    argv: &[String],
    log: Option<&Path>,
    signal: &mut watch::Receiver<bool>,
    stop: &watch::Sender<Stop>,
    console: &Console,
) -> anyhow::Result<Option<i32>> {
    // Its own process group: a stop reaches the whole deploy (kubectl under sh under make),
    // and a terminal's Ctrl-C does not hit it before we decide to pass it on.
    let mut child = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    console.line(&format!("[deploy] started: {}", argv.join(" ")));

    let (tx, rx) = mpsc::unbounded_channel();
    let stdout = child
        .stdout
        .take()
        .map(|s| tokio::spawn(forward(s, tx.clone())));
    let stderr = child.stderr.take().map(|s| tokio::spawn(forward(s, tx)));
    let sink = tokio::spawn(sink(rx, log.map(Path::to_path_buf), console.clone()));

    let status = tokio::select! {
        status = child.wait() => status?,
        _ = signal.wait_for(|s| *s) => {
            // Probing stops now; the deploy gets a grace period to wind down on its own.
            stop.send_replace(Stop::Interrupt);
            let group = child.id().map(|pid| -(pid as i32));
            signal_group(group, libc::SIGTERM);
            match tokio::time::timeout(TERM_GRACE, child.wait()).await {
                Ok(status) => status?,
                Err(_) => {
                    signal_group(group, libc::SIGKILL);
                    child.wait().await?
                }
            }
        }
    };
    // A grandchild that outlives the deploy may hold its output open: do not wait for it.
    for task in [stdout, stderr].into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .is_err()
        {
            console.line("[deploy] (output of processes left behind by the deploy is not shown)");
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink).await;
    Ok(status.code())
}

fn signal_group(group: Option<i32>, sig: i32) {
    if let Some(group) = group {
        // SAFETY: kill(2) on the process group we created for our own child.
        unsafe { libc::kill(group, sig) };
    }
}

async fn forward(stream: impl AsyncRead + Unpin, tx: mpsc::UnboundedSender<String>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if tx.send(line).is_err() {
            return;
        }
    }
}

/// One writer for both streams, so lines never interleave mid-line.
async fn sink(mut rx: mpsc::UnboundedReceiver<String>, log: Option<PathBuf>, console: Console) {
    let mut file = match &log {
        Some(path) => match tokio::fs::File::create(path).await {
            Ok(f) => Some(f),
            Err(e) => {
                console.line(&format!(
                    "[deploy] cannot write {}: {e}; showing output here",
                    path.display()
                ));
                None
            }
        },
        None => None,
    };
    while let Some(line) = rx.recv().await {
        match file.as_mut() {
            Some(f) => {
                let _ = f.write_all(format!("{line}\n").as_bytes()).await;
            }
            None => console.line(&format!("[deploy] {line}")),
        }
    }
    if let Some(mut f) = file {
        let _ = f.flush().await;
    }
}
