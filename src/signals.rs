//! Ctrl-C and SIGTERM become a stop request, so a run always ends by writing its reports.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// A receiver that turns true on the first SIGINT or SIGTERM. Each further signal is sent
/// again (still true), so what runs after a stop that a signal asked for (the retention check
/// of an `--until-signal` run) can be cut short by the next one (`changed()`).
pub fn stop_on_signals() -> std::io::Result<watch::Receiver<bool>> {
    let (tx, rx) = watch::channel(false);
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        eprintln!("rollprobe: stopping: finishing in-flight loads, then writing reports");
        let _ = tx.send(true);
        // Keep the handlers installed so a second signal does not kill us mid-write.
        loop {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
            let _ = tx.send(true);
        }
    });
    Ok(rx)
}
