//! `keyless server --check-config FILE`: validate a configuration file
//! without starting anything, and say what was checked.
//!
//! Checked: the file parses as TOML; every table is `[server]` or a
//! service and every key a flag of it, with a value of the flag's type;
//! each table, applied as `keyless server [<service>] --config FILE`,
//! satisfies clap (required flags present, none conflicting); the files it
//! names exist (a data directory may be missing: it is created on first
//! start); key files are not readable by group or others; a TLS
//! certificate and key load and match.

use std::ffi::OsString;
use std::path::Path;

use anyhow::Result;
use clap::Command;

use super::keys::{read, resolve, server_command, words_for, Resolved, Setting, SERVER_TABLE};

/// Most entries of a data directory looked at for key files.
const MAX_DIR_ENTRIES: usize = 4096;

/// What was found, printed as it goes.
#[derive(Default)]
struct Report {
    problems: usize,
}

impl Report {
    fn ok(&mut self, what: impl std::fmt::Display) {
        println!("ok     {what}");
    }

    fn problem(&mut self, what: impl std::fmt::Display) {
        self.problems += 1;
        println!("error  {what}");
    }
}

/// Check the file at `path` (only [server] and the table of `service`
/// when one is given); exit code 0 when it is valid, 1 when not.
pub fn check(path: &Path, service: Option<&str>) -> Result<i32> {
    match service {
        Some(name) => println!(
            "checking [{SERVER_TABLE}] and [{name}] of {}",
            path.display()
        ),
        None => println!("checking {}", path.display()),
    }
    let mut report = Report::default();
    let file = match read(path) {
        Ok(file) => file,
        Err(e) => {
            report.problem(format!("{e:#}"));
            return Ok(finish(&report));
        }
    };
    let names: Vec<&str> = file.keys().map(String::as_str).collect();
    report.ok(format!(
        "valid TOML ({} table(s): {})",
        names.len(),
        names.join(", ")
    ));
    let server = server_command();
    let resolved = match resolve(&server, &file) {
        Ok(mut resolved) => {
            if let Some(name) = service {
                resolved.retain(|table, _| table == SERVER_TABLE || table == name);
                if !resolved.contains_key(name) {
                    report.ok(format!(
                        "no [{name}] table: `keyless server {name}` takes flags only"
                    ));
                }
            }
            resolved
        }
        Err(problems) => {
            for p in problems {
                report.problem(p);
            }
            return Ok(finish(&report));
        }
    };
    file_secrets(&mut report, path, &resolved);
    for (name, settings) in resolved.iter().filter(|(_, s)| !s.is_empty()) {
        report.ok(format!(
            "[{name}] {} key(s), each a flag of `{}` with a value it accepts",
            settings.len(),
            command_name(name)
        ));
    }
    for (name, settings) in &resolved {
        if settings.is_empty() {
            report.ok(format!("[{name}] no keys: not checked"));
            continue;
        }
        if service.is_none() || name != SERVER_TABLE {
            start_line(&mut report, &server, &resolved, name, path);
        }
        for s in settings {
            check_files(&mut report, name, s);
        }
        check_tls(&mut report, &resolved, name);
    }
    Ok(finish(&report))
}

fn finish(report: &Report) -> i32 {
    if report.problems == 0 {
        println!("configuration valid");
        crate::exit::OK
    } else {
        println!("{} problem(s) found", report.problems);
        crate::exit::FAILURE
    }
}

fn command_name(table: &str) -> String {
    if table == SERVER_TABLE {
        "keyless server".to_owned()
    } else {
        format!("keyless server {table}")
    }
}

/// Parse `keyless server [<table>] --config FILE` as a start would, the
/// file's words added: required and conflicting flags are clap's checks.
fn start_line(
    report: &mut Report,
    server: &Command,
    resolved: &Resolved,
    table: &str,
    path: &Path,
) {
    let root = Command::new("keyless").subcommand(server.clone());
    let mut args: Vec<OsString> = vec!["keyless".into(), SERVER_TABLE.into()];
    if table != SERVER_TABLE {
        args.push(table.into());
    }
    args.push("--config".into());
    args.push(path.as_os_str().to_owned());
    let words = match root.clone().ignore_errors(true).try_get_matches_from(&args) {
        Ok(m) => match m.subcommand() {
            Some((_, server_matches)) => words_for(resolved, server_matches),
            None => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    args.extend(words);
    let line = command_name(table) + " --config FILE";
    match root.try_get_matches_from(&args) {
        Ok(_) => report.ok(format!(
            "[{table}] `{line}` parses: required flags present, none conflicting"
        )),
        Err(e) => {
            let text = e.to_string();
            let text: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more"))
                .collect();
            report.problem(format!(
                "[{table}] `{line}` would not start: {}",
                text.join(" ").trim_start_matches("error: ")
            ));
        }
    }
}

/// The files a key names: present, and key files private.
fn check_files(report: &mut Report, table: &str, s: &Setting) {
    let Some(kind) = s.value_name.as_deref() else {
        return;
    };
    for value in &s.values {
        let path = Path::new(value);
        let label = format!("[{table}] {} {}", s.key, path.display());
        match kind {
            "FILE" | "PATH" => match std::fs::metadata(path) {
                Ok(m) if kind == "FILE" && !m.is_file() => {
                    report.problem(format!("{label}: not a file"))
                }
                Ok(m) => {
                    if std::fs::File::open(path).is_err() {
                        report.problem(format!("{label}: cannot be read"));
                    } else if is_secret_key(&s.id) {
                        private(report, &label, &m);
                    } else {
                        report.ok(format!("{label}: exists"));
                    }
                }
                Err(e) => report.problem(format!("{label}: {}", not_found(&e))),
            },
            "DIR" => match std::fs::metadata(path) {
                Ok(m) if !m.is_dir() => report.problem(format!("{label}: not a directory")),
                Ok(_) => {
                    report.ok(format!("{label}: a directory"));
                    key_files(report, &label, path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.ok(format!(
                    "{label}: does not exist yet (created on first start)"
                )),
                Err(e) => report.problem(format!("{label}: {e}")),
            },
            _ => {}
        }
    }
}

fn not_found(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "does not exist".to_owned()
    } else {
        e.to_string()
    }
}

/// A flag naming a private key (`tls-key`), not a public one.
fn is_secret_key(id: &str) -> bool {
    id.ends_with("key") && !id.contains("public")
}

/// The key files (`*.key`, `*.key.pem`) a service keeps in its data
/// directory.
fn key_files(report: &mut Report, label: &str, dir: &Path) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return report.problem(format!("{label}: cannot be listed: {e}")),
    };
    for entry in entries.take(MAX_DIR_ENTRIES).flatten() {
        let name = entry.file_name();
        // root.key, log.key, ctlog.key.pem, …
        let text = name.to_string_lossy();
        if !(text.ends_with(".key") || text.contains(".key.")) {
            continue;
        }
        match entry.metadata() {
            Ok(m) if m.is_file() => {
                private(report, &format!("{label}: {}", name.to_string_lossy()), &m)
            }
            Ok(_) => {}
            Err(e) => report.problem(format!("{label}: {}: {e}", name.to_string_lossy())),
        }
    }
}

/// A key file must not be readable by group or others.
fn private(report: &mut Report, label: &str, m: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = m.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        report.ok(format!("{label}: key file, mode {mode:04o}"));
    } else {
        report.problem(format!(
            "{label}: key file readable by group or others (mode {mode:04o}); chmod 600 it"
        ));
    }
}

/// The TLS certificate and key a table sets (or inherits from [server])
/// load and belong together.
fn check_tls(report: &mut Report, resolved: &Resolved, table: &str) {
    let own = resolved.get(table).map(Vec::as_slice).unwrap_or(&[]);
    if !own.iter().any(|s| s.id == "tls_cert" || s.id == "tls_key") {
        return;
    }
    let server = resolved.get(SERVER_TABLE).map(Vec::as_slice).unwrap_or(&[]);
    let find = |id: &str| {
        own.iter()
            .chain(server)
            .find(|s| s.id == id)
            .and_then(|s| s.values.first().cloned())
    };
    let (Some(cert), Some(key)) = (find("tls_cert"), find("tls_key")) else {
        return;
    };
    if !Path::new(&cert).is_file() || !Path::new(&key).is_file() {
        return;
    }
    match keyless_serve::TlsFiles::new(&cert, &key).load() {
        Ok(_) => report.ok(format!(
            "[{table}] TLS certificate {cert} and key {key} load and match"
        )),
        Err(e) => report.problem(format!(
            "[{table}] TLS certificate {cert} and key {key}: {}",
            crate::error_chain(&e)
        )),
    }
}

/// A connection string with a password makes the file itself a secret:
/// it must not be readable by others.
fn file_secrets(report: &mut Report, path: &Path, resolved: &Resolved) {
    use std::os::unix::fs::PermissionsExt;
    let with_password = resolved
        .iter()
        .flat_map(|(name, settings)| settings.iter().map(move |s| (name, s)))
        .filter(|(_, s)| s.id == "postgres" && s.values.iter().any(|v| has_password(v)))
        .map(|(name, _)| format!("[{name}] postgres"))
        .collect::<Vec<_>>();
    if with_password.is_empty() {
        return;
    }
    let which = with_password.join(", ");
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o007 == 0 => report.ok(format!(
            "{which} holds a password; the file is not readable by others (mode {:04o})",
            m.permissions().mode() & 0o777
        )),
        Ok(m) => report.problem(format!(
            "{which} holds a password and the file is readable by others (mode {:04o}); chmod o-rwx it",
            m.permissions().mode() & 0o777
        )),
        Err(e) => report.problem(format!("{}: {e}", path.display())),
    }
}

/// A PostgreSQL connection string that carries a password: `password=`
/// in key=value form, or `user:password@` in a URL.
pub(super) fn has_password(conn: &str) -> bool {
    if conn.to_ascii_lowercase().contains("password=") {
        return true;
    }
    conn.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}
