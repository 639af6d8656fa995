//! `keyless verify-bundles`: verify many bundles against one trusted root,
//! on every core. The trusted root is loaded and parsed once; each bundle
//! is then an independent verification, so a manifest of thousands costs
//! what the signatures cost, not thousands of root loads.
//!
//! The manifest is JSON lines, one bundle per line:
//!
//! ```text
//! {"bundle": "a.sigstore.json", "artifact": "a.txt", "identity": "...", "issuer": "..."}
//! {"bundle": "b.sigstore.json", "artifact": "sha256:<hex>"}
//! ```
//!
//! Relative paths are taken from the manifest's directory. `identity` and
//! `issuer` (exact matches) name the expected signer for that line; a line
//! without them uses the policy flags, and a line with neither fails: no
//! bundle is ever verified without a policy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use keyless_verify::{Artifact, Identity, Matcher, Policy, Verifier, VerifierOptions};

use crate::exit;
use crate::instance::InstanceArgs;
use crate::verify_args::PolicyArgs;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes:\n   0  every bundle verified\n   1  a bundle failed, or the manifest could not be read\n  11  unusable trusted root"
)]
pub struct VerifyBundles {
    /// JSON lines: {"bundle": PATH, "artifact": PATH or sha256:HEX,
    /// "identity": ID, "issuer": URL}; identity and issuer may come from
    /// the flags instead, for every line that does not name them.
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// A C2SP tlog-policy file every bundle's log entries must satisfy,
    /// as `verify-blob --witness-policy` (without it, the trust config's
    /// "witnessPolicy", if any).
    #[arg(long, value_name = "FILE")]
    pub witness_policy: Option<PathBuf>,
}

/// One manifest line, as read.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    bundle: String,
    artifact: String,
    identity: Option<String>,
    issuer: Option<String>,
}

/// A line's verdict: `Ok` with the signer, or the reason it failed.
type Verdict = std::result::Result<String, String>;

impl VerifyBundles {
    /// Returns the exit code.
    pub fn run(&self) -> Result<i32> {
        let text = std::fs::read_to_string(&self.manifest)
            .with_context(|| format!("reading manifest {}", self.manifest.display()))?;
        let base = self
            .manifest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        // The flags' policy, when the flags name one; lines may override it.
        let flags_given = self.policy.key.is_some()
            || self.policy.certificate_identity.is_some()
            || self.policy.certificate_identity_regexp.is_some()
            || self.policy.certificate_oidc_issuer.is_some()
            || self.policy.certificate_oidc_issuer_regexp.is_some();
        let default_policy = if flags_given {
            Some(self.policy.policy()?)
        } else {
            None
        };
        let instance = match self.instance.resolve() {
            Ok(i) => i,
            Err(e) => return Ok(e.report()),
        };
        let witness = crate::verify_flags::witness_check::load(
            self.witness_policy.as_deref(),
            self.instance.trust_config.as_ref(),
        )?
        .map(|policy| crate::verify_flags::witness_check::Enforcer {
            policy,
            trust: instance.trust.clone(),
        });
        let verifier = Verifier::new(instance.trust, VerifierOptions::default());

        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty())
            .collect();
        if lines.is_empty() {
            bail!("manifest {} lists no bundles", self.manifest.display());
        }
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, lines.len());

        let start = Instant::now();
        let verdicts: Vec<Mutex<Option<Verdict>>> =
            lines.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, line)) = lines.get(i) else { break };
                    let v = verify_line(line, &base, default_policy.as_ref(), &verifier)
                        .and_then(|signer| witnessed(line, &base, witness.as_ref(), signer));
                    if let Ok(mut slot) = verdicts[i].lock() {
                        *slot = Some(v);
                    }
                });
            }
        });
        let elapsed = start.elapsed();

        let mut failed = 0usize;
        for ((number, line), slot) in lines.iter().zip(verdicts) {
            // A worker that did not record a verdict (it panicked) is a failure.
            let verdict = slot
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err("not verified (worker failed)".into()));
            let name = bundle_name(line);
            match verdict {
                Ok(signer) => println!("OK   {number}: {name} ({signer})"),
                Err(reason) => {
                    failed += 1;
                    println!("FAIL {number}: {name}: {reason}");
                }
            }
        }
        let total = lines.len();
        eprintln!(
            "{} verified, {failed} failed, of {total} bundles in {:.3} s ({:.0} bundles/s on {jobs} threads)",
            total - failed,
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64().max(1e-9)
        );
        Ok(if failed == 0 { exit::OK } else { exit::FAILURE })
    }
}

/// A verified line's verdict once the witness policy (if any) is checked.
fn witnessed(
    line: &str,
    base: &Path,
    witness: Option<&crate::verify_flags::witness_check::Enforcer>,
    signer: String,
) -> Verdict {
    let Some(witness) = witness else {
        return Ok(signer);
    };
    let line: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let bundle = std::fs::read(base.join(&line.bundle))
        .map_err(|e| format!("reading bundle {}: {e}", line.bundle))?;
    keyless_types::bundle::Bundle::from_json(&bundle)
        .map_err(|e| crate::error_chain(&e))
        .and_then(|b| {
            witness.try_check(&b).map_err(|e| {
                format!(
                    "{} [exit code of verify-blob: {}]",
                    crate::error_chain(e.as_ref()),
                    exit::for_kind(keyless_verify::ErrorKind::Checkpoint)
                )
            })
        })
        .map(|_| signer)
}

/// The bundle path of a line, for the report (the raw line if unreadable).
fn bundle_name(line: &str) -> String {
    serde_json::from_str::<Line>(line)
        .map(|l| l.bundle)
        .unwrap_or_else(|_| line.chars().take(80).collect())
}

fn verify_line(
    line: &str,
    base: &Path,
    default_policy: Option<&Policy>,
    verifier: &Verifier,
) -> Verdict {
    let line: Line =
        serde_json::from_str(line).map_err(|e| format!("manifest line is not valid: {e}"))?;
    let policy = match (&line.identity, &line.issuer, default_policy) {
        (Some(id), Some(iss), _) => Policy::identity(Identity::new(Matcher::exact(id), Matcher::exact(iss))),
        (None, None, Some(p)) => p.clone(),
        (None, None, None) => {
            return Err("no policy: give identity and issuer on the line, or the --certificate-identity/--certificate-oidc-issuer or --key flags".into())
        }
        // Half a policy on the line would silently borrow the other half
        // from the flags; refuse rather than guess.
        _ => return Err("the line names only one of identity and issuer; give both".into()),
    };
    let bundle_path = base.join(&line.bundle);
    let bundle = std::fs::read(&bundle_path)
        .map_err(|e| format!("reading bundle {}: {e}", bundle_path.display()))?;
    let artifact = match Artifact::from_arg(&line.artifact) {
        Artifact::File(p) => Artifact::File(base.join(p)),
        other => other,
    };
    match verifier.verify_json(&bundle, &artifact, &policy) {
        Ok(result) => Ok(match &result.identity {
            Some(id) => format!(
                "{} from {}",
                id.sans.join(", "),
                id.issuer.as_deref().unwrap_or("(no issuer)")
            ),
            None => "key".into(),
        }),
        Err(e) => Err(format!(
            "{e} [exit code of verify-blob: {}]",
            exit::for_kind(e.kind())
        )),
    }
}
