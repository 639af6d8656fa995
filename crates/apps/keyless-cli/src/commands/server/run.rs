//! `keyless server` run: the `--check-config` check, or the `--dev`
//! stack, or one service. Apart from the command's definition (the
//! parent module) because the configuration file's reader builds its
//! tables from that definition, and running needs the reader's check:
//! definition <- configuration <- run, with no loop back.

use anyhow::{bail, Result};

use super::Server;

impl Server {
    pub fn run(&self) -> Result<i32> {
        if let Some(file) = &self.check_config {
            return crate::commands::server_config::check(file, None);
        }
        let format: keyless_serve::LogFormat = self.serving.log_format.parse()?;
        keyless_serve::init_logging(format, std::io::stderr);
        let dev_tls = if self.dev && self.tls && self.service.is_none() {
            let files = crate::stack::make_dev_tls(&self.data_dir, self.listen.ip())?;
            // Before any thread starts: the stack's own HTTP clients (the
            // CA fetching the issuer's keys, the readiness checks) read the
            // trusted CAs from here.
            std::env::set_var("SSL_CERT_FILE", self.data_dir.join("tls").join("ca.pem"));
            Some(files)
        } else {
            None
        };
        let rt = crate::signing::runtime()?;
        rt.block_on(async {
            match (&self.service, self.dev) {
                (None, true) => self.dev_stack(dev_tls).await,
                (None, false) => bail!("say which server to run: `keyless server --dev` or `keyless server log|ca|oidc|tsa`"),
                (Some(s), _) => s.run(&self.serving).await,
            }
        })?;
        Ok(crate::exit::OK)
    }

    async fn dev_stack(&self, tls: Option<keyless_serve::TlsFiles>) -> Result<()> {
        if self.serving.tls_cert.is_some() {
            bail!("--tls-cert with --dev is not supported; use --dev --tls (a throwaway CA), or run each service with `keyless server log|ca|oidc|tsa --tls-cert … --tls-key …`");
        }
        let started = std::time::Instant::now();
        // Installed before anything serves: see `shutdown::signal`.
        let stop = crate::shutdown::signal();
        let options = crate::stack::StackOptions {
            postgres: self.postgres.clone(),
            tls,
        };
        let stack = crate::stack::start_with(&self.data_dir, self.listen, &options).await?;
        let dir = std::fs::canonicalize(&stack.data_dir).unwrap_or_else(|_| stack.data_dir.clone());
        if self.serving.log_format == "json" {
            // Every stderr line is then a JSON object, the banner too.
            let u = &stack.urls;
            tracing::warn!(
                ms = started.elapsed().as_millis() as u64,
                oidc = %u.oidc_issuer, ca = %u.ca_url, log = %u.log_url,
                tsa = %u.tsa_url, tuf = %u.tuf_url, health = %u.health_url,
                "keyless dev stack ready (DEVELOPMENT ONLY: the OIDC issuer approves every sign-in)"
            );
        } else {
            eprintln!("keyless dev stack ready in {} ms (DEVELOPMENT ONLY: the OIDC issuer approves every sign-in)", started.elapsed().as_millis());
            eprintln!("  OIDC issuer  {}", stack.urls.oidc_issuer);
            eprintln!("  CA           {}", stack.urls.ca_url);
            eprintln!("  log          {}", stack.urls.log_url);
            eprintln!("  TSA          {}", stack.urls.tsa_url);
            eprintln!("  TUF          {}", stack.urls.tuf_url);
            eprintln!("  health       {}", stack.urls.health_url);
        }
        println!(
            "export SIGSTORE_TRUST_CONFIG={}",
            dir.join("trust_config.json").display()
        );
        if self.tls {
            let ca = dir.join("tls").join("ca.pem");
            // SSL_CERT_FILE replaces the system's roots; --ca-bundle adds to them.
            eprintln!(
                "  TLS CA       {} (client commands: --ca-bundle FILE, or the SSL_CERT_FILE below)",
                ca.display()
            );
            println!("export SSL_CERT_FILE={}", ca.display());
        }
        // SIGTERM or Ctrl-C: as the single services do, stop accepting,
        // answer what was received, let both logs publish what they queued.
        stop.await;
        stack.shutdown(std::time::Duration::from_secs(30)).await;
        tracing::info!("keyless dev stack stopped");
        Ok(())
    }
}
