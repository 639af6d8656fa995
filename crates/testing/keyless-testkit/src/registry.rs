//! A real registry (Debian's `docker-registry`, i.e. CNCF distribution 2.8)
//! on a free loopback port, and a small image to sign.
//!
//! keyless-oci's integration tests and the CLI's end-to-end tests run against
//! it so the client is checked against a real registry implementation, not
//! only against the in-process stand-in. The registry binary
//! is looked up in `$KEYLESS_DOCKER_REGISTRY`, then `PATH`, then
//! `/usr/bin/docker-registry`; if it is missing, starting fails with a message
//! saying how to install it (CI installs it with
//! `scripts/ci/install-registry.sh`), so tests never pass by skipping.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use keyless_oci::manifest::{OCI_CONFIG, OCI_MANIFEST};
use keyless_oci::{
    Descriptor, Digest, Error, ImageManifest, Reference, RegistryClient, Repository,
};

/// Why the test registry could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestRegistryError {
    #[error(
        "the docker-registry binary was not found (looked at $KEYLESS_DOCKER_REGISTRY, PATH and \
         /usr/bin/docker-registry); install it with `bash scripts/ci/install-registry.sh` \
         (Debian package docker-registry)"
    )]
    BinaryMissing,
    #[error("preparing the test registry in {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "docker-registry on 127.0.0.1:{port} did not become ready in {waited:?}; its log:\n{log}"
    )]
    NotReady {
        port: u16,
        waited: Duration,
        log: String,
    },
}

/// Settings for [`TestRegistry::start_with`].
#[derive(Debug, Clone, Default)]
pub struct TestRegistryConfig {
    /// Contents of an htpasswd file (`user:bcrypt-hash` lines); enables the
    /// registry's Basic authentication.
    pub htpasswd: Option<String>,
}

/// A running registry, stopped (and its storage deleted) on drop.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    dir: PathBuf,
    port: u16,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KEYLESS_DOCKER_REGISTRY") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("docker-registry");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let fallback = PathBuf::from("/usr/bin/docker-registry");
    fallback.is_file().then_some(fallback)
}

fn free_port() -> Result<u16, std::io::Error> {
    // The port is free now; another process could take it before the
    // registry binds, in which case startup fails and is retried.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestRegistry {
    /// Start an open (no auth) registry.
    pub async fn start() -> Result<Self, TestRegistryError> {
        Self::start_with(TestRegistryConfig::default()).await
    }

    /// Start a registry with `config`.
    pub async fn start_with(config: TestRegistryConfig) -> Result<Self, TestRegistryError> {
        let binary = find_binary().ok_or(TestRegistryError::BinaryMissing)?;
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(&binary, &config).await {
                Ok(r) => return Ok(r),
                Err(e @ TestRegistryError::NotReady { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(TestRegistryError::BinaryMissing))
    }

    async fn try_start(
        binary: &Path,
        config: &TestRegistryConfig,
    ) -> Result<Self, TestRegistryError> {
        let dir = std::env::temp_dir().join(format!(
            "keyless-oci-registry-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let dir_for_errors = dir.clone();
        let io = |source| TestRegistryError::Io {
            path: dir_for_errors.clone(),
            source,
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).map_err(io)?;
        let port = free_port().map_err(io)?;
        let mut yaml = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: keyless-test-secret\n",
            data = dir.join("data").display(),
        );
        if let Some(htpasswd) = &config.htpasswd {
            let path = dir.join("htpasswd");
            std::fs::write(&path, htpasswd).map_err(io)?;
            yaml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: keyless-test\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, yaml).map_err(io)?;
        let log_path = dir.join("registry.log");
        let log = std::fs::File::create(&log_path).map_err(io)?;
        let log_err = log.try_clone().map_err(io)?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // The registry reads REGISTRY_* variables as config overrides.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(key);
            }
        }
        let child = command.spawn().map_err(io)?;
        let mut registry = Self { child, dir, port };
        let started = Instant::now();
        let wait = Duration::from_secs(20);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| io(std::io::Error::other(e)))?;
        loop {
            if let Ok(Some(_)) = registry.child.try_wait() {
                break;
            }
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/v2/"))
                .send()
                .await
            {
                if r.status().is_success() || r.status().as_u16() == 401 {
                    return Ok(registry);
                }
            }
            if started.elapsed() > wait {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        registry.stop_process();
        Err(TestRegistryError::NotReady {
            port,
            waited: started.elapsed(),
            log,
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A reference in this registry, e.g. `reference("app:v1")`.
    pub fn reference(&self, name_and_tag: &str) -> Result<Reference, Error> {
        Ok(Reference::parse(&format!(
            "{}/{name_and_tag}",
            self.host()
        ))?)
    }

    /// Where the registry keeps a blob's bytes, so tests can corrupt it.
    pub fn blob_data_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&digest.hex()[..2])
            .join(digest.hex())
            .join("data")
    }

    fn stop_process(&mut self) {
        // Only the child we spawned, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop_process();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Push a small image (OCI config blob, one layer, manifest) under
/// `reference`'s tag, built from `seed` so different seeds give different
/// digests. Returns the manifest descriptor.
pub async fn push_test_image(
    client: &RegistryClient,
    reference: &Reference,
    seed: &str,
) -> Result<Descriptor, Error> {
    let repo: &Repository = reference.repository();
    // The layer is not a real tarball: registries do not look inside layers.
    let layer = format!("keyless test layer: {seed}\n").into_bytes();
    let layer_digest = client.push_blob(repo, &layer).await?;
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": { "type": "layers", "diff_ids": [layer_digest.to_string()] },
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    client.push_blob(repo, &config).await?;
    let manifest = ImageManifest::new(
        Descriptor::for_content(OCI_CONFIG, &config),
        vec![Descriptor::for_content(
            "application/vnd.oci.image.layer.v1.tar",
            &layer,
        )],
    );
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let descriptor = Descriptor::for_content(OCI_MANIFEST, &bytes);
    client
        .put_manifest(
            repo,
            &reference.manifest_reference(),
            OCI_MANIFEST,
            bytes,
            None,
        )
        .await?;
    Ok(descriptor)
}
