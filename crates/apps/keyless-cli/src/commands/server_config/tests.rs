//! The file's keys are the flags, and flags override the file.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Command, FromArgMatches};

use super::keys::NOT_KEYS;
use super::*;
use crate::commands::server::{Server, Service};

/// A well-formed cosignature/v1 vkey (the example configuration's).
const VKEY: &str = "witness.example.net+e0aff365+BEmL3GJKWidy0l3MZzsPgcWSUkSDgdRRHjZWh4uc0o0D";

fn root() -> Command {
    Command::new("keyless").subcommand(server_command())
}

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyless-config-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `keyless <args>` with the file applied, parsed to the server command.
fn parse(args: &[&str]) -> Result<Server> {
    let mut argv: Vec<OsString> = vec!["keyless".into()];
    argv.extend(args.iter().map(OsString::from));
    let argv = with_config_file(&root(), argv)?;
    let matches = root().try_get_matches_from(argv)?;
    let (_, server) = matches.subcommand().context("no subcommand")?;
    Ok(Server::from_arg_matches(server)?)
}

#[test]
fn every_flag_of_every_service_is_a_key() {
    let server = server_command();
    let tables = tables(&server);
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["server", "log", "ca", "oidc", "tsa"] {
        assert!(names.contains(&expected), "no [{expected}] in {names:?}");
    }
    let mut seen = 0;
    for (name, args) in &tables {
        let command = if name == SERVER_TABLE {
            server.clone()
        } else {
            server.find_subcommand(name).unwrap().clone()
        };
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if NOT_KEYS.contains(&arg.get_id().as_str()) {
                continue;
            }
            let mut t = toml::Table::new();
            t.insert(long.to_owned(), toml::Value::Boolean(true));
            if let Err(problems) = resolve_table(name, args, &t) {
                assert!(
                    problems.iter().all(|p| !p.contains("unknown key")),
                    "[{name}] {long}: {problems:?}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen > 20, "only {seen} flags seen");
}

#[test]
fn unknown_keys_and_tables_are_named() {
    let t: toml::Table = "[log]\ndata_dir = \"x\"\nlisten-on = \"y\"\n[ledger]\n"
        .parse()
        .unwrap();
    let problems = resolve(&server_command(), &t).unwrap_err();
    let text = problems.join("\n");
    assert!(
        text.contains("unknown key `data_dir` in [log]")
            && text.contains("did you mean `data-dir`?"),
        "{text}"
    );
    assert!(text.contains("unknown key `listen-on` in [log]"), "{text}");
    assert!(text.contains("unknown table [ledger]"), "{text}");
    let t: toml::Table = "[server]\nconfig = \"other.toml\"\n".parse().unwrap();
    let text = resolve(&server_command(), &t).unwrap_err().join("\n");
    assert!(text.contains("unknown key `config`"), "{text}");
}

#[test]
fn values_are_checked_with_the_flags_own_parser() {
    for (text, expected) in [
        (
            "[log]\nbatch-size = 0\n",
            "[log] batch-size: invalid value '0'",
        ),
        (
            "[log]\nbatch-size = \"many\"\n",
            "[log] batch-size: invalid value 'many'",
        ),
        (
            "[log]\nlisten = \"nowhere\"\n",
            "[log] listen: invalid value 'nowhere'",
        ),
        (
            "[server]\ndev = \"yes\"\n",
            "[server] dev: expects true or false, not string",
        ),
        (
            "[server]\nlog-format = \"xml\"\n",
            "[server] log-format: invalid value 'xml'",
        ),
        (
            "[log]\nlisten = [\"127.0.0.1:1\"]\n",
            "[log] listen: takes one value, not a list",
        ),
    ] {
        let t: toml::Table = text.parse().unwrap();
        let problems = resolve(&server_command(), &t).unwrap_err().join("\n");
        assert!(problems.contains(expected), "{text}: {problems}");
    }
}

#[test]
fn the_file_fills_what_the_command_line_leaves_out() {
    let path = file(
        "override.toml",
        &format!(
            "[server]\nlog-format = \"json\"\n\
         [log]\ndata-dir = \"/srv/log\"\nlisten = \"127.0.0.1:4000\"\nbatch-size = 16\n\
         witness = [\"http://w1/={VKEY}\", \"http://w2/={VKEY}\"]\n"
        ),
    );
    let p = path.to_str().unwrap();
    let server = parse(&["server", "log", "--config", p, "--listen", "127.0.0.1:5000"]).unwrap();
    assert_eq!(
        server.serving.log_format, "json",
        "[server] global reaches the service"
    );
    let Some(Service::Log {
        data_dir,
        listen,
        batch_size,
        witness,
        ..
    }) = &server.service
    else {
        panic!("not the log: {server:?}")
    };
    assert_eq!(data_dir, &PathBuf::from("/srv/log"));
    assert_eq!(listen.to_string(), "127.0.0.1:5000", "the flag wins");
    assert_eq!(*batch_size, 16);
    assert_eq!(witness.witnesses.len(), 2, "a list in the file");
    // A repeatable flag on the command line replaces the file's list.
    let w3 = format!("http://w3/={VKEY}");
    let server = parse(&["server", "log", "--config", p, "--witness", &w3]).unwrap();
    let Some(Service::Log { witness, .. }) = &server.service else {
        panic!()
    };
    assert_eq!(witness.witnesses.len(), 1);

    // A service's own value wins over [server]'s, a flag over both.
    let path = file(
        "global.toml",
        "[server]\nlog-format = \"json\"\n[oidc]\ndata-dir = \"d\"\nlog-format = \"text\"\n",
    );
    let p = path.to_str().unwrap();
    let server = parse(&["server", "oidc", "--config", p]).unwrap();
    assert_eq!(server.serving.log_format, "text");
    let server = parse(&["server", "--log-format", "json", "oidc", "--config", p]).unwrap();
    assert_eq!(server.serving.log_format, "json");
}

#[test]
fn the_stack_reads_server_and_clap_still_checks_the_result() {
    let path = file(
        "stack.toml",
        "[server]\ndev = true\ndata-dir = \"/srv/dev\"\nlisten = \"127.0.0.1:9000\"\n",
    );
    let p = path.to_str().unwrap();
    let server = parse(&["server", "--config", p, "--listen", "127.0.0.1:9100"]).unwrap();
    assert!(server.dev);
    assert_eq!(server.data_dir, PathBuf::from("/srv/dev"));
    assert_eq!(server.listen.to_string(), "127.0.0.1:9100");
    // `tls` needs `dev`: a file with one and not the other fails as the
    // flags would.
    let path = file("tls.toml", "[server]\ntls = true\n");
    let e = parse(&["server", "--config", path.to_str().unwrap()]).unwrap_err();
    assert!(e.to_string().contains("--dev"), "{e}");
    // A required flag may come from the file only.
    let path = file("required.toml", "[ca]\ndata-dir = \"d\"\n");
    let e = parse(&["server", "ca", "--config", path.to_str().unwrap()]).unwrap_err();
    assert!(e.to_string().contains("--issuers"), "{e}");
}

#[test]
fn an_unknown_key_stops_the_start() {
    let path = file("unknown.toml", "[log]\ndata-dir = \"d\"\nshards = 3\n");
    let e = parse(&["server", "log", "--config", path.to_str().unwrap()]).unwrap_err();
    assert!(
        format!("{e:#}").contains("unknown key `shards` in [log]"),
        "{e:#}"
    );
    // Other commands never read it.
    let argv: Vec<OsString> = ["keyless", "server", "--help"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(with_config_file(&root(), argv.clone()).unwrap(), argv);
}

#[test]
fn passwords_in_connection_strings_are_seen() {
    use super::check::has_password;
    assert!(has_password("host=db user=k password=secret"));
    assert!(has_password("host=db PASSWORD=secret"));
    assert!(has_password("postgresql://keyless:secret@db1,db2/keyless"));
    assert!(!has_password("postgresql://keyless@db1/keyless"));
    assert!(!has_password(
        "host=/var/run/postgresql user=keyless dbname=keyless"
    ));
}
