//! Hashing a large artifact: keyless's streaming digest (the one
//! `verify-blob` and `Verifier::verify` use for a file) against
//! `openssl dgst -sha256` on the same file, as a regression check that
//! verifying a big file stays at the speed of hashing it.
//!
//! ```text
//! cargo bench -p keyless-verify --bench large_file
//! KEYLESS_BENCH_LARGE_MIB=4096 cargo bench -p keyless-verify --bench large_file
//! ```
//!
//! The file (default 1024 MiB) is generated in the temp directory and
//! deleted afterwards; both sides read it from the page cache, alternating,
//! best of three each. Prints both times and keyless / openssl (1.0 means
//! the same speed). Without `openssl` on PATH only keyless's time is shown.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use keyless_crypto::HashAlgorithm;
use keyless_verify::Artifact;

fn main() {
    let mib: usize = std::env::var("KEYLESS_BENCH_LARGE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let path =
        std::env::temp_dir().join(format!("keyless-large-file-bench-{}", std::process::id()));
    // Removes the file however the bench ends.
    struct Remove(std::path::PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _guard = Remove(path.clone());
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(&path).expect("create temp file"));
        let mut block = vec![0u8; 1 << 20];
        for i in 0..mib {
            // Different content per MiB, cheap to make.
            for (j, b) in block.iter_mut().enumerate().step_by(64) {
                *b = (i as u8).wrapping_mul(31) ^ (j >> 6) as u8;
            }
            f.write_all(&block).expect("write temp file");
        }
        f.flush().expect("flush temp file");
    }
    println!("file: {mib} MiB at {}", path.display());

    let artifact = Artifact::File(path.clone());
    let keyless = || {
        let start = Instant::now();
        let d = artifact.digest(HashAlgorithm::Sha256).expect("digest");
        (start.elapsed(), hex::encode(d))
    };
    let openssl = || -> Option<(Duration, String)> {
        let start = Instant::now();
        let out = Command::new("openssl")
            .arg("dgst")
            .arg("-sha256")
            .arg("-r")
            .arg(&path)
            .output()
            .ok()?;
        let elapsed = start.elapsed();
        out.status.success().then(|| {
            let text = String::from_utf8_lossy(&out.stdout);
            (
                elapsed,
                text.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
    };
    // Warm the page cache once.
    let (_, ours) = keyless();
    let (mut best_k, mut best_o) = (Duration::MAX, Duration::MAX);
    let mut have_openssl = true;
    for _ in 0..3 {
        if have_openssl {
            match openssl() {
                Some((t, theirs)) => {
                    assert_eq!(theirs, ours, "openssl and keyless disagree on the digest");
                    best_o = best_o.min(t);
                }
                None => have_openssl = false,
            }
        }
        best_k = best_k.min(keyless().0);
    }
    let rate = |t: Duration| mib as f64 / t.as_secs_f64();
    println!(
        "keyless SHA-256:         {:>8.3} s  ({:.0} MiB/s)",
        best_k.as_secs_f64(),
        rate(best_k)
    );
    if have_openssl {
        println!(
            "openssl dgst -sha256:    {:>8.3} s  ({:.0} MiB/s)",
            best_o.as_secs_f64(),
            rate(best_o)
        );
        println!(
            "keyless / openssl:       {:>8.2}",
            best_k.as_secs_f64() / best_o.as_secs_f64()
        );
    } else {
        println!("openssl not found: no comparison");
    }
}
