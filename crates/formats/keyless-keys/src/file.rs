//! Key files in a service's data directory.
//!
//! Writing: the contents go to a fresh temporary file in the same
//! directory, created (`O_CREAT|O_EXCL`) with mode 0600 — the mode is
//! applied by `open(2)` itself, so there is no moment at which the file
//! exists with wider permissions — then written, synced, and moved into
//! place: linked (refusing to replace an existing key) or renamed over the
//! old file, as the caller chooses; finally the directory is synced. A
//! crash leaves either no key or the whole key under its name, never half
//! of one.
//!
//! Reading: the file is opened first and its mode read from the open file
//! (`fstat`), so what is checked is what is read. A key file its group or
//! others may read is refused with an error naming the file and the mode,
//! as ssh refuses a private key with such permissions: the key may already
//! have leaked, and silently using it would hide that.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use keyless_crypto::{KeyAlgorithm, SigningKey};

use crate::encrypted;
use crate::KeyError;

/// The largest key file read (keys are a few KiB, RSA-4096 PEM ~3.3 KiB).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// What [`write_secret`] does when the target file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it alone and fail: a key is never silently replaced.
    Refuse,
    /// Replace it atomically (for material rewritten as a whole, e.g. a
    /// half-finished setup being redone).
    Replace,
}

/// Write `contents` to `path`, readable by its owner only (0600), whole or
/// not at all (see the module docs).
pub fn write_secret(path: &Path, contents: &[u8], existing: Existing) -> Result<(), KeyError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| KeyError::Io {
        action: "writing",
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let mut random = [0u8; 8];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| KeyError::Random {
        what: "temporary file name",
    })?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(
        ".{}.{}.{suffix}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));

    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(KeyError::io("creating", &tmp))?;
    let result = (|| {
        file.write_all(contents)
            .and_then(|()| file.sync_all())
            .map_err(KeyError::io("writing", &tmp))?;
        match existing {
            Existing::Refuse => {
                fs::hard_link(&tmp, path).map_err(KeyError::io("creating", path))?;
                fs::remove_file(&tmp).map_err(KeyError::io("removing", &tmp))
            }
            Existing::Replace => {
                fs::rename(&tmp, path).map_err(KeyError::io("renaming into", path))
            }
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir)
}

/// Make the new directory entry durable.
fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(KeyError::io("syncing", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Read a key file's text, refusing one that is not a regular file or that
/// its group or others can read.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>, KeyError> {
    let file = fs::File::open(path).map_err(KeyError::io("reading", path))?;
    let meta = file.metadata().map_err(KeyError::io("reading", path))?;
    if !meta.is_file() {
        return Err(KeyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(KeyError::io("reading", path))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_KEY_FILE,
        });
    }
    Ok(text)
}

/// Load the private key in `path`: a `PRIVATE KEY`, or with `password` an
/// `ENCRYPTED PRIVATE KEY` (see [`encrypted::decode_pem`]).
pub fn load(path: &Path, password: Option<&[u8]>) -> Result<SigningKey, KeyError> {
    let text = read_secret(path)?;
    encrypted::decode_pem(&text, password).map_err(|source| KeyError::Decode {
        path: path.to_path_buf(),
        source,
    })
}

/// The PEM a key is stored as: PKCS#8, encrypted when a password is given.
pub fn key_pem(
    key: &SigningKey,
    password: Option<&[u8]>,
) -> Result<zeroize::Zeroizing<String>, KeyError> {
    Ok(zeroize::Zeroizing::new(match password {
        Some(pw) => encrypted::encrypt_pem(key, pw)?,
        None => key.to_pkcs8_pem(),
    }))
}

/// Store `key` in `path` (0600, encrypted when a password is given).
pub fn store(
    path: &Path,
    key: &SigningKey,
    password: Option<&[u8]>,
    existing: Existing,
) -> Result<(), KeyError> {
    write_secret(path, key_pem(key, password)?.as_bytes(), existing)
}

/// Whether a file is present. A permission error counts as present, so
/// that a key we merely cannot read is reported, never regenerated over.
pub fn exists(path: &Path) -> bool {
    !matches!(fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Load the key in `path`, or generate an `algorithm` key and store it
/// there (0600) if there is no file. Returns the key and whether it was
/// generated now. An existing key is used whatever its algorithm: the
/// caller checks it if it must.
pub fn load_or_generate(
    path: &Path,
    algorithm: KeyAlgorithm,
    password: Option<&[u8]>,
) -> Result<(SigningKey, bool), KeyError> {
    if exists(path) {
        return Ok((load(path, password)?, false));
    }
    let key = SigningKey::generate(algorithm).map_err(|source| KeyError::Generate {
        algorithm: format!("{algorithm:?}"),
        source,
    })?;
    store(path, &key, password, Existing::Refuse)?;
    tracing::info!(path = %path.display(), ?algorithm, "generated a new key");
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(tag: &str) -> PathBuf {
        let mut r = [0u8; 8];
        aws_lc_rs::rand::fill(&mut r).unwrap();
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let d =
            std::env::temp_dir().join(format!("keyless-keys-{tag}-{}-{hex}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A generated key file is 0600 and alone in the directory (no
    /// temporary file left), and loading it gives the same key, for every
    /// key type the services use, plain and encrypted.
    #[test]
    fn load_what_you_generated_for_each_key_type() {
        let dir = temp_dir("roundtrip");
        for (i, alg) in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ]
        .into_iter()
        .enumerate()
        {
            for password in [None, Some(&b"pw"[..])] {
                let path = dir.join(format!("k{i}-{}.pem", password.is_some()));
                let (key, generated) = load_or_generate(&path, alg, password).unwrap();
                assert!(generated);
                assert_eq!(key.public_key().algorithm(), alg);
                #[cfg(unix)]
                assert_eq!(
                    fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                    0o600
                );
                let (again, generated) =
                    load_or_generate(&path, KeyAlgorithm::EcdsaP256, password).unwrap();
                assert!(!generated, "an existing key is loaded, not replaced");
                assert_eq!(again.public_key(), key.public_key());
                // The loaded key signs, and the signature verifies.
                let sig = again.sign(b"m").unwrap();
                key.public_key()
                    .verify(key.signature_algorithm(), b"m", &sig)
                    .unwrap();
            }
        }
        assert!(
            names(&dir).iter().all(|n| !n.ends_with(".tmp")),
            "{:?}",
            names(&dir)
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// Even with a umask of 0 the new file never carries more than 0600:
    /// the mode is set at creation. (Run in a child process: the umask is
    /// process-wide and tests run in parallel threads.)
    #[cfg(unix)]
    #[test]
    fn created_0600_whatever_the_umask() {
        if std::env::var_os("KEYLESS_KEYS_UMASK_CHILD").is_some() {
            let path = PathBuf::from(std::env::var_os("KEYLESS_KEYS_UMASK_PATH").unwrap());
            write_secret(&path, b"secret", Existing::Refuse).unwrap();
            return;
        }
        let dir = temp_dir("umask");
        let path = dir.join("k.pem");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 000 && exec \"$0\" --exact file::tests::created_0600_whatever_the_umask --nocapture")
            .arg(std::env::current_exe().unwrap())
            .env("KEYLESS_KEYS_UMASK_CHILD", "1")
            .env("KEYLESS_KEYS_UMASK_PATH", &path)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        let _ = fs::remove_dir_all(&dir);
    }

    /// A key is never silently replaced: `Refuse` fails on an existing
    /// file and leaves it (and no temporary file) behind; `Replace`
    /// replaces it whole.
    #[test]
    fn existing_files_are_refused_or_replaced_as_asked() {
        let dir = temp_dir("existing");
        let path = dir.join("k.pem");
        write_secret(&path, b"first", Existing::Refuse).unwrap();
        let e = write_secret(&path, b"second", Existing::Refuse).unwrap_err();
        assert!(
            matches!(&e, KeyError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists),
            "{e}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"first");
        write_secret(&path, b"third", Existing::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"third");
        assert_eq!(names(&dir), vec!["k.pem".to_string()]);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A key file readable by group or others is refused with the file's
    /// name and mode in the message; 0600 and 0400 are accepted.
    #[cfg(unix)]
    #[test]
    fn group_or_world_readable_key_is_refused() {
        let dir = temp_dir("perms");
        let path = dir.join("k.pem");
        let (key, _) = load_or_generate(&path, KeyAlgorithm::EcdsaP256, None).unwrap();
        for mode in [0o640, 0o604, 0o644, 0o660, 0o610] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let e = load(&path, None).unwrap_err();
            assert!(
                matches!(e, KeyError::Permissions { mode: m, .. } if m == mode),
                "{e}"
            );
            let text = e.to_string();
            assert!(
                text.contains(&path.display().to_string())
                    && text.contains(&format!("permissions {mode:o}"))
                    && text.contains("chmod 600"),
                "{text}"
            );
            // load_or_generate refuses too, and does not replace the key.
            assert!(load_or_generate(&path, KeyAlgorithm::EcdsaP256, None).is_err());
        }
        for mode in [0o600, 0o400] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(load(&path, None).unwrap().public_key(), key.public_key());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_directory_or_garbage_is_not_a_key() {
        let dir = temp_dir("garbage");
        let sub = dir.join("sub");
        fs::create_dir(&sub).unwrap();
        #[cfg(unix)]
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(load(&sub, None), Err(KeyError::NotAFile { .. })));
        let path = dir.join("k.pem");
        write_secret(&path, b"not a key", Existing::Refuse).unwrap();
        let e = load(&path, None).unwrap_err();
        assert!(
            matches!(e, KeyError::Decode { .. }) && e.to_string().contains("k.pem"),
            "{e}"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
