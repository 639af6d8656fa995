//! `keyless server --config FILE`: one TOML file for `keyless server` and
//! each of its services.
//!
//! The file has a `[server]` table (the keys of `keyless server` itself:
//! the `--dev` stack, and the serving options every service shares, such
//! as `tls-cert` or `log-format`) and one table per service (`[log]`,
//! `[ca]`, `[oidc]`, `[tsa]`, …). A key is a flag's long name without the
//! dashes (`data-dir = "/var/lib/keyless/log"`). The tables and keys are
//! read from the clap definition of `keyless server`, so a flag added
//! there is a key at once, and a key that is no flag is an error naming it.
//!
//! The file is applied by adding its values as flags after the command
//! line, for each flag the command line (or its environment variable) did
//! not give: clap then checks them exactly as typed flags (types, ranges,
//! required and conflicting flags), and flags always override the file.

mod check;
mod keys;
mod values;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::{ArgMatches, Command};

pub use check::check;
pub(crate) use keys::words_for;
pub use keys::{
    read, resolve, resolve_table, server_command, tables, Resolved, Setting, SERVER_TABLE,
};

/// Environment variable naming the configuration file (as `--config`);
/// defined with the flag it sets.
pub use super::server::CONFIG_ENV;

/// The command line `args` (of the whole `keyless` command `root`) with
/// the configuration file's values added, when the command is `keyless
/// server …` and `--config` or `KEYLESS_CONFIG` names a file. Anything
/// else, or a command line clap refuses anyway, is returned unchanged.
pub fn with_config_file(root: &Command, args: Vec<OsString>) -> Result<Vec<OsString>> {
    // Every other command: no second parse.
    if !args.iter().skip(1).any(|a| a == SERVER_TABLE) {
        return Ok(args);
    }
    let Ok(matches) = root.clone().ignore_errors(true).try_get_matches_from(&args) else {
        // --help or --version: clap prints them from the real parse.
        return Ok(args);
    };
    let Some((SERVER_TABLE, server_matches)) = matches.subcommand() else {
        return Ok(args);
    };
    let server = root
        .find_subcommand(SERVER_TABLE)
        .context("the keyless command has no server subcommand")?;
    let extra = file_words(server, server_matches)?;
    Ok(args.into_iter().chain(extra).collect())
}

/// The words the file adds to `keyless server …` as parsed in `matches`.
///
/// `--check-config FILE` is run here and the process exits with its
/// result: after a service (`keyless server ca --check-config FILE`) clap
/// would otherwise refuse the command line for the flags only the file
/// holds (`--issuers`) before the check could say so itself.
fn file_words(server: &Command, matches: &ArgMatches) -> Result<Vec<OsString>> {
    let service = matches.subcommand();
    let innermost = service.map(|(_, m)| m).unwrap_or(matches);
    if let Ok(Some(path)) = innermost.try_get_one::<PathBuf>("check_config") {
        let code = check(path, service.map(|(name, _)| name))?;
        std::process::exit(code);
    }
    let Ok(Some(path)) = innermost.try_get_one::<PathBuf>("config") else {
        return Ok(Vec::new());
    };
    let file = read(path)?;
    let resolved = resolve(server, &file).map_err(|problems| {
        anyhow!(
            "{}: {}\n(check the whole file with `keyless server --check-config {}`)",
            path.display(),
            problems.join("; "),
            path.display()
        )
    })?;
    Ok(words_for(&resolved, matches))
}
