//! The stack's TUF repository: keys and state in `DATA/tuf-repo` (0600),
//! the published static repository in `DATA/tuf`, holding the stack's
//! `trusted_root.json` and `signing_config.v0.2.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use keyless_tuf::repo::{Repository, RepositoryBuilder};

/// Create the repository on first start, (re)add the current targets,
/// sign and publish; returns the published directory.
pub fn publish_stack_repo(data_dir: &Path) -> Result<PathBuf> {
    let state = data_dir.join("tuf-repo");
    let out = data_dir.join("tuf");
    let mut repo = if state.join("state.json").is_file() {
        Repository::open(&state).context("opening the stack's TUF repository")?
    } else {
        RepositoryBuilder::new()
            .build()
            .context("creating the stack's TUF repository")?
    };
    let trusted_root = std::fs::read(data_dir.join("trusted_root.json"))?;
    let signing_config = std::fs::read(data_dir.join("signing_config.json"))?;
    repo.add_target("trusted_root.json", &trusted_root)?;
    repo.add_target("signing_config.v0.2.json", &signing_config)?;
    repo.sign()?;
    repo.save(&state)?;
    repo.publish(&out)?;
    Ok(out)
}
