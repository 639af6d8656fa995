//! `cosign import-key-pair`'s inputs: a PEM private key as other tools
//! write it, turned into the PKCS#8 DER that goes inside cosign's envelope.
//!
//! As cosign's `ImportKeyPair`: `PRIVATE KEY` (PKCS#8: ECDSA, RSA or
//! Ed25519), `EC PRIVATE KEY` (SEC1, RFC 5915) and `RSA PRIVATE KEY`
//! (PKCS#1). The parsing is aws-lc's; nothing here reads ASN.1 by hand.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
    ECDSA_P521_SHA512_ASN1_SIGNING,
};
use keyless_crypto::SigningKey;
use zeroize::Zeroizing;

use super::CosignKeyError;

/// Read a plain PEM private key (see the module doc) as a signing key.
pub fn import_private_key(pem: &str) -> Result<SigningKey, CosignKeyError> {
    let (label, der) =
        keyless_crypto::pem::decode(pem).map_err(|e| CosignKeyError::Pem(e.to_string()))?;
    let der = Zeroizing::new(der);
    let pkcs8: Zeroizing<Vec<u8>> = match label.as_str() {
        "PRIVATE KEY" => der,
        "EC PRIVATE KEY" => Zeroizing::new(sec1_to_pkcs8(&der)?),
        "RSA PRIVATE KEY" => {
            let kp = aws_lc_rs::rsa::KeyPair::from_der(&der)
                .map_err(|e| CosignKeyError::Key(format!("PKCS#1 RSA private key: {e}")))?;
            let doc = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp)
                .map_err(|_| CosignKeyError::Key("cannot re-encode the RSA key".into()))?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err(CosignKeyError::Pem(
                "the key is encrypted (ENCRYPTED PRIVATE KEY); decrypt it first \
                 (openssl pkcs8 -in KEY -out plain.pem)"
                    .into(),
            ))
        }
        other => {
            return Err(CosignKeyError::Pem(format!(
                "PEM type {other:?}; expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY"
            )))
        }
    };
    // aws-lc loads RSA keys of 2048 to 8192 bits only: shorter keys, which
    // sigstore refuses too, fail here.
    SigningKey::from_client_pkcs8_der(&pkcs8).map_err(|e| CosignKeyError::Key(e.to_string()))
}

/// A SEC1 `ECPrivateKey` on P-256, P-384 or P-521, as PKCS#8 v1.
fn sec1_to_pkcs8(der: &[u8]) -> Result<Vec<u8>, CosignKeyError> {
    [
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ECDSA_P384_SHA384_ASN1_SIGNING,
        &ECDSA_P521_SHA512_ASN1_SIGNING,
    ]
    .into_iter()
    .find_map(|alg| EcdsaKeyPair::from_private_key_der(alg, der).ok())
    .ok_or_else(|| CosignKeyError::Key("not a P-256, P-384 or P-521 EC private key".into()))?
    .to_pkcs8v1()
    .map(|doc| doc.as_ref().to_vec())
    .map_err(|_| CosignKeyError::Key("cannot re-encode the EC key".into()))
}
