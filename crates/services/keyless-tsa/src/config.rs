//! Service configuration.

use std::path::PathBuf;

use const_oid::ObjectIdentifier;
use keyless_crypto::KeyAlgorithm;
use keyless_keys::pkcs11::Pkcs11Config;

/// Sigstore's TSA policy OID (1.3.6.1.4.1.57264.2), used by default so that
/// tokens look like the ones Sigstore's timestamp-authority issues.
pub const SIGSTORE_TSA_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

/// Where the TSA keeps its keys and how it presents itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TsaConfig {
    /// Holds the chain and keys, generated on first start (keys 0600).
    pub data_dir: PathBuf,
    /// The public URL of the timestamp endpoint, for the trusted-root entry.
    /// `None`: [`serve`](crate::serve) derives it from the listener address.
    pub uri: Option<String>,
    /// Key algorithm for a newly generated chain: ECDSA P-256 or P-384
    /// (also the curve of a signing key generated on a PKCS#11 token).
    /// Ignored once a chain exists.
    pub algorithm: KeyAlgorithm,
    /// Organization (O=) in generated certificate names.
    pub organization: String,
    /// The policy every token is issued under.
    pub policy: ObjectIdentifier,
    /// The signing (leaf) key on a PKCS#11 token instead of in the data
    /// directory's `signing.key`: the same settings, with the same meaning,
    /// as the CA's issuing key on a token. `None`: a key file.
    pub pkcs11: Option<Pkcs11Config>,
}

impl TsaConfig {
    /// The files of the chain and its software keys in the data directory:
    /// what a certificate rotation (`keyless tuf rotate-tsa`) moves aside
    /// so that the next open generates a new chain.
    pub const CHAIN_FILES: [&'static str; 6] = crate::pki::CHAIN_FILES;

    /// Defaults: P-256, organization "keyless", Sigstore's policy OID.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            uri: None,
            algorithm: KeyAlgorithm::EcdsaP256,
            organization: "keyless".into(),
            policy: SIGSTORE_TSA_POLICY,
            pkcs11: None,
        }
    }

    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    pub fn with_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = organization.into();
        self
    }

    pub fn with_policy(mut self, policy: ObjectIdentifier) -> Self {
        self.policy = policy;
        self
    }

    /// Keep the signing key on a PKCS#11 token.
    pub fn with_pkcs11(mut self, pkcs11: Pkcs11Config) -> Self {
        self.pkcs11 = Some(pkcs11);
        self
    }
}
