//! Starts Chromium with `--remote-debugging-pipe`: the browser reads the protocol on its fd 3 and
//! writes it on fd 4, so no port is opened and nothing has to be read from its output.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};

use super::Connection;

/// How many of the browser's last stderr lines are kept, to say why it would not start.
const STDERR_KEPT: usize = 20;

pub struct Launched {
    pub child: Child,
    pub conn: Arc<Connection>,
    /// The browser's last lines on stderr.
    pub stderr: Arc<Mutex<VecDeque<String>>>,
}

/// Spawns `executable` with `args` (full `--name[=value]` arguments) and the debugging pipe.
pub fn launch(executable: &Path, args: &[String]) -> std::io::Result<Launched> {
    let (browser_reads, we_write) = std::io::pipe()?;
    let (we_read, browser_writes) = std::io::pipe()?;
    let (fd_in, fd_out) = (browser_reads.as_raw_fd(), browser_writes.as_raw_fd());
    let mut cmd = Command::new(executable);
    cmd.args(args)
        .arg("--remote-debugging-pipe")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2, close). Each end
    // is first copied above 4, so placing one on 3 cannot overwrite the other; dup2 leaves the
    // copies on 3 and 4 open across exec.
    unsafe {
        cmd.pre_exec(move || {
            let a = libc::fcntl(fd_in, libc::F_DUPFD, 10);
            let b = libc::fcntl(fd_out, libc::F_DUPFD, 10);
            if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(a);
            libc::close(b);
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    // The browser's ends live in the browser only: its exit then closes the pipe.
    drop((browser_reads, browser_writes));
    let to_browser = pipe::Sender::from_owned_fd(OwnedFd::from(we_write))?;
    let from_browser = pipe::Receiver::from_owned_fd(OwnedFd::from(we_read))?;
    let stderr = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(err) = child.stderr.take() {
        let kept = stderr.clone();
        // Read to the end, or a chatty browser blocks on a full pipe.
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut kept = kept.lock().expect("stderr lock");
                if kept.len() == STDERR_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
    }
    Ok(Launched {
        child,
        conn: Arc::new(Connection::start(to_browser, from_browser)),
        stderr,
    })
}
