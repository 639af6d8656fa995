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
}

impl Witness {
    pub fn run(&self) -> Result<i32> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::io::stderr)
            .try_init();
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
                "keyless witness for {} log(s) on http://{addr}/add-checkpoint; its vkey:",
                config.logs.len()
            );
            println!("{vkey}");
            // /metrics, /healthz and /readyz as on the other servers.
            let app = keyless_serve::instrument(
                keyless_witness::router(Arc::new(witness)),
                "witness",
                keyless_serve::Readiness::always(),
            );
            keyless_serve::serve(listener, app, None, crate::shutdown::signal())
                .await
                .context("serving the witness")?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::exit::OK)
    }
}
