//! Dev mode's files (the generated JWT secret, the demo organization's id):
//! whoever can read the secret can sign an owner token, and whoever can
//! write either file can pick the organization dev mode hands a token for.
//! So they live in a directory only its owner may use (created 0700), are
//! created 0600 with `create_new` (which never follows a symlink or reuses a
//! file someone planted), are never read through a symlink, and are refused
//! when anyone else may read or write them.

use std::{
    fs, io,
    io::{Read, Write},
    path::{Path, PathBuf},
};

#[derive(Debug, thiserror::Error)]
pub enum DevFileError {
    #[error("cannot use {path}: {cause}")]
    Io { path: String, cause: io::Error },
    #[error(
        "{path} may be used by others (mode {mode:o}); dev mode keeps an owner's signing secret \
         there, so it must be private: `chmod 700 {path}` (or delete it to start over with \
         fresh demo data), or set JWT_SECRET"
    )]
    DirectoryNotPrivate { path: String, mode: u32 },
    #[error(
        "{path} may be read or written by others (mode {mode:o}): delete it (dev mode \
         makes a new one, mode 600) or `chmod 600 {path}`"
    )]
    FileNotPrivate { path: String, mode: u32 },
    #[error("{path} is a symbolic link or not a regular file; dev mode refuses it: delete it")]
    NotARegularFile { path: String },
}

/// A directory only the current user may use.
pub struct DevDir {
    dir: PathBuf,
}

impl DevDir {
    /// Creates the directory (0700) if it is missing; refuses one that
    /// others may use.
    pub fn open(dir: &Path) -> Result<DevDir, DevFileError> {
        let io_fail = |cause| DevFileError::Io {
            path: dir.display().to_string(),
            cause,
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io_fail)?;
        let meta = fs::metadata(dir).map_err(io_fail)?;
        if !meta.is_dir() {
            return Err(io_fail(io::Error::other("not a directory")));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(DevFileError::DirectoryNotPrivate {
                    path: dir.display().to_string(),
                    mode,
                });
            }
        }
        Ok(DevDir {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The file's text, `None` when it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<String>, DevFileError> {
        let path = self.path(name);
        let shown = path.display().to_string();
        let io_fail = |cause| DevFileError::Io {
            path: shown.clone(),
            cause,
        };
        // lstat first: a symlink is refused, not followed. The directory is
        // private, so nobody else can swap the file between this check and
        // the open; the identity check after the open holds regardless.
        let before = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_fail(e)),
        };
        if !before.file_type().is_file() {
            return Err(DevFileError::NotARegularFile { path: shown });
        }
        let mut file = fs::File::open(&path).map_err(io_fail)?;
        let meta = file.metadata().map_err(io_fail)?;
        if !meta.is_file() || !same_file(&before, &meta) {
            return Err(DevFileError::NotARegularFile { path: shown });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(DevFileError::FileNotPrivate { path: shown, mode });
            }
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io_fail)?;
        Ok(Some(text))
    }

    /// Writes a new file (0600); fails if the name exists in any form.
    pub fn create(&self, name: &str, text: &str) -> Result<(), DevFileError> {
        let path = self.path(name);
        write_new(&path, text).map_err(|cause| DevFileError::Io {
            path: path.display().to_string(),
            cause,
        })
    }

    /// Replaces the file's contents: a new file (0600) renamed over the old
    /// one, so a reader never sees half of it.
    pub fn replace(&self, name: &str, text: &str) -> Result<(), DevFileError> {
        let path = self.path(name);
        let temp = self.path(&format!(".{name}.{}", uuid::Uuid::now_v7().simple()));
        let io_fail = |cause| DevFileError::Io {
            path: path.display().to_string(),
            cause,
        };
        write_new(&temp, text).map_err(io_fail)?;
        fs::rename(&temp, &path).map_err(|e| {
            let _ = fs::remove_file(&temp);
            io_fail(e)
        })
    }
}

fn write_new(path: &Path, text: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}
