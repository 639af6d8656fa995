//! cosign's verification switches that are not about the identity:
//! `--insecure-ignore-tlog`, `--insecure-ignore-sct`, `--offline`,
//! `--new-bundle-format`, `--rekor-url`, and `--output`; and keyless's
//! `--witness-policy` ([`witness_check`]).

use keyless_verify::VerifierOptions;

pub mod witness_check;

/// How `verify` / `verify-attestation` print what verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The verified payloads as one JSON array on stdout (cosign's output).
    #[default]
    Json,
    /// One line per verified payload on stdout, for people.
    Text,
}

#[derive(Debug, Default, Clone, clap::Args)]
pub struct VerifyFlags {
    /// Accept signatures with no transparency log entry (e.g. made with
    /// `--tlog-upload=false`). Dangerous: nobody can audit such a signature.
    #[arg(long)]
    pub insecure_ignore_tlog: bool,
    #[command(flatten)]
    pub extra: ExtraVerifyFlags,
}

/// The flags of [`VerifyFlags`] other than `--insecure-ignore-tlog`, for
/// commands that have that one already.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ExtraVerifyFlags {
    /// Do not require an SCT in the signing certificate (private CAs without
    /// a CT log). Dangerous: a mis-issued certificate would go unnoticed.
    #[arg(long)]
    pub insecure_ignore_sct: bool,
    /// Accepted for cosign compatibility: keyless verification is always
    /// offline (the log's evidence is checked from the bundle, never fetched).
    #[arg(long)]
    pub offline: bool,
    /// Accepted for cosign compatibility: both bundle formats are always read.
    #[arg(
        long,
        value_name = "BOOL",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub new_bundle_format: Option<bool>,
    /// The Rekor log the evidence must come from. With
    /// SIGSTORE_REKOR_PUBLIC_KEY it names that key's log; otherwise the
    /// trusted root decides which logs count and this is only noted.
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// A C2SP tlog-policy file (log/witness/group/quorum lines): every log
    /// entry must be covered by a checkpoint this witness quorum cosigned.
    /// The log's latest checkpoint and a consistency proof to it are
    /// fetched from the trusted root's log URL. Without it, the trust
    /// config's "witnessPolicy" applies, if any; else cosignatures are
    /// ignored.
    #[arg(long, value_name = "FILE")]
    pub witness_policy: Option<std::path::PathBuf>,
}

impl VerifyFlags {
    /// Verifier options: the safe defaults, weakened only as asked (and
    /// said so on stderr).
    pub fn options(&self) -> VerifierOptions {
        let mut options = VerifierOptions::default();
        if self.insecure_ignore_tlog {
            eprintln!(
                "WARNING: --insecure-ignore-tlog: signatures without a transparency log entry are accepted"
            );
            options = options.danger_allow_no_tlog_entries();
        }
        self.extra.apply(options)
    }

    /// verify's `--rekor-url`.
    pub fn rekor_url(&self) -> Option<&str> {
        self.extra.rekor_url.as_deref()
    }
}

impl ExtraVerifyFlags {
    /// `options`, weakened as these flags ask (and said so on stderr).
    pub fn apply(&self, mut options: VerifierOptions) -> VerifierOptions {
        if self.insecure_ignore_sct {
            eprintln!("WARNING: --insecure-ignore-sct: certificates without an SCT are accepted");
            options = options.danger_disable_sct_check();
        }
        if self.rekor_url.is_some()
            && std::env::var_os(crate::cosign_env::REKOR_PUBLIC_KEY).is_none()
        {
            eprintln!(
                "Note: --rekor-url is not used to fetch anything: log entries are checked offline against the \
                 logs of the trusted root"
            );
        }
        options
    }
}

impl ExtraVerifyFlags {
    /// The witness policy to enforce (see [`witness_check`]);
    /// `--offline` with a policy is refused, as it cannot be checked offline.
    pub fn witness_policy(
        &self,
        args: &crate::instance::InstanceArgs,
        trust: &keyless_verify::TrustMaterial,
    ) -> anyhow::Result<Option<witness_check::Enforcer>> {
        let policy =
            witness_check::load(self.witness_policy.as_deref(), args.trust_config.as_ref())?;
        if policy.is_some() && self.offline {
            anyhow::bail!(
                "--offline cannot be used with a witness policy: its cosigned checkpoint is fetched from the log"
            );
        }
        Ok(policy.map(|policy| witness_check::Enforcer {
            policy,
            trust: trust.clone(),
        }))
    }
}

/// One line for `--output text`: what a verified payload says.
pub fn text_line(payload: &serde_json::Value) -> String {
    if let Some(image) = payload["critical"]["image"]["docker-manifest-digest"].as_str() {
        let reference = payload["critical"]["identity"]["docker-reference"]
            .as_str()
            .unwrap_or_default();
        let optional = match payload["optional"].as_object() {
            Some(o) if !o.is_empty() => format!(" {}", serde_json::Value::Object(o.clone())),
            _ => String::new(),
        };
        return format!("signature: {reference}@{image}{optional}");
    }
    match payload["predicateType"].as_str() {
        Some(t) => format!("attestation: {t}"),
        None => payload.to_string(),
    }
}
