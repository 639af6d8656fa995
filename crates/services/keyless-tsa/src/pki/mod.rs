//! The TSA's certificate chain: a root, an intermediate and a time-stamping
//! leaf, generated into the data directory on first start and loaded after.
//!
//! Certificates are assembled from `x509-cert` types (TbsCertificate and the
//! PKIX extension structs) and signed with `keyless-crypto`; the `builder`
//! feature of x509-cert was not needed, as it would only add signature-trait
//! glue and SHA-1 key identifiers around the same structures.
//!
//! Profile (RFC 3161 §2.3, RFC 5280): the leaf is an end entity
//! (basicConstraints cA=FALSE, critical), keyUsage digitalSignature
//! (critical) and a single critical EKU id-kp-timeStamping; the
//! intermediate has pathLenConstraint 0 and the CAs keyCertSign|cRLSign.
//!
//! The signing (leaf) key may live on a PKCS#11 token instead of in
//! `signing.key` ([`TsaConfig::pkcs11`](crate::TsaConfig)), as the CA's
//! intermediate key may. On first start the root and intermediate are then
//! still generated in software here, and the intermediate certifies the
//! token key's public key; on later starts the token key must match the
//! stored leaf certificate. Every certificate is signed through
//! [`keyless_crypto::Signer`], so the code is the same for both kinds.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use const_oid::db::rfc5280::ID_KP_TIME_STAMPING;
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512};
use const_oid::AssociatedOid;
use der::asn1::{BitString, OctetString, UtcTime};
use der::{Decode, Encode};
use keyless_crypto::{KeyAlgorithm, PublicKey, SignatureAlgorithm, Signer, SigningKey};
use keyless_keys::pkcs11::{Pkcs11Config, Pkcs11Key};
use keyless_keys::Key;
use keyless_x509::{verify_chain, Certificate, Purpose};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::TbsCertificate;

use crate::error::{encode_err, PkiError, TsaError};
use crate::store;

/// How long generated certificates are valid: long enough that a local
/// deployment never sees its TSA expire, short enough to stay in UTCTime.
const VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// notBefore is backdated a little so that a verifier whose clock is
/// slightly behind ours still accepts fresh tokens.
const BACKDATE: u64 = 60;

const ROOT_KEY: &str = "root.key";
const INTERMEDIATE_KEY: &str = "intermediate.key";
const LEAF_KEY: &str = "signing.key";
const ROOT_CERT: &str = "root.pem";
const INTERMEDIATE_CERT: &str = "intermediate.pem";
/// Written last: its presence marks a complete chain.
const LEAF_CERT: &str = "signing.pem";

/// Every file of the chain and its software keys (see
/// [`TsaConfig::CHAIN_FILES`](crate::TsaConfig::CHAIN_FILES)).
pub(crate) const CHAIN_FILES: [&str; 6] = [
    ROOT_KEY,
    INTERMEDIATE_KEY,
    LEAF_KEY,
    ROOT_CERT,
    INTERMEDIATE_CERT,
    LEAF_CERT,
];

/// The loaded chain and the leaf's signing key.
pub(crate) struct Pki {
    /// Leaf, intermediate, root.
    pub chain: Vec<Certificate>,
    pub leaf_key: Key,
}

/// Load the chain from `dir`, or generate one there if none is complete.
/// With `pkcs11`, the signing key is the token's (opened first, so that a
/// wrong PIN or label fails before anything is written), generated on the
/// token on the curve `algorithm` if the configuration allows it.
pub(crate) fn load_or_generate(
    dir: &Path,
    algorithm: KeyAlgorithm,
    organization: &str,
    now: u64,
    pkcs11: Option<&Pkcs11Config>,
) -> Result<Pki, TsaError> {
    let token_key = match pkcs11 {
        Some(config) => Some(Pkcs11Key::open(config, algorithm)?),
        None => None,
    };
    store::ensure_dir(dir)?;
    if store::exists(&dir.join(LEAF_CERT)) {
        return load(dir, now, token_key);
    }
    let token_public = token_key.as_ref().map(|k| Signer::public_key(k).clone());
    let pki = generate(algorithm, organization, now, token_public.as_ref())?;
    // Keys first, the leaf certificate last (it marks completeness).
    store::write(&dir.join(ROOT_KEY), &pki.root_key.to_pkcs8_pem(), true)?;
    store::write(
        &dir.join(INTERMEDIATE_KEY),
        &pki.intermediate_key.to_pkcs8_pem(),
        true,
    )?;
    let leaf_key = match (pki.leaf_key, token_key) {
        (Some(software), _) => {
            store::write(&dir.join(LEAF_KEY), &software.to_pkcs8_pem(), true)?;
            Key::Software(software)
        }
        (None, Some(token)) => Key::Pkcs11(token),
        (None, None) => return Err(TsaError::Pki(PkiError::NoSigningKey)),
    };
    for (name, cert) in [(ROOT_CERT, 2), (INTERMEDIATE_CERT, 1), (LEAF_CERT, 0)] {
        store::write(&dir.join(name), &pem(&pki.chain[cert])?, false)?;
    }
    tracing::info!(dir = %dir.display(), on_token = matches!(leaf_key, Key::Pkcs11(_)), "generated a new TSA certificate chain");
    Ok(Pki {
        chain: pki.chain,
        leaf_key,
    })
}

fn load(dir: &Path, now: u64, token_key: Option<Pkcs11Key>) -> Result<Pki, TsaError> {
    let cert = |name: &str, what: &'static str| -> Result<Certificate, TsaError> {
        Certificate::from_pem(&store::read(&dir.join(name))?).map_err(|source| {
            TsaError::Pki(PkiError::Stored {
                what,
                source: Box::new(source),
            })
        })
    };
    let chain = vec![
        cert(LEAF_CERT, "signing")?,
        cert(INTERMEDIATE_CERT, "intermediate")?,
        cert(ROOT_CERT, "root")?,
    ];
    let leaf_key = match token_key {
        Some(key) => {
            let cert_key = chain[0].public_key().map_err(|source| PkiError::Stored {
                what: "signing",
                source: Box::new(source),
            })?;
            if &cert_key != Signer::public_key(&key) {
                return Err(TsaError::TokenKeyMismatch {
                    cert: dir.join(LEAF_CERT),
                    key_label: key.key_label().to_owned(),
                    token_label: key.token_label().to_owned(),
                });
            }
            Key::Pkcs11(key)
        }
        None if !store::exists(&dir.join(LEAF_KEY)) => {
            return Err(TsaError::SigningKeyMissing {
                path: dir.join(LEAF_KEY),
            })
        }
        None => Key::Software(store::read_key(&dir.join(LEAF_KEY))?),
    };
    // A chain that no longer validates (expired, edited) would make every
    // token fail verification: refuse to start instead.
    let at = i64::try_from(now).unwrap_or(i64::MAX);
    verify_chain(
        &chain[0],
        &chain[1..2],
        &chain[2..],
        at,
        Purpose::TimeStamping,
    )
    .map_err(|e| PkiError::Chain(Box::new(e)))?;
    Ok(Pki { chain, leaf_key })
}

/// The PEM text of a certificate.
pub(crate) fn pem(cert: &Certificate) -> Result<String, PkiError> {
    Ok(keyless_crypto::pem::encode("CERTIFICATE", cert.der()))
}

/// A new chain and the software keys generated for it. `leaf_key` is
/// `None` when the leaf certifies a key held elsewhere (a token).
struct Generated {
    /// Leaf, intermediate, root.
    chain: Vec<Certificate>,
    leaf_key: Option<SigningKey>,
    root_key: SigningKey,
    intermediate_key: SigningKey,
}

/// Generate root and intermediate keys and certificates, and a leaf
/// certificate for `leaf_public` (or for a new software key if `None`).
fn generate(
    algorithm: KeyAlgorithm,
    organization: &str,
    now: u64,
    leaf_public: Option<&PublicKey>,
) -> Result<Generated, PkiError> {
    if !matches!(algorithm, KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) {
        return Err(PkiError::UnsupportedAlgorithm(format!("{algorithm:?}")));
    }
    let key = |what: &'static str| {
        SigningKey::generate(algorithm).map_err(|source| PkiError::KeyGeneration {
            algorithm: format!("{algorithm:?} ({what})"),
            source,
        })
    };
    let (root_key, intermediate_key) = (key("root")?, key("intermediate")?);
    let leaf_key = match leaf_public {
        Some(_) => None,
        None => Some(key("leaf")?),
    };
    let leaf_public = match (leaf_public, &leaf_key) {
        (Some(public), _) => public,
        (None, Some(key)) => key.public_key(),
        (None, None) => return Err(PkiError::NoSigningKey),
    };
    let name = |cn: &str| {
        // RFC 4514 order: most specific first. Commas would split RDNs.
        let org = organization.replace([',', '+', '=', '\\', '"'], " ");
        Name::from_str(&format!("CN={cn},O={org}")).map_err(encode_err("name"))
    };
    let root_name = name("keyless-tsa-root")?;
    let intermediate_name = name("keyless-tsa-intermediate")?;
    let leaf_name = name("keyless-tsa")?;
    let validity = validity(now)?;

    let ca_usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    let root = sign(
        Template {
            subject: root_name.clone(),
            issuer: root_name.clone(),
            validity,
            subject_key: root_key.public_key(),
            extensions: vec![
                ext(
                    &BasicConstraints {
                        ca: true,
                        path_len_constraint: None,
                    },
                    true,
                )?,
                ext(&ca_usage, true)?,
                ext(&ski(root_key.public_key())?, false)?,
            ],
        },
        &root_key,
        "root",
    )?;
    let intermediate = sign(
        Template {
            subject: intermediate_name.clone(),
            issuer: root_name,
            validity,
            subject_key: intermediate_key.public_key(),
            extensions: vec![
                ext(
                    &BasicConstraints {
                        ca: true,
                        path_len_constraint: Some(0),
                    },
                    true,
                )?,
                ext(&ca_usage, true)?,
                ext(&ski(intermediate_key.public_key())?, false)?,
                ext(&aki(root_key.public_key())?, false)?,
            ],
        },
        &root_key,
        "intermediate",
    )?;
    let leaf = sign(
        Template {
            subject: leaf_name,
            issuer: intermediate_name,
            validity,
            subject_key: leaf_public,
            extensions: vec![
                ext(
                    &BasicConstraints {
                        ca: false,
                        path_len_constraint: None,
                    },
                    true,
                )?,
                ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true)?,
                // RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, critical.
                ext(&ExtendedKeyUsage(vec![ID_KP_TIME_STAMPING]), true)?,
                ext(&ski(leaf_public)?, false)?,
                ext(&aki(intermediate_key.public_key())?, false)?,
            ],
        },
        &intermediate_key,
        "signing",
    )?;
    Ok(Generated {
        chain: vec![leaf, intermediate, root],
        leaf_key,
        root_key,
        intermediate_key,
    })
}

struct Template<'a> {
    subject: Name,
    issuer: Name,
    validity: Validity,
    subject_key: &'a PublicKey,
    extensions: Vec<Extension>,
}

fn sign(
    t: Template<'_>,
    issuer_key: &dyn Signer,
    what: &'static str,
) -> Result<Certificate, PkiError> {
    let signature_alg = AlgorithmIdentifierOwned {
        oid: match issuer_key.signature_algorithm() {
            SignatureAlgorithm::EcdsaSha256 => ECDSA_WITH_SHA_256,
            SignatureAlgorithm::EcdsaSha384 => ECDSA_WITH_SHA_384,
            SignatureAlgorithm::EcdsaSha512 => ECDSA_WITH_SHA_512,
            other => return Err(PkiError::UnsupportedAlgorithm(format!("{other:?}"))),
        },
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: random_serial()?,
        signature: signature_alg.clone(),
        issuer: t.issuer,
        validity: t.validity,
        subject: t.subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(t.subject_key.spki_der())
            .map_err(encode_err("subjectPublicKeyInfo"))?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(t.extensions),
    };
    let tbs_der = tbs.to_der().map_err(encode_err("TBSCertificate"))?;
    let signature = issuer_key
        .sign(&tbs_der)
        .map_err(|source| PkiError::Sign { what, source })?;
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: signature_alg,
        signature: BitString::from_bytes(&signature).map_err(encode_err("signature"))?,
    };
    let der = cert.to_der().map_err(encode_err("certificate"))?;
    Certificate::from_der(&der).map_err(|source| PkiError::Parse {
        what,
        source: Box::new(source),
    })
}

fn validity(now: u64) -> Result<Validity, PkiError> {
    let start = Duration::from_secs(now.saturating_sub(BACKDATE));
    let end = start + VALIDITY;
    Ok(Validity {
        not_before: Time::UtcTime(
            UtcTime::from_unix_duration(start).map_err(encode_err("notBefore"))?,
        ),
        not_after: Time::UtcTime(UtcTime::from_unix_duration(end).map_err(encode_err("notAfter"))?),
    })
}

fn ext<E: AssociatedOid + Encode>(value: &E, critical: bool) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: E::OID,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(encode_err("extension"))?)
            .map_err(encode_err("extension"))?,
    })
}

/// Key identifier: the leftmost 160 bits of the SHA-256 of the
/// subjectPublicKey bits (RFC 7093 §2 method 1).
fn key_id(key: &PublicKey) -> Result<OctetString, PkiError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(key.spki_der())
        .map_err(encode_err("subjectPublicKeyInfo"))?;
    let digest = keyless_crypto::sha256(spki.subject_public_key.raw_bytes());
    OctetString::new(&digest[..20]).map_err(encode_err("key identifier"))
}

fn ski(key: &PublicKey) -> Result<SubjectKeyIdentifier, PkiError> {
    Ok(SubjectKeyIdentifier(key_id(key)?))
}

fn aki(issuer_key: &PublicKey) -> Result<AuthorityKeyIdentifier, PkiError> {
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(key_id(issuer_key)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

/// 128 random bits, made positive (RFC 5280 §4.1.2.2: at most 20 octets,
/// unpredictable serials are CA/B practice).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| PkiError::Random)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::new(&bytes).map_err(encode_err("serial number"))
}

#[cfg(test)]
mod tests;
