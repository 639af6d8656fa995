//! Hash a file as a stream, with a progress line on a terminal for large
//! files; memory stays constant whatever the size.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use keyless_crypto::{HashAlgorithm, Hasher};

const CHUNK: usize = 1 << 20;
const SHOW_PROGRESS_FROM: u64 = 64 << 20;

pub fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let show = size >= SHOW_PROGRESS_FROM && std::io::stderr().is_terminal();
    let mut hasher = Hasher::new(HashAlgorithm::Sha256);
    let mut buf = vec![0u8; CHUNK];
    let (mut done, mut last_pct) = (0u64, u64::MAX);
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        done += n as u64;
        if show {
            let pct = done * 100 / size.max(1);
            if pct != last_pct {
                last_pct = pct;
                eprint!(
                    "\rHashing {}: {pct:>3}% ({} MiB)",
                    path.display(),
                    done >> 20
                );
                let _ = std::io::stderr().flush();
            }
        }
    }
    if show {
        eprintln!();
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finish());
    Ok(out)
}
