//! `keyless log get|search|checkpoint`: read a log's entries and
//! checkpoint, with inclusion proofs and checkpoint signatures checked
//! (keyless_monitor::read), printed as text or JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use keyless_monitor::read::{self, VerifiedEntry};
use keyless_monitor::Fetcher;
use keyless_tlog::NoteVerifier;
use serde_json::json;

use crate::instance::InstanceArgs;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// Flags every read shares: which log, and the key its checkpoints must verify with.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The log's base URL.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The log's public key (PEM), instead of the trusted root's.
    #[arg(long, value_name = "FILE")]
    pub log_public_key: Option<PathBuf>,
    /// text, or json (one object per entry).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

impl LogArgs {
    fn open(&self) -> Result<(Fetcher, keyless_tlog::NoteVerifier)> {
        let verifier = log_verifier(&self.url, self.log_public_key.as_deref(), &self.instance)?;
        Ok((Fetcher::new(&self.url)?, verifier))
    }
}

fn print_entry(e: &VerifiedEntry, output: Output) -> Result<()> {
    if output == Output::Json {
        println!("{}", serde_json::to_string(e)?);
        return Ok(());
    }
    println!("UUID: {}", e.uuid);
    println!("Log index: {}", e.log_index);
    println!("Kind: {} {}", e.info.kind, e.info.api_version);
    match e.integrated_time {
        Some(t) => println!(
            "Integrated time: {} ({t})",
            keyless_types::time::format_rfc3339(t)
        ),
        None => println!("Integrated time: not served by this log (tiles only)"),
    }
    if let Some(c) = &e.info.certificate {
        if !c.subject.is_empty() {
            // Fulcio certificates have an empty subject; the SAN names the signer.
            println!("Certificate subject: {}", c.subject);
        }
        println!("Certificate issuer: {}", c.issuer_dn);
        for id in &c.identities {
            println!("Identity: {id}");
        }
        if let Some(iss) = &c.oidc_issuer {
            println!("OIDC issuer: {iss}");
        }
    } else if let Some(k) = &e.info.key_sha256 {
        println!("Public key: sha256:{k}");
    }
    if let Some(d) = &e.info.digest {
        println!("Digest: {d}");
    }
    if e.proof_verified {
        println!(
            "Inclusion: proof verified against checkpoint {} (root {}), checkpoint signature verified",
            e.checkpoint_size, e.checkpoint_root
        );
    }
    println!();
    Ok(())
}

/// `keyless log get`.
pub fn get(args: &LogArgs, index: Option<u64>, uuid: Option<&str>) -> Result<i32> {
    let (fetch, verifier) = args.open()?;
    let rt = crate::signing::runtime()?;
    let entry = rt.block_on(async {
        match (index, uuid) {
            (Some(i), _) => read::by_index(&fetch, i, &verifier).await,
            (None, Some(u)) => read::by_uuid(&fetch, u, &verifier).await,
            (None, None) => Err(read::ReadError::Malformed("give --index or --uuid".into())),
        }
    })?;
    print_entry(&entry, args.output)?;
    Ok(crate::exit::OK)
}

/// `keyless log search`.
pub fn search(
    args: &LogArgs,
    sha256: Option<&str>,
    email: Option<&str>,
    public_key: Option<&Path>,
) -> Result<i32> {
    let query = if let Some(h) = sha256 {
        let h = h.strip_prefix("sha256:").unwrap_or(h).to_ascii_lowercase();
        anyhow::ensure!(
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
            "--sha256 takes 64 hex characters"
        );
        json!({ "hash": format!("sha256:{h}") })
    } else if let Some(e) = email {
        json!({ "email": e })
    } else if let Some(p) = public_key {
        let pem = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        anyhow::ensure!(
            pem.len() <= 64 * 1024,
            "{} is too large for a key",
            p.display()
        );
        let content = base64::engine::general_purpose::STANDARD.encode(pem);
        json!({ "publicKey": { "format": "x509", "content": content } })
    } else {
        anyhow::bail!("give --sha256, --email or --public-key");
    };
    let (fetch, verifier) = args.open()?;
    let rt = crate::signing::runtime()?;
    let entries = rt.block_on(async {
        let mut out = Vec::new();
        for uuid in read::search(&fetch, &query).await? {
            out.push(read::by_uuid(&fetch, &uuid, &verifier).await?);
        }
        Ok::<_, read::ReadError>(out)
    })?;
    if entries.is_empty() && args.output == Output::Text {
        eprintln!("No matching entries");
    }
    for e in &entries {
        print_entry(e, args.output)?;
    }
    Ok(crate::exit::OK)
}

/// `keyless log checkpoint`.
pub fn checkpoint(args: &LogArgs) -> Result<i32> {
    let (fetch, verifier) = args.open()?;
    let rt = crate::signing::runtime()?;
    let (cp, note) = rt.block_on(read::checkpoint(&fetch, &verifier))?;
    let root = hex::encode(cp.root_hash);
    if args.output == Output::Json {
        let v = json!({"origin": cp.origin, "size": cp.size, "rootHash": root, "signatureVerified": true, "note": note});
        println!("{v}");
    } else {
        println!("Origin: {}", cp.origin);
        println!("Tree size: {}", cp.size);
        println!("Root hash: {root}");
        println!("Signature: verified");
    }
    Ok(crate::exit::OK)
}

/// The verifier of a log's checkpoints: `--log-public-key` (any origin),
/// else the trusted root's entry for `url` (its origin and key).
pub fn log_verifier(
    url: &str,
    log_public_key: Option<&std::path::Path>,
    instance: &InstanceArgs,
) -> Result<NoteVerifier> {
    if let Some(path) = log_public_key {
        let pem =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let key = keyless_crypto::PublicKey::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM public key", path.display()))?;
        return NoteVerifier::any_name(key).context("the log's key cannot verify checkpoints");
    }
    let trust = instance.resolve()?.trust;
    let base = url.trim_end_matches('/');
    let log = trust
        .tlogs
        .iter()
        .find(|l| l.base_url.trim_end_matches('/') == base)
        .with_context(|| {
            format!("{url} is not a transparency log in the trusted root (give --log-public-key)")
        })?;
    NoteVerifier::new(&log.origin, log.key.clone())
        .context("the log's key cannot verify checkpoints")
}
