//! The configuration file's tables and keys, resolved to the flags of
//! `keyless server` and its services; apart from the module root so that
//! `--check-config` ([`super::check`]) and applying the file (the root)
//! both build on it without depending on each other.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};

use super::values;

/// The table holding the keys of `keyless server` itself.
pub const SERVER_TABLE: &str = "server";
/// A configuration file is a few kilobytes; anything this large is a
/// mistake (or not a configuration file) and is refused.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Arguments that are about the file itself or print and exit: no keys.
pub(super) const NOT_KEYS: &[&str] = &["help", "version", "config", "check_config"];

/// One key of the file, resolved to its flag.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The clap id of the flag (`data_dir`).
    pub id: String,
    /// The key as written, which is the flag's long name (`data-dir`).
    pub key: String,
    /// A global flag (`tls-cert`, `log-format`, …): a `[server]` value is
    /// then the default of every service.
    pub global: bool,
    /// The command-line words that give the value (`--data-dir=/x`; none
    /// for a flag set to its default, such as `dev = false`).
    pub words: Vec<OsString>,
    /// The values as text, for the file checks of `--check-config`.
    pub values: Vec<String>,
    /// What the flag takes (`FILE`, `DIR`, …), for the same checks.
    pub value_name: Option<String>,
}

/// The file's tables, each resolved to the flags it sets.
pub type Resolved = BTreeMap<String, Vec<Setting>>;

/// The `keyless server` command as clap builds it (with its services).
pub fn server_command() -> Command {
    <crate::commands::server::Server as clap::Args>::augment_args(Command::new(SERVER_TABLE))
}

/// The tables a file may have and, for each, the flags its keys may name:
/// `[server]` takes the flags of `keyless server`, a service's table the
/// flags of `keyless server <service>` and the global serving flags.
pub fn tables(server: &Command) -> Vec<(String, Vec<Arg>)> {
    let keyable = |a: &&Arg| a.get_long().is_some() && !NOT_KEYS.contains(&a.get_id().as_str());
    let globals: Vec<Arg> = server
        .get_arguments()
        .filter(keyable)
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let mut out = vec![(
        SERVER_TABLE.to_owned(),
        server.get_arguments().filter(keyable).cloned().collect(),
    )];
    for service in server.get_subcommands() {
        let mut args: Vec<Arg> = service.get_arguments().filter(keyable).cloned().collect();
        for g in &globals {
            if !args.iter().any(|a| a.get_id() == g.get_id()) {
                args.push(g.clone());
            }
        }
        out.push((service.get_name().to_owned(), args));
    }
    out
}

/// Read and parse the file (at most [`MAX_FILE_BYTES`]).
pub fn read(path: &Path) -> Result<toml::Table> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("opening the configuration file {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "the configuration file {} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        );
    }
    text.parse::<toml::Table>()
        .map_err(|e| anyhow!("{} is not valid TOML: {e}", path.display()))
}

/// Resolve every key of the file to its flag, or list every key that is
/// not one (unknown table or key, value of the wrong type).
pub fn resolve(server: &Command, file: &toml::Table) -> Result<Resolved, Vec<String>> {
    let tables = tables(server);
    let mut resolved = Resolved::new();
    let mut problems = Vec::new();
    for (name, value) in file {
        let Some((_, args)) = tables.iter().find(|(n, _)| n == name) else {
            let names: Vec<String> = tables.iter().map(|(n, _)| format!("[{n}]")).collect();
            problems.push(format!(
                "unknown table [{name}]: the tables are {}",
                names.join(", ")
            ));
            continue;
        };
        let toml::Value::Table(table) = value else {
            problems.push(format!("`{name}` must be a table ([{name}]), not a value"));
            continue;
        };
        match resolve_table(name, args, table) {
            Ok(settings) => {
                resolved.insert(name.clone(), settings);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(problems)
    }
}

/// The keys of one table (`name`), each checked against the flags `args`.
pub fn resolve_table(
    name: &str,
    args: &[Arg],
    table: &toml::Table,
) -> Result<Vec<Setting>, Vec<String>> {
    let command = if name == SERVER_TABLE {
        "keyless server".to_owned()
    } else {
        format!("keyless server {name}")
    };
    let mut settings = Vec::new();
    let mut problems = Vec::new();
    for (key, value) in table {
        let Some(arg) = args.iter().find(|a| a.get_long() == Some(key.as_str())) else {
            let kebab = key.replace('_', "-");
            let hint = if kebab != *key && args.iter().any(|a| a.get_long() == Some(&kebab)) {
                format!(" (did you mean `{kebab}`?)")
            } else if key == "config" || key == "check-config" {
                " (it names the file itself)".to_owned()
            } else {
                String::new()
            };
            problems.push(format!(
                "unknown key `{key}` in [{name}]: `{command}` has no flag --{key}{hint}"
            ));
            continue;
        };
        match values::words(arg, value) {
            Ok((words, values)) => settings.push(Setting {
                id: arg.get_id().to_string(),
                key: key.clone(),
                global: arg.is_global_set(),
                words,
                values,
                value_name: arg
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string()),
            }),
            Err(e) => problems.push(format!("[{name}] {key}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}

/// The settings of `resolved` that apply to the command parsed in
/// `matches` and that its command line did not give, as words.
pub(crate) fn words_for(resolved: &Resolved, matches: &ArgMatches) -> Vec<OsString> {
    let given = |m: &ArgMatches, id: &str| {
        matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    };
    let server = resolved.get(SERVER_TABLE).map(Vec::as_slice).unwrap_or(&[]);
    let mut words = Vec::new();
    match matches.subcommand() {
        // The stack: all of [server].
        None => {
            for s in server.iter().filter(|s| !given(matches, &s.id)) {
                words.extend(s.words.iter().cloned());
            }
        }
        // A service: its table, then [server]'s global flags it does not set.
        Some((name, service_matches)) => {
            let own = resolved.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let defaults = server
                .iter()
                .filter(|s| s.global && !own.iter().any(|o| o.id == s.id));
            // Global flags reach the service's matches wherever typed.
            for s in own.iter().chain(defaults) {
                if !given(service_matches, &s.id) {
                    words.extend(s.words.iter().cloned());
                }
            }
        }
    }
    words
}
