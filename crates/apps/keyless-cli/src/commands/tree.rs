//! `keyless tree IMAGE`: what is attached to an image, printed as
//! `cosign tree` prints it (signatures, attestations and SBOMs under
//! cosign's tags, then OCI referrers by artifact type), layer digests only.
//! Reads manifests, never layer contents, within the read limits.

use anyhow::Result;
use keyless_oci::attachments::TaggedAttachment;
use keyless_oci::Descriptor;

use crate::registry::{parse, ReadLimitArgs, RegistryArgs};
use crate::signing::runtime;

#[derive(Debug, clap::Args)]
pub struct Tree {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub limits: ReadLimitArgs,
}

/// cosign's tree branches, layer by layer.
fn layers(out: &mut String, layers: &[Descriptor]) {
    for (i, l) in layers.iter().enumerate() {
        let sym = if i + 1 == layers.len() {
            "   └──"
        } else {
            "   ├──"
        };
        out.push_str(&format!("{sym} 🍒 {}\n", l.digest));
    }
}

fn tagged(out: &mut String, title: &str, a: &Option<TaggedAttachment>) {
    if let Some(a) = a {
        out.push_str(&format!("└── {title} for an image tag: {}\n", a.tag));
        layers(out, &a.layers);
    }
}

impl Tree {
    pub fn run(&self) -> Result<i32> {
        let reference = parse(&self.image)?;
        let found = runtime()?.block_on(async {
            let client = self.limits.client(&self.registry)?;
            anyhow::Ok(client.attachments(&reference).await?)
        })?;
        let mut out =
            format!("📦 Supply Chain Security Related artifacts for an image: {reference}\n");
        if found.is_empty() {
            out.push_str(&format!(
                "No Supply Chain Security Related Artifacts found for image {reference},\n \
                 start creating one with simply running $ keyless sign <img>\n"
            ));
        }
        tagged(&mut out, "💾 Attestations", &found.attestations);
        tagged(&mut out, "🔐 Signatures", &found.signatures);
        tagged(&mut out, "📦 SBOMs", &found.sboms);
        for r in &found.referrers {
            out.push_str(&format!(
                "└── 🔗 {} artifacts via OCI referrer: {}\n",
                r.artifact_type, r.manifest
            ));
            layers(&mut out, &r.layers);
        }
        print!("{out}");
        Ok(crate::exit::OK)
    }
}
