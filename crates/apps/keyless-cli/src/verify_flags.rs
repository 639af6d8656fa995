//! cosign's verification switches that are not about the identity:
//! `--insecure-ignore-tlog`, `--insecure-ignore-sct`, `--offline`,
//! `--new-bundle-format`, `--rekor-url`, and `--output`.

use keyless_verify::VerifierOptions;

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
