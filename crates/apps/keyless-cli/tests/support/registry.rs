//! Debian's docker-registry on loopback (keyless-testkit starts it), with a
//! registry client and a runtime to drive it from synchronous tests.

use keyless_oci::{ImageSignatures, Reference, RegistryClient};
use keyless_testkit::registry::TestRegistry;

/// A running test registry; stopped when dropped.
pub struct Registry {
    pub rt: tokio::runtime::Runtime,
    pub registry: TestRegistry,
    /// Plain HTTP allowed (the test registry has no TLS).
    pub client: RegistryClient,
}

impl Registry {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let registry = rt
            .block_on(TestRegistry::start())
            .expect("start docker-registry (scripts/ci/install-registry.sh installs it)");
        let client = RegistryClient::new(
            keyless_oci::ClientOptions::new().danger_allow_insecure_registry(true),
        )
        .expect("client");
        Self {
            rt,
            registry,
            client,
        }
    }

    /// Push a one-layer test image at `<host>/<name>`; returns its reference.
    pub fn push(&self, name: &str) -> String {
        self.push_as(name, name)
    }

    /// [`Registry::push`] with `label` as the test image's content tag.
    pub fn push_as(&self, name: &str, label: &str) -> String {
        let image = format!("{}/{name}", self.registry.host());
        self.rt
            .block_on(keyless_testkit::registry::push_test_image(
                &self.client,
                &Reference::parse(&image).expect("reference"),
                label,
            ))
            .expect("push image");
        image
    }

    pub fn signatures(&self, image: &str) -> ImageSignatures {
        self.rt
            .block_on(
                self.client
                    .list_signatures(&Reference::parse(image).expect("reference")),
            )
            .expect("list signatures")
    }
}
