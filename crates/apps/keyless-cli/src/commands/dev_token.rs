//! `keyless dev-token`: print a fresh identity token from a local stack's
//! development OIDC issuer (audience `sigstore`), and nothing else.

use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct DevToken {
    /// The data directory of `keyless server --dev`.
    #[arg(long, value_name = "DIR", default_value = ".keyless-dev")]
    pub data_dir: PathBuf,
    /// The email address (and subject) the token names.
    #[arg(long, value_name = "EMAIL")]
    pub subject: Option<String>,
    /// A configured test identity instead of an email user (e.g. github, gitlab, buildkite).
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
}

impl DevToken {
    pub fn run(&self) -> Result<i32> {
        let opts = keyless_oidc_dev::MintOptions {
            identity: self.identity.clone(),
            subject: self.subject.clone(),
            ..Default::default()
        };
        let token = keyless_oidc_dev::mint_token(&self.data_dir.join("oidc"), None, &opts)
            .with_context(|| {
                format!(
                    "minting a token from the dev issuer in {}",
                    self.data_dir.display()
                )
            })?;
        println!("{token}");
        Ok(crate::exit::OK)
    }
}
