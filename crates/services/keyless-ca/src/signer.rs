//! Where the issuing (intermediate) key lives, behind one small interface.
//!
//! Certificates are built by [`crate::profile`], which only needs three
//! things from the key that signs them: its public key (for the
//! certificate's issuer checks), its signature algorithm (the
//! `AlgorithmIdentifier` written into the TBS) and a signature over the
//! TBS DER. [`CaSigner`] is exactly that, so the profile and the issuing
//! code in [`crate::ca`] do not care whether the key is a software key in
//! the data directory or a non-extractable key on a PKCS#11 token.
//!
//! [`CaKey`] is the concrete key the CA holds: an enum rather than a
//! `Box<dyn CaSigner>` so that it stays `Debug`, needs no allocation, and
//! callers can see (and log) which kind of key is in use.

use keyless_crypto::{PublicKey, SignatureAlgorithm, SigningKey};

use crate::error::IssueError;
use crate::pkcs11::Pkcs11Key;

/// A key that signs certificates (and precertificates) for the CA.
///
/// Implementations must return ECDSA signatures as ASN.1 DER
/// (`Ecdsa-Sig-Value`), as X.509 carries them, and must be usable from
/// several request handlers at once (`Send + Sync`): a backend whose
/// handle is single-threaded serializes use internally.
pub trait CaSigner: Send + Sync {
    /// The public half, as the CA certificate for this key carries it.
    fn public_key(&self) -> &PublicKey;

    /// The scheme [`CaSigner::sign`] produces: ECDSA with the curve's hash
    /// (SHA-256 for P-256, SHA-384 for P-384), as Fulcio does.
    fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.public_key().default_signature_algorithm()
    }

    /// Sign `message` (the TBS DER; hashed by the signer), returning the
    /// DER signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError>;
}

impl CaSigner for SigningKey {
    fn public_key(&self) -> &PublicKey {
        SigningKey::public_key(self)
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        SigningKey::signature_algorithm(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError> {
        SigningKey::sign(self, message).map_err(|e| IssueError::Sign(e.to_string()))
    }
}

/// The CA's issuing key: in software (a key file in the data directory,
/// plain or encrypted PKCS#8), or on a PKCS#11 token.
///
/// The inherent methods mirror [`SigningKey`]'s so that code written
/// against the software key (tests, tools) keeps reading naturally.
pub enum CaKey {
    /// A key held in process memory, loaded from `intermediate.key.pem`.
    Software(SigningKey),
    /// A key on a PKCS#11 token, used through a logged-in session.
    Pkcs11(Pkcs11Key),
}

impl std::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaKey::Software(k) => f.debug_tuple("Software").field(k).finish(),
            CaKey::Pkcs11(k) => f.debug_tuple("Pkcs11").field(k).finish(),
        }
    }
}

impl From<SigningKey> for CaKey {
    fn from(key: SigningKey) -> Self {
        CaKey::Software(key)
    }
}

impl From<Pkcs11Key> for CaKey {
    fn from(key: Pkcs11Key) -> Self {
        CaKey::Pkcs11(key)
    }
}

impl CaKey {
    /// The public half of the issuing key.
    pub fn public_key(&self) -> &PublicKey {
        match self {
            CaKey::Software(k) => k.public_key(),
            CaKey::Pkcs11(k) => CaSigner::public_key(k),
        }
    }

    /// See [`CaSigner::signature_algorithm`].
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        match self {
            CaKey::Software(k) => k.signature_algorithm(),
            CaKey::Pkcs11(k) => CaSigner::signature_algorithm(k),
        }
    }

    /// See [`CaSigner::sign`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError> {
        match self {
            CaKey::Software(k) => CaSigner::sign(k, message),
            CaKey::Pkcs11(k) => CaSigner::sign(k, message),
        }
    }

    /// The software key, if that is where the key lives.
    pub fn as_software(&self) -> Option<&SigningKey> {
        match self {
            CaKey::Software(k) => Some(k),
            CaKey::Pkcs11(_) => None,
        }
    }
}

impl CaSigner for CaKey {
    fn public_key(&self) -> &PublicKey {
        CaKey::public_key(self)
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        CaKey::signature_algorithm(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError> {
        CaKey::sign(self, message)
    }
}
