//! `keyless-conformance`: the sigstore-conformance client protocol
//! (sigstore-conformance `docs/cli_protocol.md`), so the upstream suite and
//! our own test can drive keyless exactly as they drive other clients.
//!
//! ```text
//! keyless-conformance verify-bundle [--staging] --bundle B --certificate-identity ID --certificate-oidc-issuer URL [--trusted-root TR] FILE_OR_DIGEST
//! keyless-conformance verify-bundle [--staging] --bundle B --key KEY.pem [--trusted-root TR] FILE_OR_DIGEST
//! keyless-conformance sign-bundle   [--staging] [--in-toto] --identity-token JWT --bundle OUT [--trusted-root TR] [--signing-config SC] FILE
//! ```
//! Exit code 0 is success; anything else is failure (the codes are those
//! of `keyless verify-blob`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use keyless_cli::commands::verify_blob::VerifyBlob;
use keyless_cli::exit;
use keyless_cli::instance::{InstanceArgs, ServiceArgs};
use keyless_cli::signing::{runtime, SignArgs};
use keyless_cli::verify_args::PolicyArgs;
use keyless_sign::Artifact;

#[derive(Debug, Parser)]
#[command(
    name = "keyless-conformance",
    about = "sigstore-conformance client protocol entry point for keyless"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a bundle (identity or key policy).
    VerifyBundle {
        /// Use the staging instance's trust.
        #[arg(long)]
        staging: bool,
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        certificate_identity: Option<String>,
        #[arg(long)]
        certificate_oidc_issuer: Option<String>,
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long)]
        trusted_root: Option<PathBuf>,
        artifact: String,
    },
    /// Sign a file into a bundle.
    SignBundle {
        #[arg(long)]
        staging: bool,
        #[arg(long)]
        in_toto: bool,
        #[arg(long)]
        identity_token: String,
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        trusted_root: Option<PathBuf>,
        #[arg(long)]
        signing_config: Option<PathBuf>,
        file: PathBuf,
    },
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::VerifyBundle {
            staging,
            bundle,
            certificate_identity,
            certificate_oidc_issuer,
            key,
            trusted_root,
            artifact,
        } => {
            if staging && trusted_root.is_none() {
                bail!("--staging needs --trusted-root: keyless embeds only the production trusted root");
            }
            let cmd = VerifyBlob {
                bundle: Some(bundle),
                certificate: None,
                certificate_chain: None,
                signature: None,
                rfc3161_timestamp: None,
                flags: Default::default(),
                policy: PolicyArgs {
                    certificate_identity,
                    certificate_oidc_issuer,
                    key,
                    ..Default::default()
                },
                // Only the given root (or the embedded one): the harness must
                // not pick up a trust config from the environment.
                instance: InstanceArgs {
                    trusted_root,
                    trust_config: None,
                    builtin_only: true,
                },
                artifact,
            };
            cmd.run()
        }
        Command::SignBundle {
            staging,
            in_toto,
            identity_token,
            bundle,
            trusted_root,
            signing_config,
            file,
        } => {
            if staging && (trusted_root.is_none() || signing_config.is_none()) {
                bail!("--staging needs --trusted-root and --signing-config: keyless embeds only the production instance");
            }
            let args = SignArgs {
                identity_token: Some(identity_token),
                key: None,
                yes: true,
                tlog_upload: true,
                oidc: Default::default(),
                services: ServiceArgs {
                    signing_config,
                    ..Default::default()
                },
                instance: InstanceArgs {
                    trusted_root,
                    trust_config: None,
                    builtin_only: true,
                },
            };
            let artifact = if in_toto {
                let payload =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                Artifact::Dsse {
                    payload_type: keyless_types::intoto::PAYLOAD_TYPE.into(),
                    payload,
                }
            } else {
                Artifact::Digest(keyless_cli::hashing::sha256_file(&file)?)
            };
            let (instance, endpoints) = args.prepare()?;
            let signed = runtime()?.block_on(args.sign(&instance, &endpoints, &artifact))?;
            std::fs::write(&bundle, keyless_sign::bundle_json(&signed.bundle)?)
                .with_context(|| format!("writing {}", bundle.display()))?;
            Ok(exit::OK)
        }
    }
}

fn main() {
    let code = run(Cli::parse()).unwrap_or_else(|e| keyless_cli::report_error(&e));
    std::process::exit(code);
}
