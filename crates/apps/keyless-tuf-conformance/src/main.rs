//! The tuf-conformance client-under-test CLI (theupdateframework/tuf-conformance,
//! CLIENT-CLI.md):
//!
//! ```text
//! keyless-tuf-conformance --metadata-dir D init ROOT_FILE
//! keyless-tuf-conformance --metadata-url U --metadata-dir D refresh
//! keyless-tuf-conformance --metadata-url U --metadata-dir D --target-name N \
//!     --target-base-url B --target-dir T download
//! ```
//!
//! Options may come in any order, before or after the command. Exit code 0
//! on success, 1 on any failure. Trusted metadata is kept under unversioned
//! names in the metadata directory; a downloaded target is stored in the
//! target directory under its target path with every `/` percent-encoded,
//! so that a target downloaded twice lands in the same file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyless_tuf::client::cache::{target_file_name, write_atomic, MetadataStore};
use keyless_tuf::client::verify_target;
use keyless_tuf::{AnyFetcher, Updater, UpdaterConfig};

#[derive(Debug, Default)]
struct Args {
    metadata_dir: Option<PathBuf>,
    metadata_url: Option<String>,
    target_name: Option<String>,
    target_base_url: Option<String>,
    target_dir: Option<PathBuf>,
    max_root_rotations: Option<u32>,
    command: Option<String>,
    positional: Vec<String>,
}

fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        if let Some(opt) = arg.strip_prefix("--") {
            let (name, inline) = match opt.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (opt.to_string(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("--{name} needs a value"))
            };
            match name.as_str() {
                "metadata-dir" => a.metadata_dir = Some(value()?.into()),
                "metadata-url" => a.metadata_url = Some(value()?),
                "target-name" => a.target_name = Some(value()?),
                "target-base-url" => a.target_base_url = Some(value()?),
                "target-dir" => a.target_dir = Some(value()?.into()),
                "max-root-rotations" => {
                    a.max_root_rotations = Some(
                        value()?
                            .parse()
                            .map_err(|e| format!("--max-root-rotations: {e}"))?,
                    )
                }
                other => return Err(format!("unknown option --{other}")),
            }
        } else if a.command.is_none() {
            a.command = Some(arg);
        } else {
            a.positional.push(arg);
        }
    }
    Ok(a)
}

fn need<'a, T>(v: &'a Option<T>, name: &str) -> Result<&'a T, String> {
    v.as_ref().ok_or_else(|| format!("missing --{name}"))
}

fn updater(a: &Args, targets_url: Option<&str>) -> Result<Updater<AnyFetcher>, String> {
    let mut config = UpdaterConfig::default();
    if let Some(n) = a.max_root_rotations {
        config.max_root_rotations = n;
    }
    Updater::new(
        need(&a.metadata_url, "metadata-url")?,
        need(&a.metadata_dir, "metadata-dir")?,
        targets_url,
        AnyFetcher::new(),
        config,
    )
    .map_err(|e| e.report())
}

fn init(a: &Args) -> Result<(), String> {
    let dir = need(&a.metadata_dir, "metadata-dir")?;
    let root_file = a
        .positional
        .first()
        .ok_or("init needs the trusted root file")?;
    let bytes = std::fs::read(root_file).map_err(|e| format!("{root_file}: {e}"))?;
    // The protocol expects no checks here; a root that is not even JSON is
    // still rejected now rather than on the first refresh.
    serde_json_check(&bytes)?;
    let store = MetadataStore::new(dir).map_err(|e| e.report())?;
    store.write("root", &bytes).map_err(|e| e.report())
}

fn serde_json_check(bytes: &[u8]) -> Result<(), String> {
    keyless_tuf::metadata::Envelope::from_slice(bytes)
        .map(|_| ())
        .map_err(|e| format!("trusted root: {e}"))
}

fn refresh(a: &Args) -> Result<(), String> {
    updater(a, None)?.refresh().map_err(|e| e.report())
}

fn download(a: &Args) -> Result<(), String> {
    let name = need(&a.target_name, "target-name")?;
    let base = need(&a.target_base_url, "target-base-url")?;
    let dir: &Path = need(&a.target_dir, "target-dir")?;
    let mut up = updater(a, Some(base))?;
    up.refresh().map_err(|e| e.report())?;
    let info = up.get_target_info(name).map_err(|e| e.report())?;
    let path = dir.join(target_file_name(name));
    // Already downloaded with matching length and hashes: nothing to do.
    if let Ok(existing) = std::fs::read(&path) {
        if verify_target(&existing, &info).is_ok() {
            return Ok(());
        }
    }
    let bytes = up.download_target(name, &info).map_err(|e| e.report())?;
    write_atomic(&path, &bytes).map_err(|e| e.report())
}

fn run(a: &Args) -> Result<(), String> {
    match a.command.as_deref() {
        Some("init") => init(a),
        Some("refresh") => refresh(a),
        Some("download") => download(a),
        Some(other) => Err(format!("unknown command {other:?}")),
        None => Err("no command (init, refresh or download)".into()),
    }
}

fn main() -> ExitCode {
    let result = parse_args(std::env::args().skip(1)).and_then(|a| run(&a));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyless-tuf-conformance: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Args {
        parse_args(s.split_whitespace().map(String::from)).unwrap()
    }

    #[test]
    fn options_in_any_order() {
        let a = args("download --target-dir /t --metadata-url http://x/m --metadata-dir /d --target-name a/b.txt --target-base-url=http://x/t");
        assert_eq!(a.command.as_deref(), Some("download"));
        assert_eq!(a.target_name.as_deref(), Some("a/b.txt"));
        assert_eq!(a.target_base_url.as_deref(), Some("http://x/t"));
        let a = args("--metadata-dir /d init /r.json");
        assert_eq!(a.positional, vec!["/r.json".to_string()]);
        assert!(parse_args(["--bogus".to_string()]).is_err());
        assert!(parse_args(["--metadata-dir".to_string()]).is_err());
    }
}
