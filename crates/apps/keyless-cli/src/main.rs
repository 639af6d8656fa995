//! `keyless`: keyless signing and verification in the style of cosign.

use clap::{CommandFactory, Parser, Subcommand};
use keyless_cli::commands;

/// mimalloc rather than glibc malloc: the append path allocates per
/// request, and glibc's allocator was ~6 % of the log's CPU in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Sign and verify artifacts without long-lived keys (Sigstore-compatible)"
)]
struct Cli {
    /// PEM file of CA certificates that every HTTPS client of the command
    /// (CA, log, TSA, OIDC, TUF, registry) trusts on top of the system's
    /// roots: for an instance with a private PKI.
    #[arg(long, global = true, value_name = "FILE")]
    ca_bundle: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a container image keylessly (signature stored in the registry, as cosign does).
    Sign(commands::image::Sign),
    /// Attest to a container image with an in-toto predicate.
    Attest(commands::image::Attest),
    /// Attest to a file with an in-toto predicate, into a bundle.
    AttestBlob(commands::image::AttestBlob),
    /// Verify a container image's signatures against an identity.
    Verify(commands::verify_image::VerifyImage),
    /// Verify a container image's attestations against an identity.
    VerifyAttestation(commands::verify_image::VerifyAttestation),
    /// Show the signatures, attestations and SBOMs attached to an image (as cosign tree).
    Tree(commands::tree::Tree),
    /// Print the signatures or attestations stored for an image as JSON lines (as cosign download).
    #[command(subcommand)]
    Download(commands::download::Download),
    /// Print where an image's signatures, attestations or SBOMs are stored (as cosign triangulate).
    Triangulate(commands::triangulate::Triangulate),
    /// Sign a blob keylessly into a Sigstore bundle.
    SignBlob(commands::sign_blob::SignBlob),
    /// Run the servers: the whole local stack (--dev) or one service.
    Server(commands::server::Server),
    /// Transparency log tools (consistency between checkpoints).
    #[command(subcommand)]
    Log(commands::log::LogCommand),
    /// Follow a transparency log and report entries by an identity or key (exit 3: the log forked).
    Monitor(commands::monitor::Monitor),
    /// Print an identity token from the local stack's development OIDC issuer.
    DevToken(commands::dev_token::DevToken),
    /// Run a C2SP tlog-witness that cosigns the checkpoints of the configured logs.
    Witness(commands::witness::Witness),
    /// Trust a TUF repository's root and cache its trusted root (like `cosign initialize`).
    Initialize(commands::tuf::Initialize),
    /// Maintain a TUF repository for a private instance.
    #[command(subcommand)]
    Tuf(commands::tuf::TufCommand),
    /// Verify a blob (file or digest) against a Sigstore bundle.
    VerifyBlob(commands::verify_blob::VerifyBlob),
    /// Verify many bundles from a JSON-lines manifest, on every core, with one trusted-root load.
    VerifyBundles(commands::verify_bundles::VerifyBundles),
    /// Verify a file's in-toto attestation bundle against an identity and a predicate type.
    VerifyBlobAttestation(commands::verify_blob_attestation::VerifyBlobAttestation),
    /// Generate a key pair in cosign's format (cosign.key, encrypted, and cosign.pub).
    GenerateKeyPair(commands::keys::GenerateKeyPair),
    /// Import a PEM private key (EC, RSA or Ed25519) into cosign's encrypted format.
    ImportKeyPair(commands::keys::ImportKeyPair),
    /// Print the public key of a cosign private key.
    PublicKey(commands::keys::PublicKey),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completion(commands::completion::Completion),
    /// Write manual pages, one per command, to a directory.
    Man(commands::completion::Man),
}

fn main() {
    // `keyless server --config FILE`: the file's values become flags.
    let args = keyless_cli::commands::server_config::with_config_file(
        &Cli::command(),
        std::env::args_os().collect(),
    )
    .unwrap_or_else(|e| std::process::exit(keyless_cli::report_error(&e)));
    let cli = Cli::parse_from(args);
    // Before any thread or client exists: it sets a process variable.
    if let Some(path) = &cli.ca_bundle {
        if let Err(e) = keyless_cli::ca_bundle::install(path) {
            std::process::exit(keyless_cli::report_error(&e));
        }
    }
    let code = match &cli.command {
        Command::SignBlob(c) => c.run(),
        Command::Sign(c) => c.run(),
        Command::Attest(c) => c.run(),
        Command::AttestBlob(c) => c.run(),
        Command::Verify(c) => c.run(),
        Command::VerifyAttestation(c) => c.run(),
        Command::Tree(c) => c.run(),
        Command::Download(c) => c.run(),
        Command::Triangulate(c) => c.run(),
        Command::VerifyBlob(c) => c.run(),
        Command::VerifyBundles(c) => c.run(),
        Command::VerifyBlobAttestation(c) => c.run(),
        Command::Initialize(c) => c.run(),
        Command::Server(c) => c.run(),
        Command::DevToken(c) => c.run(),
        Command::Witness(c) => c.run(),
        Command::Log(c) => c.run(),
        Command::Monitor(c) => c.run(),
        Command::Tuf(c) => c.run(),
        Command::GenerateKeyPair(c) => c.run(),
        Command::ImportKeyPair(c) => c.run(),
        Command::PublicKey(c) => c.run(),
        Command::Completion(c) => c.run(Cli::command()),
        Command::Man(c) => c.run(Cli::command()),
    };
    std::process::exit(match code {
        Ok(code) => code,
        Err(e) => keyless_cli::report_error(&e),
    });
}
