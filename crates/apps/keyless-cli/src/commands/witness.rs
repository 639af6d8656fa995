//! `keyless witness`: run a C2SP tlog-witness (keyless-witness) that
//! cosigns the checkpoints of the logs listed in its configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct Witness {
    /// Where the witness keeps its key (witness.key, generated on first
    /// start, 0600) and the latest cosigned checkpoint of each log
    /// (created if missing; locked while the witness runs).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// JSON file: {"name": "<cosigner name>", "logs": [{"origin": "...", "vkey": "..."}]}.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address to serve POST /add-checkpoint on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3100")]
    pub listen: SocketAddr,
    /// `--tls-cert`, `--tls-key` and `--log-format`, with the meaning they
    /// have for `keyless server`: a witness run by another party is
    /// reached across the internet, so it can serve HTTPS.
    #[command(flatten)]
    pub serving: crate::commands::server::Serving,
}

impl Witness {
    pub fn run(&self) -> Result<i32> {
        let format: keyless_serve::LogFormat = self.serving.log_format.parse()?;
        keyless_serve::init_logging(format, std::io::stderr);
        let config = keyless_witness::WitnessConfig::load(&self.config)?;
        let witness = keyless_witness::Witness::open(&self.data_dir, &config)
            .with_context(|| format!("opening the witness in {}", self.data_dir.display()))?;
        let vkey = witness.vkey();
        let rt = crate::signing::runtime()?;
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(self.listen)
                .await
                .with_context(|| format!("listening on {}", self.listen))?;
            let addr = listener.local_addr()?;
            eprintln!(
                "keyless witness for {} log(s) on {}://{addr}/add-checkpoint; its vkey:",
                config.logs.len(),
                self.serving.scheme()
            );
            println!("{vkey}");
            // /metrics, /healthz and /readyz as on the other servers.
            let app = keyless_serve::instrument(
                keyless_witness::router(Arc::new(witness)),
                "witness",
                keyless_serve::Readiness::always(),
            );
            keyless_serve::serve(
                listener,
                app,
                self.serving.tls().as_ref(),
                crate::shutdown::signal(),
            )
            .await
            .context("serving the witness")?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::exit::OK)
    }
}
