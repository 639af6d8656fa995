//! The CA's key material in its data directory: a root, an intermediate
//! that issues leaves, and the CT log key. Generated on first start (keys
//! written 0600), loaded afterwards, and checked before serving
//! (SPEC-CHECKS §3.1 step 9, after Fulcio `ca/common.go`).
//!
//! The CA keys (root and intermediate) may be stored as encrypted PKCS#8
//! (`ENCRYPTED PRIVATE KEY`, PBES2: scrypt or PBKDF2-HMAC-SHA256 with
//! AES-128/256-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc [-scrypt]`
//! writes), with the password taken from an environment variable named in
//! [`KeyOptions::password_env`]. The CT log key is not covered: it is the
//! log's key, not the CA's.
//!
//! Key files are read and written by the key store (`keyless_keys::file`):
//! created 0600 from the first byte, moved into place whole, and refused on
//! load when group or others can read them.
//!
//! The intermediate key may instead live on a PKCS#11 token
//! ([`KeyOptions::pkcs11`], see [`crate::pkcs11`]). Then the data directory
//! holds no `intermediate.key.pem`: on first start the root is created as
//! usual (software key, 0600, encrypted if a password is configured) and
//! issues the intermediate certificate for the token key's public key; on
//! later starts the token key must match that certificate.

use std::path::{Path, PathBuf};

use keyless_crypto::{KeyAlgorithm, PublicKey, SigningKey};
use keyless_keys::encrypted::Password;
use keyless_keys::file::{self as key_file, Existing};
use keyless_x509::Certificate;

use crate::error::SetupError;
use crate::pkcs11::{Pkcs11Config, Pkcs11Key};
use crate::profile::{ca_certificate, CaKind};
use crate::signer::CaKey;

pub const ROOT_CERT: &str = "root.crt.pem";
pub const ROOT_KEY: &str = "root.key.pem";
pub const INTERMEDIATE_CERT: &str = "intermediate.crt.pem";
pub const INTERMEDIATE_KEY: &str = "intermediate.key.pem";
pub const CT_LOG_KEY: &str = "ctlog.key.pem";

/// Root validity: ten years; intermediate: five (never beyond the root).
const ROOT_YEARS: i64 = 10;
const INTERMEDIATE_YEARS: i64 = 5;
const YEAR: i64 = 365 * 24 * 3600;

/// How the CA keys are generated and protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOptions {
    /// Curve of the intermediate (issuing) key generated on first start:
    /// `EcdsaP384` (default, as Fulcio) or `EcdsaP256` (6–7× cheaper to
    /// sign with on x86-64; fine for a development stack). An existing key
    /// is used as it is.
    pub intermediate_algorithm: KeyAlgorithm,
    /// Name of the environment variable holding the password of the CA
    /// keys (e.g. `KEYLESS_CA_KEY_PASSWORD`). When set, newly generated
    /// root and intermediate keys are written encrypted, and the
    /// intermediate key must be an `ENCRYPTED PRIVATE KEY`. When unset, an
    /// encrypted key is refused with an error saying so.
    pub password_env: Option<String>,
    /// Keep the intermediate key on a PKCS#11 token instead of in
    /// `intermediate.key.pem`. The root key stays in the data directory
    /// (it signs only the intermediate certificate, on first start).
    pub pkcs11: Option<Pkcs11Config>,
}

impl Default for KeyOptions {
    fn default() -> Self {
        Self {
            intermediate_algorithm: KeyAlgorithm::EcdsaP384,
            password_env: None,
            pkcs11: None,
        }
    }
}

impl KeyOptions {
    /// The password from [`KeyOptions::password_env`]: none when no
    /// variable is configured; an error when it is configured but unset or
    /// empty (never a silent fall-back to plain keys).
    fn password(&self) -> Result<Option<Password>, SetupError> {
        let Some(var) = &self.password_env else {
            return Ok(None);
        };
        Ok(Some(keyless_keys::encrypted::password_from_env(var)?))
    }
}

/// Encrypt `key` as an `ENCRYPTED PRIVATE KEY` PEM (PBES2, scrypt,
/// AES-256-CBC). Secret only in the sense of a key file: store 0600.
pub fn encrypted_key_pem(key: &SigningKey, password: &[u8]) -> Result<String, SetupError> {
    Ok(keyless_keys::encrypted::encrypt_pem(key, password)?)
}

/// Decode a PEM private key: `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY`
/// with `password`.
pub use keyless_keys::encrypted::decode_pem as decode_key_pem;

/// The loaded key material.
pub struct CaMaterial {
    pub root: Certificate,
    pub intermediate: Certificate,
    /// The issuing key: software, or on a PKCS#11 token.
    pub intermediate_key: CaKey,
    pub ct_key: SigningKey,
    /// When the CT key entered service (its file's creation, else the
    /// root's notBefore): `validFor.start` in the trusted root.
    pub ct_key_since: i64,
}

impl std::fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaMaterial")
            .field("root", &self.root.subject())
            .field("intermediate", &self.intermediate.subject())
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SetupError + '_ {
    move |source| SetupError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn cert_err(path: &Path) -> impl FnOnce(keyless_x509::X509Error) -> SetupError {
    let path = path.display().to_string();
    move |source| SetupError::Certificate {
        path,
        source: Box::new(source),
    }
}

fn gen_err(path: &Path) -> impl FnOnce(keyless_crypto::CryptoError) -> SetupError {
    let path = path.display().to_string();
    move |source| SetupError::KeyGeneration { path, source }
}

/// A key-material problem with no lower error: `reason` says what is wrong.
fn key_err(path: &Path, reason: impl std::fmt::Display) -> SetupError {
    SetupError::Key {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Write a secret file readable by its owner only (0600 from creation),
/// refusing to replace an existing file.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), SetupError> {
    Ok(key_file::write_secret(path, contents, Existing::Refuse)?)
}

fn read_cert(path: &Path) -> Result<Certificate, SetupError> {
    let pem = std::fs::read_to_string(path).map_err(io(path))?;
    Certificate::from_pem(&pem).map_err(cert_err(path))
}

fn pem_cert(der: &[u8]) -> String {
    pem_encode("CERTIFICATE", der)
}

/// PEM-encode with 64-column lines (the workspace's one PEM encoder).
pub use keyless_crypto::pem::encode as pem_encode;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl CaMaterial {
    /// Load the material from `dir`, generating whatever is missing on
    /// first start (P-384 CA keys, a P-256 CT log key).
    pub fn load_or_create(dir: &Path) -> Result<Self, SetupError> {
        Self::load_or_create_with(dir, &KeyOptions::default())
    }

    /// [`CaMaterial::load_or_create`] with key options: the intermediate's
    /// curve on first start, and the password of encrypted CA keys.
    pub fn load_or_create_with(dir: &Path, options: &KeyOptions) -> Result<Self, SetupError> {
        if !matches!(
            options.intermediate_algorithm,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384
        ) {
            return Err(key_err(
                dir,
                format!(
                    "intermediate key algorithm {:?}: P-256 or P-384 only",
                    options.intermediate_algorithm
                ),
            ));
        }
        let password = options.password()?;
        let password = password.as_ref().map(|p| p.as_slice());
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let p = |name: &str| -> PathBuf { dir.join(name) };
        // The token key first: a wrong PIN or label fails before anything
        // is written to a fresh data directory.
        let token_key = match &options.pkcs11 {
            Some(config) => Some(Pkcs11Key::open(config, options.intermediate_algorithm)?),
            None => None,
        };
        if !p(ROOT_CERT).exists() {
            let t = now();
            let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).map_err(gen_err(dir))?;
            let root_der = ca_certificate(
                CaKind::Root,
                "CN=keyless root,O=keyless",
                root_key.public_key(),
                None,
                &root_key,
                t,
                t + ROOT_YEARS * YEAR,
            )?;
            let root =
                Certificate::from_der(&root_der).map_err(|source| SetupError::ChainCheck {
                    what: "root",
                    source: Box::new(source),
                })?;
            // A software intermediate key is generated here; a token key
            // already exists (or was just generated on the token).
            let int_key = match &token_key {
                Some(_) => None,
                None => Some(
                    SigningKey::generate(options.intermediate_algorithm).map_err(gen_err(dir))?,
                ),
            };
            let int_public: &PublicKey = match (&int_key, &token_key) {
                (Some(k), _) => k.public_key(),
                (None, Some(k)) => keyless_crypto::Signer::public_key(k),
                (None, None) => return Err(key_err(dir, "no intermediate key")),
            };
            let int_der = ca_certificate(
                CaKind::Intermediate,
                "CN=keyless intermediate,O=keyless",
                int_public,
                Some((&root, &root_key)),
                // Signs only self-signed (root) certificates: unused here.
                &root_key,
                t,
                t + INTERMEDIATE_YEARS * YEAR,
            )?;
            key_file::store(&p(ROOT_KEY), &root_key, password, Existing::Refuse)?;
            if let Some(int_key) = &int_key {
                key_file::store(&p(INTERMEDIATE_KEY), int_key, password, Existing::Refuse)?;
            }
            std::fs::write(p(INTERMEDIATE_CERT), pem_cert(&int_der))
                .map_err(io(&p(INTERMEDIATE_CERT)))?;
            // The root last: its presence marks a complete setup.
            std::fs::write(p(ROOT_CERT), pem_cert(&root_der)).map_err(io(&p(ROOT_CERT)))?;
        }
        // Never encrypted: the CT log's key, not the CA's.
        let (ct_key, _) =
            key_file::load_or_generate(&p(CT_LOG_KEY), KeyAlgorithm::EcdsaP256, None)?;
        let root = read_cert(&p(ROOT_CERT))?;
        let ct_key_since = std::fs::metadata(p(CT_LOG_KEY))
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(root.not_before())
            .max(root.not_before());
        let intermediate = read_cert(&p(INTERMEDIATE_CERT))?;
        let intermediate_key = match token_key {
            Some(key) => {
                // Say which key and which directory disagree, rather than
                // the generic self-check message below.
                let cert_key = intermediate.public_key().map_err(cert_err(&p(INTERMEDIATE_CERT)))?;
                if &cert_key != keyless_crypto::Signer::public_key(&key) {
                    return Err(key_err(&p(INTERMEDIATE_CERT), format!(
                        "the certificate is for another key than {:?} on PKCS#11 token {:?}: this data directory was set up \
                         with a different intermediate key; use a fresh data directory or the key it was set up with",
                        key.key_label(),
                        key.token_label()
                    )));
                }
                CaKey::Pkcs11(key)
            }
            None if !p(INTERMEDIATE_KEY).exists() => {
                return Err(key_err(
                    &p(INTERMEDIATE_KEY),
                    "missing; if this data directory's intermediate key is on a PKCS#11 token, configure the token \
                     (keyless server ca --pkcs11-module … --pkcs11-token-label … --pkcs11-key-label …)",
                ))
            }
            None => CaKey::Software(key_file::load(&p(INTERMEDIATE_KEY), password)?),
        };
        let material = Self {
            intermediate,
            intermediate_key,
            ct_key,
            ct_key_since,
            root,
        };
        material.self_check(now())?;
        Ok(material)
    }

    /// The chain must verify, the issuing certificate must be a CA with the
    /// codeSigning EKU, be valid now, and match the signing key.
    pub fn self_check(&self, at: i64) -> Result<(), SetupError> {
        let fail = |m: String| SetupError::SelfCheck(m);
        self.root
            .verify_signed_by(&self.root)
            .map_err(|source| SetupError::ChainCheck {
                what: "root",
                source: Box::new(source),
            })?;
        self.intermediate
            .verify_signed_by(&self.root)
            .map_err(|source| SetupError::ChainCheck {
                what: "intermediate",
                source: Box::new(source),
            })?;
        if !self.root.is_ca() || !self.intermediate.is_ca() {
            return Err(fail(
                "root and intermediate must have basicConstraints CA:TRUE".into(),
            ));
        }
        let eku =
            self.intermediate
                .extended_key_usage()
                .map_err(|source| SetupError::ChainCheck {
                    what: "intermediate",
                    source: Box::new(source),
                })?;
        if !eku.is_some_and(|(_, e)| e.0.contains(&const_oid::db::rfc5280::ID_KP_CODE_SIGNING)) {
            return Err(fail("intermediate lacks the codeSigning EKU".into()));
        }
        for c in [&self.root, &self.intermediate] {
            if !c.is_valid_at(at) {
                return Err(fail(format!("{} is not valid now", c.subject())));
            }
        }
        let cert_key = self
            .intermediate
            .public_key()
            .map_err(|source| SetupError::ChainCheck {
                what: "intermediate",
                source: Box::new(source),
            })?;
        if &cert_key != self.intermediate_key.public_key() {
            return Err(fail(
                "intermediate key does not match the intermediate certificate".into(),
            ));
        }
        Ok(())
    }

    /// PEM chain intermediate → root.
    pub fn chain_pem(&self) -> Vec<String> {
        vec![pem_cert(self.intermediate.der()), pem_cert(self.root.der())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let mut r = [0u8; 8];
        aws_lc_rs::rand::fill(&mut r).unwrap();
        let d = std::env::temp_dir().join(format!(
            "keyless-pki-{tag}-{}-{}",
            std::process::id(),
            hex::encode(r)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Each test uses its own variable: tests run in parallel threads.
    fn options(var: &str, password: Option<&str>) -> KeyOptions {
        match password {
            Some(p) => std::env::set_var(var, p),
            None => std::env::remove_var(var),
        }
        KeyOptions {
            intermediate_algorithm: KeyAlgorithm::EcdsaP384,
            password_env: Some(var.into()),
            pkcs11: None,
        }
    }

    fn err_text(r: Result<CaMaterial, SetupError>) -> String {
        // The whole chain, as an operator reads it.
        crate::error::error_chain(&r.expect_err("must fail"))
    }

    #[test]
    fn encrypted_keys_round_trip() {
        let dir = temp_dir("roundtrip");
        let mut opts = options(
            "KEYLESS_TEST_PW_ROUNDTRIP",
            Some("correct horse battery staple"),
        );
        opts.intermediate_algorithm = KeyAlgorithm::EcdsaP256;
        let first = CaMaterial::load_or_create_with(&dir, &opts).unwrap();
        for name in [ROOT_KEY, INTERMEDIATE_KEY] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(
                text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
                "{name} is not encrypted"
            );
        }
        assert_eq!(
            first.intermediate_key.public_key().algorithm(),
            KeyAlgorithm::EcdsaP256
        );
        let again = CaMaterial::load_or_create_with(&dir, &opts).unwrap();
        assert_eq!(
            again.intermediate_key.public_key(),
            first.intermediate_key.public_key()
        );
        assert_eq!(again.intermediate.der(), first.intermediate.der());
        // The decrypted key signs, and the signature verifies under the certificate's key.
        let sig = again.intermediate_key.sign(b"tbs").unwrap();
        let cert_key = again.intermediate.public_key().unwrap();
        cert_key
            .verify(again.intermediate_key.signature_algorithm(), b"tbs", &sig)
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn wrong_or_missing_password_is_a_clear_error() {
        let dir = temp_dir("wrongpw");
        let var = "KEYLESS_TEST_PW_WRONG";
        CaMaterial::load_or_create_with(&dir, &options(var, Some("right password"))).unwrap();

        let e = err_text(CaMaterial::load_or_create_with(
            &dir,
            &options(var, Some("wrong password")),
        ));
        assert!(
            e.contains("wrong password") && e.contains(INTERMEDIATE_KEY),
            "{e}"
        );
        assert!(
            !e.contains("right password") && !e.contains("wrong password\""),
            "{e}"
        );

        let e = err_text(CaMaterial::load_or_create_with(&dir, &options(var, None)));
        assert!(e.contains(var) && e.contains("not set"), "{e}");

        std::env::set_var(var, "");
        let e = err_text(CaMaterial::load_or_create_with(
            &dir,
            &KeyOptions {
                password_env: Some(var.into()),
                ..KeyOptions::default()
            },
        ));
        assert!(e.contains("empty"), "{e}");

        // Encrypted key, no password configured.
        let e = err_text(CaMaterial::load_or_create(&dir));
        assert!(
            e.contains("encrypted") && e.contains("no key password"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn plaintext_key_with_a_password_configured_is_refused() {
        let dir = temp_dir("plainpw");
        CaMaterial::load_or_create(&dir).unwrap();
        let e = err_text(CaMaterial::load_or_create_with(
            &dir,
            &options("KEYLESS_TEST_PW_PLAIN", Some("pw")),
        ));
        assert!(e.contains("not encrypted"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn encrypted_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perms");
        let opts = options("KEYLESS_TEST_PW_PERMS", Some("pw"));
        CaMaterial::load_or_create_with(&dir, &opts).unwrap();
        let key = dir.join(INTERMEDIATE_KEY);
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = err_text(CaMaterial::load_or_create_with(&dir, &opts));
        assert!(
            e.contains("permissions 640") && e.contains("chmod 600"),
            "{e}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        CaMaterial::load_or_create_with(&dir, &opts).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Our writer's output reads back (the PBKDF2 form `openssl pkcs8`
    /// writes is tested in keyless-keys, which decrypts for us).
    #[test]
    fn encrypted_key_pem_reads_back() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let ours = encrypted_key_pem(&key, b"pw").unwrap();
        assert_eq!(
            decode_key_pem(&ours, Some(b"pw")).unwrap().public_key(),
            key.public_key()
        );
        assert!(decode_key_pem(&ours, Some(b"nope"))
            .unwrap_err()
            .to_string()
            .contains("wrong password"));
    }

    #[test]
    fn only_p256_and_p384_intermediates() {
        let dir = temp_dir("alg");
        let opts = KeyOptions {
            intermediate_algorithm: KeyAlgorithm::Ed25519,
            password_env: None,
            pkcs11: None,
        };
        assert!(err_text(CaMaterial::load_or_create_with(&dir, &opts)).contains("P-256 or P-384"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
