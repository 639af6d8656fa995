//! cosign's `sign`/`attest` flags for images: outputs, payload annotations,
//! image indexes, and which storage layout to write.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use base64::Engine;

/// cosign's `--registry-referrers-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReferrersMode {
    /// The classic `sha256-<hex>.sig` / `.att` tag layout.
    Legacy,
    /// An OCI 1.1 referrer holding the Sigstore bundle (referrers tag
    /// schema where the registry has no referrers API).
    #[value(name = "oci-1-1")]
    Oci11,
}

/// Which layouts a signature is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Both: cosign v2 and older verifiers read the tag, cosign v3 and
    /// Sigstore-bundle tools the referrer. The default.
    Both,
    /// The classic tag layout only (`--new-bundle-format=false` or
    /// `--registry-referrers-mode legacy`).
    Classic,
    /// The bundle referrer only (`--new-bundle-format` or
    /// `--registry-referrers-mode oci-1-1`), as cosign v3 stores it.
    Referrer,
}

impl Layout {
    pub fn classic(self) -> bool {
        matches!(self, Self::Both | Self::Classic)
    }
    pub fn referrer(self) -> bool {
        matches!(self, Self::Both | Self::Referrer)
    }
}

#[derive(Debug, Default, Clone, clap::Args)]
pub struct ImageSignFlags {
    /// Write the signing certificate (PEM) here.
    #[arg(long, value_name = "FILE")]
    pub output_certificate: Option<PathBuf>,
    /// Write the signature (base64) here.
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,
    /// Also sign every platform manifest of an image index.
    #[arg(long)]
    pub recursive: bool,
    /// Where the signature is stored: `legacy` (the `.sig`/`.att` tag) or
    /// `oci-1-1` (a Sigstore bundle referrer). Without this and without
    /// --new-bundle-format, keyless writes both, so cosign v2 and v3 (and
    /// keyless) all find it.
    #[arg(long, value_name = "MODE", value_enum)]
    pub registry_referrers_mode: Option<ReferrersMode>,
    /// `true`: store only the Sigstore bundle referrer (cosign v3's
    /// layout); `false`: only the classic `.sig`/`.att` tag layout (cosign
    /// v2's). Default: both.
    #[arg(
        long,
        value_name = "BOOL",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub new_bundle_format: Option<bool>,
}

impl ImageSignFlags {
    /// The layout the flags select.
    pub fn layout(&self) -> Result<Layout> {
        Ok(match (self.new_bundle_format, self.registry_referrers_mode) {
            (None, None) => Layout::Both,
            (Some(false), Some(ReferrersMode::Oci11)) => bail!(
                "--new-bundle-format=false stores the classic .sig layout, which keyless writes only as a tag; \
                 it cannot be combined with --registry-referrers-mode oci-1-1"
            ),
            (Some(false), _) | (None, Some(ReferrersMode::Legacy)) => Layout::Classic,
            (Some(true), _) | (None, Some(ReferrersMode::Oci11)) => Layout::Referrer,
        })
    }

    /// Write `--output-certificate` and `--output-signature`. `leaf_der`
    /// is `None` when a key signed (`--key`): there is no certificate.
    pub fn write_outputs(&self, leaf_der: Option<&[u8]>, signature: &[u8]) -> Result<()> {
        if let Some(p) = &self.output_certificate {
            let leaf_der = leaf_der
                .context("--output-certificate: signing with --key makes no certificate")?;
            std::fs::write(p, keyless_sign::http::certificate_pem(leaf_der))
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Wrote certificate to file {}", p.display());
        }
        if let Some(p) = &self.output_signature {
            std::fs::write(
                p,
                base64::engine::general_purpose::STANDARD.encode(signature),
            )
            .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Wrote signature to file {}", p.display());
        }
        Ok(())
    }
}

/// `-a/--annotations k=v`, as cosign parses them: split at the first `=`.
pub fn parse_annotations(given: &[String]) -> Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("annotation {a:?} is not KEY=VALUE"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(nbf: Option<bool>, mode: Option<ReferrersMode>) -> ImageSignFlags {
        ImageSignFlags {
            new_bundle_format: nbf,
            registry_referrers_mode: mode,
            ..Default::default()
        }
    }

    #[test]
    fn layouts() {
        assert_eq!(flags(None, None).layout().ok(), Some(Layout::Both));
        assert_eq!(
            flags(Some(false), None).layout().ok(),
            Some(Layout::Classic)
        );
        assert_eq!(
            flags(Some(true), None).layout().ok(),
            Some(Layout::Referrer)
        );
        assert_eq!(
            flags(None, Some(ReferrersMode::Legacy)).layout().ok(),
            Some(Layout::Classic)
        );
        assert_eq!(
            flags(None, Some(ReferrersMode::Oci11)).layout().ok(),
            Some(Layout::Referrer)
        );
        assert!(flags(Some(false), Some(ReferrersMode::Oci11))
            .layout()
            .is_err());
    }

    #[test]
    fn annotations_split_at_the_first_equals() {
        let got = parse_annotations(&["a=b=c".into(), "k=".into()]).expect("parse");
        assert_eq!(
            got,
            vec![("a".into(), "b=c".into()), ("k".into(), String::new())]
        );
        assert!(parse_annotations(&["novalue".into()]).is_err());
        assert!(parse_annotations(&["=v".into()]).is_err());
    }
}
