//! The CA's key material in its data directory: a root, an intermediate
//! that issues leaves, and the CT log key. Generated on first start (keys
//! written 0600), loaded afterwards, and checked before serving
//! (SPEC-CHECKS §3.1 step 9, after Fulcio `ca/common.go`).

use std::path::{Path, PathBuf};

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_x509::Certificate;

use crate::error::SetupError;
use crate::profile::{ca_certificate, CaKind};

pub const ROOT_CERT: &str = "root.crt.pem";
pub const ROOT_KEY: &str = "root.key.pem";
pub const INTERMEDIATE_CERT: &str = "intermediate.crt.pem";
pub const INTERMEDIATE_KEY: &str = "intermediate.key.pem";
pub const CT_LOG_KEY: &str = "ctlog.key.pem";

/// Root validity: ten years; intermediate: five (never beyond the root).
const ROOT_YEARS: i64 = 10;
const INTERMEDIATE_YEARS: i64 = 5;
const YEAR: i64 = 365 * 24 * 3600;

/// The loaded key material.
pub struct CaMaterial {
    pub root: Certificate,
    pub intermediate: Certificate,
    pub intermediate_key: SigningKey,
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
    move |source| SetupError::Io { path: path.display().to_string(), source }
}

fn key_err(path: &Path, reason: impl std::fmt::Display) -> SetupError {
    SetupError::Key { path: path.display().to_string(), reason: reason.to_string() }
}

/// Write a secret file readable by its owner only.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), SetupError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn read_key(path: &Path) -> Result<SigningKey, SetupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(io(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(key_err(path, format!("permissions {:o} let others read the key; chmod 600 it", mode & 0o777)));
        }
    }
    let pem = std::fs::read_to_string(path).map_err(io(path))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| key_err(path, e))
}

fn read_cert(path: &Path) -> Result<Certificate, SetupError> {
    let pem = std::fs::read_to_string(path).map_err(io(path))?;
    Certificate::from_pem(&pem).map_err(|e| key_err(path, e))
}

fn pem_cert(der: &[u8]) -> String {
    pem_encode("CERTIFICATE", der)
}

/// PEM-encode with 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

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
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let p = |name: &str| -> PathBuf { dir.join(name) };
        if !p(ROOT_CERT).exists() {
            let t = now();
            let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).map_err(|e| key_err(dir, e))?;
            let root_der = ca_certificate(
                CaKind::Root,
                "CN=keyless root,O=keyless",
                root_key.public_key(),
                None,
                &root_key,
                t,
                t + ROOT_YEARS * YEAR,
            )?;
            let root = Certificate::from_der(&root_der).map_err(|e| SetupError::SelfCheck(e.to_string()))?;
            let int_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).map_err(|e| key_err(dir, e))?;
            let int_der = ca_certificate(
                CaKind::Intermediate,
                "CN=keyless intermediate,O=keyless",
                int_key.public_key(),
                Some((&root, &root_key)),
                &int_key,
                t,
                t + INTERMEDIATE_YEARS * YEAR,
            )?;
            write_secret(&p(ROOT_KEY), root_key.to_pkcs8_pem().as_bytes())?;
            write_secret(&p(INTERMEDIATE_KEY), int_key.to_pkcs8_pem().as_bytes())?;
            std::fs::write(p(INTERMEDIATE_CERT), pem_cert(&int_der)).map_err(io(&p(INTERMEDIATE_CERT)))?;
            // The root last: its presence marks a complete setup.
            std::fs::write(p(ROOT_CERT), pem_cert(&root_der)).map_err(io(&p(ROOT_CERT)))?;
        }
        if !p(CT_LOG_KEY).exists() {
            let ct = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| key_err(dir, e))?;
            write_secret(&p(CT_LOG_KEY), ct.to_pkcs8_pem().as_bytes())?;
        }
        let root = read_cert(&p(ROOT_CERT))?;
        let ct_key_since = std::fs::metadata(p(CT_LOG_KEY))
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(root.not_before())
            .max(root.not_before());
        let material = Self {
            intermediate: read_cert(&p(INTERMEDIATE_CERT))?,
            intermediate_key: read_key(&p(INTERMEDIATE_KEY))?,
            ct_key: read_key(&p(CT_LOG_KEY))?,
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
        self.root.verify_signed_by(&self.root).map_err(|e| fail(format!("root: {e}")))?;
        self.intermediate
            .verify_signed_by(&self.root)
            .map_err(|e| fail(format!("intermediate: {e}")))?;
        if !self.root.is_ca() || !self.intermediate.is_ca() {
            return Err(fail("root and intermediate must have basicConstraints CA:TRUE".into()));
        }
        let eku = self.intermediate.extended_key_usage().map_err(|e| fail(e.to_string()))?;
        if !eku.is_some_and(|(_, e)| e.0.contains(&const_oid::db::rfc5280::ID_KP_CODE_SIGNING)) {
            return Err(fail("intermediate lacks the codeSigning EKU".into()));
        }
        for c in [&self.root, &self.intermediate] {
            if !c.is_valid_at(at) {
                return Err(fail(format!("{} is not valid now", c.subject())));
            }
        }
        let cert_key = self.intermediate.public_key().map_err(|e| fail(e.to_string()))?;
        if &cert_key != self.intermediate_key.public_key() {
            return Err(fail("intermediate key does not match the intermediate certificate".into()));
        }
        Ok(())
    }

    /// PEM chain intermediate → root.
    pub fn chain_pem(&self) -> Vec<String> {
        vec![pem_cert(self.intermediate.der()), pem_cert(self.root.der())]
    }
}
