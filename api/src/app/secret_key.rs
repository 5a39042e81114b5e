//! The key that seals webhook secrets, resolved once at start-up into the `Sealer` requests
//! share: the configured `DEVGRAPH_SECRET_KEY`, or in dev mode a key generated once and kept
//! beside the dev JWT secret, under the same file rules (`auth::DevDir`), so that secrets sealed
//! by a dev server still open after a restart.

use std::{path::Path, sync::Arc};

use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;

use crate::{
    auth::{DevDir, DevFileError},
    config::{Config, DEV_SECRET_KEY_FILE, SecretKeySource, dev_dir_of},
    secrets::{SECRET_KEY_VAR, Sealer, SecretKey},
};

#[derive(Debug, thiserror::Error)]
pub enum SecretKeySetupError {
    #[error("dev secret key: {0}")]
    DevFile(#[from] DevFileError),
    #[error(
        "the dev secret key {path} is not 32 bytes in base64 or hex: delete it and dev mode \
         makes a new one (repository webhook secrets sealed with it must then be set again)"
    )]
    BadDevKey { path: String },
}

/// The sealer, or `None` (with a warning) when no key is configured outside dev mode: the
/// server still serves everything but repository webhooks.
pub fn sealer(config: &Config) -> Result<Option<Arc<Sealer>>, SecretKeySetupError> {
    let key = match &config.secret_key {
        SecretKeySource::Configured(key) => key.clone(),
        SecretKeySource::DevFile(path) => dev_key(path)?,
        SecretKeySource::Missing => {
            tracing::warn!(
                "{SECRET_KEY_VAR} is not set: repository webhooks need it to keep their \
                 secrets, so repositories cannot be connected; set it to 32 random bytes \
                 (`openssl rand -base64 32`)"
            );
            return Ok(None);
        }
    };
    Ok(Some(Arc::new(Sealer::new(&key))))
}

/// Reads the dev key, creating it on first use, as `auth::jwt` does the dev JWT secret.
fn dev_key(path: &Path) -> Result<SecretKey, SecretKeySetupError> {
    let dir = DevDir::open(&dev_dir_of(path))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(DEV_SECRET_KEY_FILE);
    let bad = || SecretKeySetupError::BadDevKey {
        path: path.display().to_string(),
    };
    if let Some(text) = dir.read(name)? {
        return SecretKey::parse(&text).map_err(|_| bad());
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    // The form `openssl rand -base64 32` prints, so the file can become DEVGRAPH_SECRET_KEY
    // as it is, should the dev database's repositories move to a configured server.
    match dir.create(name, &STANDARD.encode(bytes)) {
        Ok(()) => Ok(SecretKey::from_bytes(bytes)),
        // Another devgraph started at the same moment made it first: use theirs, under the
        // same checks.
        Err(DevFileError::Io { cause, .. })
            if cause.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            let text = dir.read(name)?.ok_or_else(bad)?;
            SecretKey::parse(&text).map_err(|_| bad())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A private scratch directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "devgraph-secret-key-{}",
                uuid::Uuid::now_v7().simple()
            ));
            Scratch(dir)
        }

        fn key_file(&self) -> PathBuf {
            self.0.join("dev").join(DEV_SECRET_KEY_FILE)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dev_config(path: PathBuf) -> Config {
        Config {
            secret_key: SecretKeySource::DevFile(path),
            ..Config::for_tests("sqlite::memory:", "unused")
        }
    }

    #[test]
    fn dev_mode_makes_a_private_key_once_and_keeps_using_it() {
        let scratch = Scratch::new();
        let config = dev_config(scratch.key_file());
        let first = sealer(&config).unwrap().unwrap();
        let sealed = first.seal("webhook secret", b"repo").unwrap();
        let text = std::fs::read_to_string(scratch.key_file()).unwrap();
        assert!(
            SecretKey::parse(&text).is_ok(),
            "written in a form it reads"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(scratch.key_file()).unwrap().permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        let again = sealer(&config).unwrap().unwrap();
        assert_eq!(again.open(&sealed, b"repo").unwrap(), "webhook secret");
    }

    #[test]
    fn a_dev_key_file_that_is_not_a_key_is_refused() {
        let scratch = Scratch::new();
        let dir = DevDir::open(&dev_dir_of(&scratch.key_file())).unwrap();
        dir.create(DEV_SECRET_KEY_FILE, "too short").unwrap();
        let err = sealer(&dev_config(scratch.key_file())).unwrap_err();
        assert!(err.to_string().contains("delete it"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_dev_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = Scratch::new();
        assert!(sealer(&dev_config(scratch.key_file())).unwrap().is_some());
        let open = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(scratch.key_file(), open).unwrap();
        let err = sealer(&dev_config(scratch.key_file())).unwrap_err();
        assert!(matches!(err, SecretKeySetupError::DevFile(_)), "{err}");
    }

    #[test]
    fn a_configured_key_is_used_and_none_means_no_sealer() {
        let configured = Config::for_tests("sqlite::memory:", "unused");
        assert!(sealer(&configured).unwrap().is_some());
        let missing = Config {
            secret_key: SecretKeySource::Missing,
            ..configured
        };
        assert!(sealer(&missing).unwrap().is_none());
    }
}
