//! `keyless triangulate IMAGE`: where cosign stores what is attached to an
//! image (`repo:sha256-<hex>.sig`, `.att`, `.sbom`), as `cosign
//! triangulate` prints it. A tag is resolved to its digest first (one
//! manifest HEAD request); nothing else is read.

use anyhow::Result;
use keyless_oci::cosign::{attestation_tag, sbom_tag, signature_tag};

use crate::registry::{parse, RegistryArgs};
use crate::signing::runtime;

/// What to locate.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AttachmentType {
    /// The `.sig` tag holding cosign's classic signatures.
    Signature,
    /// The `.att` tag holding attestations.
    Attestation,
    /// The `.sbom` tag holding SBOMs attached with `cosign attach sbom`.
    Sbom,
    /// The image itself, pinned by digest (`repo@sha256:<hex>`).
    Digest,
}

#[derive(Debug, clap::Args)]
pub struct Triangulate {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Which attachment to locate.
    #[arg(long = "type", value_enum, default_value = "signature")]
    pub kind: AttachmentType,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

impl Triangulate {
    pub fn run(&self) -> Result<i32> {
        let reference = parse(&self.image)?;
        let digest = match reference.digest() {
            Some(d) => d.clone(),
            None => runtime()?.block_on(async {
                let client = self.registry.client()?;
                anyhow::Ok(client.resolve_digest(&reference).await?)
            })?,
        };
        let repo = reference.repository();
        let located = match self.kind {
            AttachmentType::Signature => repo.tag(&signature_tag(&digest))?,
            AttachmentType::Attestation => repo.tag(&attestation_tag(&digest))?,
            AttachmentType::Sbom => repo.tag(&sbom_tag(&digest))?,
            AttachmentType::Digest => repo.digest(digest),
        };
        println!("{located}");
        Ok(crate::exit::OK)
    }
}
