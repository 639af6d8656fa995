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

/// A new root and intermediate for the CA in `dir` (stopped); the CT log
/// key stays. Software keys only: a PKCS#11 or password-protected
/// intermediate is refused rather than half-rotated.
pub fn rotate_ca(
    dir: &Path,
    algorithm: keyless_crypto::KeyAlgorithm,
    at: i64,
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
    let retired = Retired::move_aside(
        dir,
        &[ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY],
        at,
        "ca",
    )?;
    let options = keyless_ca::KeyOptions {
        intermediate_algorithm: algorithm,
        ..Default::default()
    };
    let material = keyless_ca::CaMaterial::load_or_create_with(dir, &options)
        .context("generating the new CA root and intermediate")?;
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
