//! cosign's key commands: `generate-key-pair`, `import-key-pair`,
//! `public-key`, and loading `--key` for the signing commands.
//!
//! Files and wording follow cosign: `cosign.key` (encrypted, 0600) and
//! `cosign.pub`, the password from `COSIGN_PASSWORD` (set and empty means
//! an empty password, as in cosign) or else asked on the terminal.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use keyless_crypto::SigningKey;
use keyless_keys::cosign;
use keyless_keys::file::{write_secret, Existing};
use zeroize::Zeroizing;

/// The variable holding the key password, as cosign names it.
pub const PASSWORD_ENV: &str = "COSIGN_PASSWORD";

#[derive(Debug, clap::Args)]
pub struct GenerateKeyPair {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: String,
    /// Overwrite existing files without asking (also COSIGN_YES=true).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

impl GenerateKeyPair {
    pub fn run(&self) -> Result<i32> {
        let (priv_path, pub_path) = paths(&self.output_key_prefix);
        let existing = check_overwrite(&[&priv_path, &pub_path], self.yes)?;
        let password = password(true)?;
        let (_, pair) = cosign::generate(&password)?;
        write_pair(&pair, &priv_path, &pub_path, existing)?;
        Ok(crate::exit::OK)
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportKeyPair {
    /// The PEM private key to import: PRIVATE KEY (PKCS#8: ECDSA, RSA or
    /// Ed25519), EC PRIVATE KEY (SEC1) or RSA PRIVATE KEY (PKCS#1).
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(
        long,
        short = 'o',
        value_name = "PREFIX",
        default_value = "import-cosign"
    )]
    pub output_key_prefix: String,
    /// Overwrite existing files without asking (also COSIGN_YES=true).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

impl ImportKeyPair {
    pub fn run(&self) -> Result<i32> {
        let text = read_capped(&self.key)?;
        let key = cosign::import_private_key(&text)
            .with_context(|| format!("importing {}", self.key.display()))?;
        let (priv_path, pub_path) = paths(&self.output_key_prefix);
        let existing = check_overwrite(&[&priv_path, &pub_path], self.yes)?;
        let password = password(true)?;
        let pair = cosign::encrypt(&key, &password)?;
        write_pair(&pair, &priv_path, &pub_path, existing)?;
        Ok(crate::exit::OK)
    }
}

#[derive(Debug, clap::Args)]
pub struct PublicKey {
    /// The private key (cosign's encrypted format).
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
    /// Write the public key here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub outfile: Option<PathBuf>,
}

impl PublicKey {
    pub fn run(&self) -> Result<i32> {
        let key = load_signing_key(&self.key)?;
        let pem = key.public_key().to_pem();
        match &self.outfile {
            Some(p) => {
                std::fs::write(p, &pem).with_context(|| format!("writing {}", p.display()))?;
                eprintln!("Public key written to {}", p.display());
            }
            None => print!("{pem}"),
        }
        Ok(crate::exit::OK)
    }
}

/// Load a signing command's `--key`: a cosign encrypted key file, the
/// password from `COSIGN_PASSWORD` or the terminal.
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let text = read_capped(path)?;
    if !cosign::is_encrypted_key(&text) {
        bail!(
            "{}: not a cosign private key (ENCRYPTED SIGSTORE PRIVATE KEY); \
             convert a PEM private key with `keyless import-key-pair --key {}`",
            path.display(),
            path.display()
        );
    }
    let password = password(false)?;
    cosign::decrypt(&text, &password).with_context(|| format!("{}", path.display()))
}

fn paths(prefix: &str) -> (PathBuf, PathBuf) {
    (
        PathBuf::from(format!("{prefix}.key")),
        PathBuf::from(format!("{prefix}.pub")),
    )
}

/// Read a key file, at most [`cosign::MAX_KEY_FILE`] bytes.
fn read_capped(path: &Path) -> Result<Zeroizing<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut text = Zeroizing::new(String::new());
    file.take(cosign::MAX_KEY_FILE as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    if text.len() > cosign::MAX_KEY_FILE {
        bail!(
            "{}: larger than {} bytes, not a key file",
            path.display(),
            cosign::MAX_KEY_FILE
        );
    }
    Ok(text)
}

fn cosign_yes() -> bool {
    std::env::var("COSIGN_YES").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "yes"))
}

/// Never replace a key silently: with existing files, ask (or take
/// `--yes`/`COSIGN_YES`); without a terminal to ask, refuse.
fn check_overwrite(files: &[&Path], yes: bool) -> Result<Existing> {
    let present: Vec<String> = files
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if present.is_empty() {
        return Ok(Existing::Refuse);
    }
    if yes || cosign_yes() {
        return Ok(Existing::Replace);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "{} already {}; pass --yes (or COSIGN_YES=true) to overwrite",
            present.join(" and "),
            if present.len() == 1 {
                "exists"
            } else {
                "exist"
            }
        );
    }
    eprint!(
        "File {} already exists. Overwrite (y/[N])? ",
        present.join(" and ")
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(Existing::Replace)
    } else {
        bail!("not overwriting {}", present.join(" and "))
    }
}

/// The key password: `COSIGN_PASSWORD` if set (even empty), else asked on
/// the terminal (twice when `confirm`, for a new key).
fn password(confirm: bool) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(v) = std::env::var_os(PASSWORD_ENV) {
        #[cfg(unix)]
        let bytes = std::os::unix::ffi::OsStringExt::into_vec(v);
        #[cfg(not(unix))]
        let bytes = v.to_string_lossy().into_owned().into_bytes();
        return Ok(Zeroizing::new(bytes));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no key password: set {PASSWORD_ENV} (it may be empty) or run in a terminal");
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Enter password for private key: ")
            .context("reading the password")?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Enter password for private key again: ")
                .context("reading the password")?,
        );
        if *first != *again {
            bail!("passwords do not match");
        }
    }
    Ok(Zeroizing::new(first.as_bytes().to_vec()))
}

fn write_pair(
    pair: &cosign::KeyPairPem,
    priv_path: &Path,
    pub_path: &Path,
    existing: Existing,
) -> Result<()> {
    write_secret(priv_path, pair.private_pem.as_bytes(), existing)?;
    eprintln!("Private key written to {}", priv_path.display());
    std::fs::write(pub_path, &pair.public_pem)
        .with_context(|| format!("writing {}", pub_path.display()))?;
    eprintln!("Public key written to {}", pub_path.display());
    Ok(())
}

/// Keys already loaded in this process, by path: `sign --recursive` signs
/// several manifests and must not ask for the password each time.
static LOADED: std::sync::Mutex<Vec<(PathBuf, std::sync::Arc<SigningKey>)>> =
    std::sync::Mutex::new(Vec::new());

fn cached_signing_key(path: &Path) -> Result<std::sync::Arc<SigningKey>> {
    let mut loaded = LOADED
        .lock()
        .map_err(|_| anyhow::anyhow!("key cache poisoned"))?;
    if let Some((_, key)) = loaded.iter().find(|(p, _)| p == path) {
        return Ok(key.clone());
    }
    let key = std::sync::Arc::new(load_signing_key(path)?);
    loaded.push((path.to_path_buf(), key.clone()));
    Ok(key)
}

/// `sign`/`sign-blob`/`attest`/`attest-blob --key FILE`: sign with the key
/// instead of keylessly. The log (unless `tlog_upload` is off) records the
/// public key; the TSA, when the instance has one, timestamps the signature.
/// The result has no certificate chain and no identity.
pub async fn sign_with_key(
    path: &Path,
    tlog_upload: bool,
    instance: &crate::instance::Instance,
    endpoints: &crate::instance::Endpoints,
    artifact: &keyless_sign::Artifact,
) -> Result<keyless_sign::SignedBundle> {
    use keyless_sign::http::{AnyRekor, HttpClient, TsaClient};
    let key = tokio::task::block_in_place(|| cached_signing_key(path))?;
    let http = HttpClient::shared()?;
    let signer = keyless_sign::KeySigner {
        log: tlog_upload
            .then(|| AnyRekor::new(&endpoints.rekor, endpoints.rekor_version, http.clone())),
        tsa: endpoints
            .tsa
            .as_ref()
            .map(|url| TsaClient::new(url, http.clone())),
        trust: Some(instance.trust.clone()),
    };
    let progress = |m: &str| eprintln!("{m}");
    let signed = signer.sign(&key, artifact, &progress).await?;
    Ok(keyless_sign::SignedBundle {
        bundle: signed.bundle,
        chain: Vec::new(),
        signature: signed.signature,
        log_index: signed.log_index,
        identity: String::new(),
        issuer: String::new(),
    })
}
