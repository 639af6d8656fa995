//! Where the issuing (intermediate) key lives, behind one small interface.
//!
//! Certificates are built by [`crate::profile`], which only needs three
//! things from the key that signs them: its public key, its signature
//! algorithm (the `AlgorithmIdentifier` written into the TBS) and a
//! signature over the TBS DER. That is the workspace's one signing
//! interface, [`keyless_crypto::Signer`]; [`CaSigner`] is that trait with
//! the CA's error type, implemented for every `Signer`, so the profile and
//! the issuing code in [`crate::ca`] do not care whether the key is a
//! software key in the data directory or a non-extractable key on a
//! PKCS#11 token.
//!
//! [`CaKey`] is the concrete key the CA holds: the key store's
//! [`keyless_keys::Key`] (software or PKCS#11).

use keyless_crypto::{PublicKey, SignatureAlgorithm, Signer};

use crate::error::IssueError;

/// The CA's issuing key: in software (a key file in the data directory,
/// plain or encrypted PKCS#8), or on a PKCS#11 token.
pub use keyless_keys::Key as CaKey;

/// A key that signs certificates (and precertificates) for the CA: any
/// [`keyless_crypto::Signer`], with signing failures as [`IssueError`].
///
/// ECDSA signatures are ASN.1 DER (`Ecdsa-Sig-Value`), as X.509 carries
/// them.
pub trait CaSigner: Send + Sync {
    /// The public half, as the CA certificate for this key carries it.
    fn public_key(&self) -> &PublicKey;

    /// The scheme [`CaSigner::sign`] produces: ECDSA with the curve's hash
    /// (SHA-256 for P-256, SHA-384 for P-384), as Fulcio does.
    fn signature_algorithm(&self) -> SignatureAlgorithm;

    /// Sign `message` (the TBS DER; hashed by the signer), returning the
    /// DER signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError>;
}

impl<S: Signer + ?Sized> CaSigner for S {
    fn public_key(&self) -> &PublicKey {
        Signer::public_key(self)
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        Signer::signature_algorithm(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IssueError> {
        Signer::sign(self, message).map_err(IssueError::Sign)
    }
}
