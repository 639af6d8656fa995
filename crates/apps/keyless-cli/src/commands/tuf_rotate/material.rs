//! New key material for a rotation, made in the services' own data
//! directories with the services' own generators: the CA's root and
//! intermediate, the TSA's chain, a new log shard's key. The retired files
//! are moved (not copied) to `DIR/retired/<unix time>-<what>/`, keeping
//! their 0600 modes, so a restarted service can only use the new key; if
//! generating the new material fails they are moved back.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use keyless_types::wire;
use keyless_x509::Certificate;

/// Largest certificate PEM file read here.
const MAX_CERT_FILE: u64 = 256 * 1024;

fn read_cert(path: &Path) -> Result<Certificate> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_CERT_FILE {
        bail!("{} is larger than {MAX_CERT_FILE} bytes", path.display());
    }
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Certificate::from_pem(&pem).with_context(|| format!("parsing {}", path.display()))
}

/// Files moved aside. They are moved back when this is dropped without
/// [`Retired::keep`]: a rotation that fails after the move (a bad trusted
/// root, a TUF repository that cannot be signed) leaves the service with
/// the key its published trusted root names.
pub struct Retired {
    moves: Vec<(PathBuf, PathBuf)>,
    kept: bool,
}

impl Drop for Retired {
    fn drop(&mut self) {
        if !self.kept {
            self.restore();
        }
    }
}

impl Retired {
    /// Move `names` from `dir` to a new `dir/retired/<at>-<what>/` (0700).
    fn move_aside(dir: &Path, names: &[&str], at: i64, what: &str) -> Result<Self> {
        let into = dir.join("retired").join(format!("{at}-{what}"));
        if into.exists() {
            bail!("{} already exists: one rotation per second", into.display());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&into)
            .with_context(|| format!("creating {}", into.display()))?;
        let mut retired = Self {
            moves: Vec::new(),
            kept: false,
        };
        for name in names {
            let (from, to) = (dir.join(name), into.join(name));
            if !from.exists() {
                continue;
            }
            if let Err(e) = std::fs::rename(&from, &to) {
                retired.restore();
                return Err(e).with_context(|| format!("moving {} aside", from.display()));
            }
            retired.moves.push((from, to));
        }
        Ok(retired)
    }

    fn restore(&mut self) {
        for (from, to) in self.moves.drain(..).rev() {
            if let Err(e) = std::fs::rename(&to, &from) {
                eprintln!(
                    "ERROR: could not move {} back to {}: {e}",
                    to.display(),
                    from.display()
                );
            }
        }
    }

    /// The rotation is published: the old files stay retired. Returns
    /// the directory they are in.
    pub fn keep(mut self) -> PathBuf {
        self.kept = true;
        self.moves
            .first()
            .and_then(|(_, to)| to.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// What a CA or TSA rotation made.
pub struct NewAuthority {
    /// DER of the retired chain's first certificate (the trusted root
    /// entry to retire).
    pub old_leaf: Vec<u8>,
    /// The new trusted-root entry (its `validFor` is set by the caller).
    pub entry: wire::CertificateAuthority,
    /// The old files, moved back unless kept.
    pub retired: Retired,
}

/// A new intermediate for the CA in `dir` (stopped), under a new root
/// too unless `keep_root`; the CT log key stays. Software keys only: a
/// PKCS#11 or password-protected intermediate is refused rather than
/// half-rotated.
pub fn rotate_ca(
    dir: &Path,
    algorithm: keyless_crypto::KeyAlgorithm,
    at: i64,
    keep_root: bool,
) -> Result<NewAuthority> {
    use keyless_ca::pki::{INTERMEDIATE_CERT, INTERMEDIATE_KEY, ROOT_CERT, ROOT_KEY};
    let old = read_cert(&dir.join(INTERMEDIATE_CERT))?;
    let key = dir.join(INTERMEDIATE_KEY);
    let pem = std::fs::read_to_string(&key).with_context(|| {
        format!(
            "reading {} (a CA whose intermediate key is on a PKCS#11 token is not rotated by this command)",
            key.display()
        )
    })?;
    if pem.contains("ENCRYPTED PRIVATE KEY") {
        bail!(
            "{} is encrypted: rotating password-protected CA keys is not supported",
            key.display()
        );
    }
    let names: &[&str] = if keep_root {
        &[INTERMEDIATE_CERT, INTERMEDIATE_KEY]
    } else {
        &[ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY]
    };
    let retired = Retired::move_aside(dir, names, at, "ca")?;
    if keep_root {
        issue_intermediate(dir, algorithm)?;
    }
    let options = keyless_ca::KeyOptions {
        intermediate_algorithm: algorithm,
        ..Default::default()
    };
    // Generates a root and intermediate if the root was moved; loads and
    // self-checks (chain, EKU, key match) what is there either way.
    let material = keyless_ca::CaMaterial::load_or_create_with(dir, &options)
        .context("loading the new CA material")?;
    let mut root = keyless_ca::trusted_root(&material, "", "");
    let Some(entry) = root.certificate_authorities.pop() else {
        bail!("the CA produced no trusted-root entry");
    };
    Ok(NewAuthority {
        old_leaf: old.der().to_vec(),
        entry,
        retired,
    })
}

/// Issue a new intermediate under the root in `dir`, as the CA's first
/// start does (same profile and subject, at most five years, never beyond
/// the root).
fn issue_intermediate(dir: &Path, algorithm: keyless_crypto::KeyAlgorithm) -> Result<()> {
    use keyless_ca::pki::{INTERMEDIATE_CERT, INTERMEDIATE_KEY, ROOT_CERT, ROOT_KEY};
    use keyless_keys::file::{self as key_file, Existing};
    const FIVE_YEARS: i64 = 5 * 365 * 24 * 3600;
    let root = read_cert(&dir.join(ROOT_CERT))?;
    let root_key = key_file::load(&dir.join(ROOT_KEY), None)
        .context("the CA root key (password-protected root keys are not supported here)")?;
    let key = keyless_crypto::SigningKey::generate(algorithm)
        .context("generating the intermediate key")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs() as i64;
    let der = keyless_ca::profile::ca_certificate(
        keyless_ca::profile::CaKind::Intermediate,
        "CN=keyless intermediate,O=keyless",
        key.public_key(),
        Some((&root, &root_key)),
        &root_key,
        now,
        (now + FIVE_YEARS).min(root.not_after()),
    )
    .context("issuing the new intermediate certificate")?;
    key_file::store(&dir.join(INTERMEDIATE_KEY), &key, None, Existing::Refuse)?;
    let cert = dir.join(INTERMEDIATE_CERT);
    std::fs::write(&cert, keyless_ca::pki::pem_encode("CERTIFICATE", &der))
        .with_context(|| format!("writing {}", cert.display()))
}

/// A new certificate chain (root, intermediate, time-stamping leaf) for
/// the TSA in `dir` (stopped). Software keys only.
pub fn rotate_tsa(dir: &Path, at: i64) -> Result<NewAuthority> {
    let old = read_cert(&dir.join("signing.pem"))?;
    if !dir.join("signing.key").is_file() {
        bail!(
            "{} has no signing.key: a TSA whose key is on a PKCS#11 token is not rotated by this command",
            dir.display()
        );
    }
    let retired = Retired::move_aside(dir, &keyless_tsa::TsaConfig::CHAIN_FILES, at, "tsa")?;
    let tsa = keyless_tsa::Tsa::open(&keyless_tsa::TsaConfig::new(dir))
        .context("generating the new TSA certificate chain")?;
    let entry =
        serde_json::from_value(tsa.trusted_root_entry()).context("the TSA's trusted-root entry")?;
    Ok(NewAuthority {
        old_leaf: old.der().to_vec(),
        entry,
        retired,
    })
}

/// The trusted-root entry of the CA in `dir` as it is (for `trusted-root`).
pub fn ca_entries(dir: &Path, ca_url: &str, ct_url: &str) -> Result<wire::TrustedRoot> {
    let material = keyless_ca::CaMaterial::load_or_create(dir)
        .with_context(|| format!("the CA material in {}", dir.display()))?;
    Ok(keyless_ca::trusted_root(&material, ca_url, ct_url))
}

/// The trusted-root entry of the TSA in `dir` as it is.
pub fn tsa_entry(dir: &Path, url: &str) -> Result<wire::CertificateAuthority> {
    let mut tsa = keyless_tsa::Tsa::open(&keyless_tsa::TsaConfig::new(dir))
        .with_context(|| format!("the TSA material in {}", dir.display()))?;
    tsa.set_uri(url);
    serde_json::from_value(tsa.trusted_root_entry()).context("the TSA's trusted-root entry")
}

/// The trusted-root entry of the log (shard) whose key is in `dir`
/// (generated, Ed25519 as `keyless server log` does, if there is none
/// yet), serving at `url` and signing checkpoints as the URL's host:port.
/// Valid from `start`.
pub fn log_entry(dir: &Path, url: &str, start: i64) -> Result<wire::TransparencyLogInstance> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = keyless_log::keys::load_or_generate(dir, keyless_log::LogKeyType::Ed25519)
        .with_context(|| format!("the log key in {}", dir.display()))?;
    let origin = origin_of(url)?;
    let public = keyless_crypto::Signer::public_key(&key).clone();
    let key_details = match public.algorithm() {
        keyless_crypto::KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        keyless_crypto::KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        other => bail!("log key algorithm {other:?} is not supported here"),
    };
    // The log ID is the checkpoint key ID, as the log itself computes it.
    let verifier = keyless_tlog::NoteVerifier::new(&origin, public.clone())
        .with_context(|| format!("origin {origin:?}"))?;
    Ok(wire::TransparencyLogInstance {
        base_url: url.trim_end_matches('/').to_string(),
        hash_algorithm: "SHA2_256".into(),
        public_key: wire::PublicKey {
            raw_bytes: public.spki_der().to_vec(),
            key_details: key_details.into(),
            valid_for: super::edit::open_from(start),
        },
        log_id: wire::LogId {
            key_id: verifier.key_id().to_vec(),
        },
        checkpoint_key_id: None,
        operator: None,
    })
}

/// host:port of an http(s) URL with no path: verifiers take a Rekor v2
/// log's checkpoint origin from its base URL.
pub fn origin_of(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .with_context(|| format!("{url}: an http:// or https:// URL"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        bail!("{url}: the log's base URL is its origin (scheme://host[:port], no path)");
    }
    Ok(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_ca::pki::{INTERMEDIATE_CERT, ROOT_CERT};

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("keyless-rotate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_new_intermediate_under_the_same_root_and_a_failed_rotation_moves_back() {
        let dir = temp("ca");
        let first = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
        let root = std::fs::read(dir.join(ROOT_CERT)).unwrap();
        let p256 = keyless_crypto::KeyAlgorithm::EcdsaP256;

        // Not kept (as when publishing fails): the old files come back.
        let new = rotate_ca(&dir, p256, 100, true).unwrap();
        assert_ne!(
            new.entry.cert_chain.certificates[0].raw_bytes,
            first.intermediate.der()
        );
        drop(new);
        assert_eq!(
            read_cert(&dir.join(INTERMEDIATE_CERT)).unwrap().der(),
            first.intermediate.der()
        );

        let new = rotate_ca(&dir, p256, 101, true).unwrap();
        assert_eq!(new.old_leaf, first.intermediate.der());
        let chain = &new.entry.cert_chain.certificates;
        assert_eq!(chain.len(), 2);
        assert_ne!(chain[0].raw_bytes, first.intermediate.der());
        assert_eq!(chain[1].raw_bytes, first.root.der(), "the root stays");
        let retired = new.retired.keep();
        assert!(!retired.join("root.key.pem").exists());
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&retired), 0o700);
            assert_eq!(mode(&retired.join("intermediate.key.pem")), 0o600);
            assert_eq!(mode(&dir.join("intermediate.key.pem")), 0o600);
        }
        assert_eq!(std::fs::read(dir.join(ROOT_CERT)).unwrap(), root);
        // The CA starts with it (load_or_create self-checks the chain).
        let again = keyless_ca::CaMaterial::load_or_create(&dir).unwrap();
        assert_eq!(again.intermediate.der(), &chain[0].raw_bytes[..]);

        // Without keep_root the root is new too.
        let new = rotate_ca(&dir, p256, 102, false).unwrap();
        assert_ne!(
            new.entry.cert_chain.certificates[1].raw_bytes,
            first.root.der()
        );
        new.retired.keep();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
