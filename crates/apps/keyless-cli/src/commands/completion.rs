//! Shell integration: `keyless completion SHELL` prints a completion
//! script (clap_complete), `keyless man --out DIR` writes manual pages
//! (clap_mangen), both from the same clap definition as the parser, so they
//! never drift from the real flags.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct Completion {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

impl Completion {
    /// Print the script for `cmd` (the whole `keyless` command).
    pub fn run(&self, mut cmd: clap::Command) -> Result<i32> {
        let name = cmd.get_name().to_string();
        // Into memory first: clap_complete panics on a write error, and a
        // closed pipe (`keyless completion bash | head`) is not a failure.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, name, &mut script);
        match std::io::stdout().write_all(&script) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(e).context("writing the completion script")
            }
            _ => Ok(crate::exit::OK),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Man {
    /// Directory to write the pages to (created if missing): keyless.1 and
    /// one keyless-COMMAND.1 per command and subcommand.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl Man {
    pub fn run(&self, cmd: clap::Command) -> Result<i32> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        clap_mangen::generate_to(cmd, &self.out)
            .with_context(|| format!("writing manual pages to {}", self.out.display()))?;
        eprintln!("Wrote manual pages to {}", self.out.display());
        Ok(crate::exit::OK)
    }
}
