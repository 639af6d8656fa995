//! The services' key store: where a signing key lives and how it is loaded.
//!
//! The CA, the TSA, the transparency log and the development OIDC issuer
//! each keep signing keys. Before this crate each wrote its own "load or
//! generate a key file with mode 0600"; now they share:
//!
//! * [`file`]: key files. Created with mode 0600 from the first byte (the
//!   mode is given to `open(2)`, so the file is never group- or
//!   world-readable, not even for an instant) under a temporary name and
//!   linked into place only once written and synced, so that a crash never
//!   leaves half a key behind. On load a key file that its group or others
//!   can read is refused, naming the file and its mode, as ssh refuses
//!   such an identity file.
//! * [`encrypted`]: PKCS#8 keys encrypted with a password (PBES2: scrypt or
//!   PBKDF2-HMAC-SHA256, AES-CBC), decrypted and written with RustCrypto's
//!   `pkcs8`.
//! * [`pkcs11`]: keys that never leave a PKCS#11 token (an HSM, SoftHSM2).
//! * [`Key`]: either kind, signing through [`keyless_crypto::Signer`], the
//!   one signing interface the services use.
//!
//! Dependencies point down: this crate sits next to `keyless-crypto` at the
//! bottom of the workspace and knows nothing of the services; each service
//! decides its file names, algorithms and error wording.

pub mod cosign;
mod decode_error;
pub mod encrypted;
mod error;
pub mod file;
mod key;
pub mod pkcs11;

pub use error::KeyError;
pub use key::Key;
pub use keyless_crypto::Signer;
pub use pkcs11::{Pkcs11Config, Pkcs11Error, Pkcs11Key};
