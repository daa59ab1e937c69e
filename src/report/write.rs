//! Writes reports where the user points, safely. A regular file (or one that does not exist
//! yet) is written atomically in its real directory, so readers (CI uploaders, a later
//! `rollprobe report`) never see half a file, even when the run is killed while writing; a
//! symlink is followed to its target first. A device, FIFO or socket is written through, never
//! renamed over: replacing `/dev/stdout` or a FIFO with a file breaks whoever reads it.

use std::fs::Metadata;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UsageError;

/// Where one report goes, as checked before the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `-`, or a path that is the file standard output already is (`/dev/stdout`, the file
    /// stdout is redirected to).
    Stdout,
    /// A regular file, existing or to be created, at its real path (symlinks followed).
    File(PathBuf),
    /// A character device, FIFO or socket: opened and written through.
    Stream(PathBuf),
}

impl Destination {
    /// A regular file (existing or not), written atomically.
    pub fn is_file(&self) -> bool {
        matches!(self, Destination::File(_))
    }

    /// Where `path` leads, checked without opening it: opening a FIFO to test it would hand its
    /// reader an early end of file. A typo costs seconds this way, not a whole probing run.
    pub fn check(path: &Path) -> Result<Destination, UsageError> {
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        let shown = path.display();
        match std::fs::metadata(path) {
            Ok(m) if is_stdout(&m) => Ok(Destination::Stdout),
            Ok(m) if m.is_dir() => Err(UsageError(format!(
                "report path {shown} is a directory; give a file name"
            ))),
            Ok(m) if m.is_file() => {
                let real = std::fs::canonicalize(path)
                    .map_err(|e| UsageError(format!("report path {shown}: {e}")))?;
                creatable_in(&real)?;
                Ok(Destination::File(real))
            }
            Ok(_) => writable(path).map(|()| Destination::Stream(path.to_path_buf())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let real = link_target(path)?;
                creatable_in(&real)?;
                Ok(Destination::File(real))
            }
            Err(e) => Err(UsageError(format!("report path {shown}: {e}"))),
        }
    }

    pub fn is_stdout(&self) -> bool {
        *self == Destination::Stdout
    }

    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Destination::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)
                    .and_then(|()| out.flush())
                    .context("writing to standard output")
            }
            Destination::File(path) => atomically(path, |out| Ok(out.write_all(bytes)?)),
            Destination::Stream(path) => std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
                .with_context(|| format!("writing {}", path.display())),
        }
    }
}

/// The same file as standard output: same device and inode.
fn is_stdout(m: &Metadata) -> bool {
    // SAFETY: fstat on fd 1 fills the zeroed struct or fails; nothing else is touched.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(1, &mut st) } != 0 {
        return false;
    }
    st.st_dev == m.dev() && st.st_ino == m.ino()
}

/// Where a path that does not exist yet will be created: through a dangling symlink, at the
/// file it names.
fn link_target(path: &Path) -> Result<PathBuf, UsageError> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&at) {
            Ok(target) => {
                let dir = at.parent().unwrap_or(Path::new("."));
                at = dir.join(target);
            }
            Err(_) => return Ok(at),
        }
    }
    Err(UsageError(format!(
        "report path {}: too many levels of symbolic links",
        path.display()
    )))
}

/// The file's directory exists or can be made, and a file can be created in it.
fn creatable_in(file: &Path) -> Result<(), UsageError> {
    let dir = directory_of(file);
    let cannot = |e: std::io::Error| {
        UsageError(format!(
            "report path {}: cannot write in {}: {e}",
            file.display(),
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(cannot)?;
    tempfile::Builder::new()
        .prefix(".rollprobe-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(cannot)
}

/// A device, FIFO or socket the user may write to.
fn writable(path: &Path) -> Result<(), UsageError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| UsageError(format!("report path {}: not a path", path.display())))?;
    // SAFETY: access(2) reads the NUL-terminated path and nothing else.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(UsageError(format!(
            "report path {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        )))
    }
}

fn directory_of(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `path` through a temporary file in its directory, renamed over it when complete.
pub fn atomically(path: &Path, render: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = directory_of(path);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".rollprobe-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        render(&mut out)?;
        out.flush()?;
    }
    // Temporary files are private; a report is for sharing (CI artifacts, web servers).
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_path_goes_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        std::fs::write(&file, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let real = std::fs::canonicalize(&file).unwrap();
        assert_eq!(
            Destination::check(&link).unwrap(),
            Destination::File(real.clone())
        );
        Destination::check(&link).unwrap().write(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());

        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("sub/later.json"), &dangling).unwrap();
        assert_eq!(
            Destination::check(&dangling).unwrap(),
            Destination::File(dir.path().join("sub/later.json"))
        );

        assert_eq!(
            Destination::check(Path::new("-")).unwrap(),
            Destination::Stdout
        );
        let err = Destination::check(dir.path()).unwrap_err();
        assert!(err.0.contains("is a directory"), "{err}");
    }
}
