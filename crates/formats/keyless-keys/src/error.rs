use std::path::PathBuf;

use thiserror::Error;

/// Why a key could not be stored, read or used. Messages name the file
/// (and, for permissions, its mode); they never contain key material or a
/// password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A file system operation on a key file failed.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file can be read by its group or by others: refused, as ssh
    /// refuses such an identity file.
    #[error("key file {}: permissions {mode:o} let group or others read the key; chmod 600 it", path.display())]
    Permissions { path: PathBuf, mode: u32 },
    /// The key file is not a regular file (a directory, a device, a FIFO).
    #[error("key file {}: not a regular file", path.display())]
    NotAFile { path: PathBuf },
    /// The key file's contents are not a usable key (or cannot be
    /// decrypted with the password given).
    #[error("key file {}", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: crate::decode_error::DecodeError,
    },
    /// The key file is larger than any key file: not a key.
    #[error("key file {}: larger than {max} bytes: not a key", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    /// Generating a key failed.
    #[error("generating a {algorithm} key")]
    Generate {
        algorithm: String,
        #[source]
        source: keyless_crypto::CryptoError,
    },
    /// Encrypting a key failed.
    #[error("encrypting the key")]
    Encrypt(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The random number generator failed.
    #[error("random number generator failed ({what})")]
    Random { what: &'static str },
    /// A password variable is missing or empty.
    #[error("the key password variable {var} is {problem}")]
    Password { var: String, problem: &'static str },
    /// The PKCS#11 token key could not be opened.
    #[error(transparent)]
    Pkcs11(#[from] crate::pkcs11::Pkcs11Error),
}

impl KeyError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> KeyError {
        let path = path.to_path_buf();
        move |source| KeyError::Io {
            action,
            path,
            source,
        }
    }
}
