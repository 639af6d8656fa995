//! The Fulcio certificate profile (SPEC-CHECKS §3.2): what goes into a
//! leaf, and into the root and intermediate above it, as `x509-cert` TBS
//! structures encoded by `der`. Signing is the caller's (the CA holds the
//! key): [`assemble`] puts a TBS and its signature together.
//!
//! Leaf extensions, in order: keyUsage (critical, digitalSignature),
//! extendedKeyUsage (codeSigning), subjectKeyIdentifier,
//! authorityKeyIdentifier (= issuer SKI), subjectAltName (critical, one
//! name), .1.1 issuer (raw), .1.8 issuer (UTF8String), further Fulcio
//! extensions in OID order, then the CT poison (precertificate) or the
//! SCT list (final certificate) — the same slot, so that removing either
//! from the final TBS gives back exactly what the CT log signed.

use std::str::FromStr;

use const_oid::db::rfc5280 as ids;
use const_oid::ObjectIdentifier;
use der::asn1::{
    Any, BitString, GeneralizedTime, Ia5String, Null, OctetString, UtcTime, Utf8StringRef,
};
use der::{Decode, Encode};
use keyless_crypto::{PublicKey, SignatureAlgorithm};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{TbsCertificate, Version};

use crate::cert::Certificate;
use crate::error::ProfileError;
use crate::oid;

/// Leaf lifetime: ten minutes (fulcio-spec §7.3, `ca/common.go`).
pub const LEAF_VALIDITY_SECS: i64 = 600;

fn der_err(e: impl std::fmt::Display) -> ProfileError {
    ProfileError::Der(e.to_string())
}

/// RFC 5280 requires UTCTime through 2049 and GeneralizedTime after.
pub fn x509_time(unix: i64) -> Result<Time, ProfileError> {
    let secs = u64::try_from(unix).map_err(|_| ProfileError::Der("time before 1970".into()))?;
    let d = std::time::Duration::from_secs(secs);
    if unix < 2_524_608_000 {
        Ok(Time::UtcTime(
            UtcTime::from_unix_duration(d).map_err(der_err)?,
        ))
    } else {
        Ok(Time::GeneralTime(
            GeneralizedTime::from_unix_duration(d).map_err(der_err)?,
        ))
    }
}

/// The AlgorithmIdentifier of a CA key's signature scheme.
pub fn signature_algorithm_id(
    alg: SignatureAlgorithm,
) -> Result<AlgorithmIdentifierOwned, ProfileError> {
    let oid = match alg {
        SignatureAlgorithm::EcdsaSha256 => "1.2.840.10045.4.3.2",
        SignatureAlgorithm::EcdsaSha384 => "1.2.840.10045.4.3.3",
        SignatureAlgorithm::EcdsaSha512 => "1.2.840.10045.4.3.4",
        SignatureAlgorithm::Ed25519 => "1.3.101.112",
        other => return Err(ProfileError::UnsupportedAlgorithm(format!("{other:?}"))),
    };
    Ok(AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new(oid).map_err(der_err)?,
        parameters: None,
    })
}

/// Key identifier: the leftmost 160 bits of SHA-256 of the subjectPublicKey
/// bits (RFC 7093 §2 method 1), so that no SHA-1 is needed.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, ProfileError> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(der_err)?;
    Ok(keyless_crypto::sha256(spki.subject_public_key.raw_bytes())[..20].to_vec())
}

/// A 160-bit random positive serial number (top bit cleared so that it
/// encodes in at most 20 octets, RFC 5280 §4.1.2.2).
pub fn random_serial() -> Result<SerialNumber, ProfileError> {
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| ProfileError::Random)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // never a short serial
    SerialNumber::new(&bytes).map_err(der_err)
}

fn ext<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, ProfileError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(der_err)?).map_err(der_err)?,
    })
}

fn raw_ext(oid: ObjectIdentifier, value: &[u8]) -> Result<Extension, ProfileError> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).map_err(der_err)?,
    })
}

fn spki_of(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, ProfileError> {
    SubjectPublicKeyInfoOwned::from_der(key.spki_der()).map_err(der_err)
}

/// The certificate DER of `tbs` signed with `signature` (made by the
/// issuing key over `tbs.to_der()`, with the scheme `tbs.signature` names).
pub fn assemble(tbs: TbsCertificate, signature: &[u8]) -> Result<Vec<u8>, ProfileError> {
    let cert = x509_cert::Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(signature).map_err(der_err)?,
    };
    cert.to_der().map_err(der_err)
}

/// Which CA certificate to build.
#[derive(Debug, Clone, Copy)]
pub enum CaKind {
    /// Self-signed: CA:TRUE, KU keyCertSign+cRLSign, no EKU.
    Root,
    /// CA:TRUE pathlen 0, KU keyCertSign+cRLSign, EKU codeSigning.
    Intermediate,
}

/// The TBS of a root or intermediate certificate for `subject_key`,
/// issued by `issuer` (`None` for a root, which issues itself) with a key
/// that signs with `signature_algorithm`.
pub fn ca_tbs(
    kind: CaKind,
    subject: &str,
    subject_key: &PublicKey,
    issuer: Option<&Certificate>,
    signature_algorithm: SignatureAlgorithm,
    not_before: i64,
    not_after: i64,
) -> Result<TbsCertificate, ProfileError> {
    let subject_name = Name::from_str(subject).map_err(der_err)?;
    let ski = key_identifier(subject_key.spki_der())?;
    let (issuer_name, aki) = match issuer {
        Some(cert) => (
            cert.inner().tbs_certificate.subject.clone(),
            key_identifier(&cert.spki_der().map_err(der_err)?)?,
        ),
        None => (subject_name.clone(), ski.clone()),
    };
    let mut exts = vec![
        ext(
            ids::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: match kind {
                    CaKind::Root => None,
                    CaKind::Intermediate => Some(0),
                },
            },
        )?,
        ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        )?,
        ext(
            ids::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(ski).map_err(der_err)?),
        )?,
    ];
    if let CaKind::Intermediate = kind {
        exts.push(ext(
            ids::ID_CE_EXT_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![ids::ID_KP_CODE_SIGNING]),
        )?);
        exts.push(ext(
            ids::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(aki).map_err(der_err)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?);
    }
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: signature_algorithm_id(signature_algorithm)?,
        issuer: issuer_name,
        validity: Validity {
            not_before: x509_time(not_before)?,
            not_after: x509_time(not_after)?,
        },
        subject: subject_name,
        subject_public_key_info: spki_of(subject_key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    })
}

/// What goes in the CT slot of a leaf.
#[derive(Debug, Clone)]
pub enum CtSlot {
    /// RFC 6962 §3.1 poison: critical, value ASN.1 NULL.
    Poison,
    /// The TLS-encoded SignedCertificateTimestampList.
    Scts(Vec<u8>),
}

/// The fields of a leaf that must be identical in the precertificate and
/// the final certificate.
#[derive(Debug, Clone)]
pub struct LeafTemplate {
    pub serial: SerialNumber,
    pub not_before: i64,
    pub not_after: i64,
}

impl LeafTemplate {
    /// A fresh serial and a ten-minute window starting now, never
    /// outliving the issuer.
    pub fn new(now: i64, issuer: &Certificate) -> Result<Self, ProfileError> {
        Ok(Self {
            serial: random_serial()?,
            not_before: now,
            not_after: (now + LEAF_VALIDITY_SECS).min(issuer.not_after()),
        })
    }
}

/// The single subject alternative name of a Fulcio certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// OtherName 1.3.6.1.4.1.57264.1.7 (UTF8String), `sub!domain`.
    Username(String),
}

impl San {
    pub fn value(&self) -> &str {
        match self {
            San::Email(s) | San::Uri(s) | San::Username(s) => s,
        }
    }
}

/// Who a leaf is for, as the profile writes it.
#[derive(Debug, Clone, Copy)]
pub struct LeafSubject<'a> {
    pub san: &'a San,
    /// The OIDC issuer, written to .1.1 and .1.8.
    pub issuer: &'a str,
    /// Further Fulcio extensions (.1.2–.1.6 raw, .1.9+ UTF8String), in
    /// the order they are to appear.
    pub extensions: &'a [(ObjectIdentifier, String)],
}

fn san_extension(san: &San) -> Result<Extension, ProfileError> {
    let name = match san {
        San::Email(e) => GeneralName::Rfc822Name(Ia5String::new(e).map_err(der_err)?),
        San::Uri(u) => GeneralName::UniformResourceIdentifier(Ia5String::new(u).map_err(der_err)?),
        San::Username(u) => GeneralName::OtherName(OtherName {
            type_id: oid::OTHERNAME_SAN,
            value: Any::encode_from(&Utf8StringRef::new(u).map_err(der_err)?).map_err(der_err)?,
        }),
    };
    // Subject is empty, so the SAN must be critical (RFC 5280 §4.2.1.6).
    ext(
        ids::ID_CE_SUBJECT_ALT_NAME,
        true,
        &SubjectAltName(vec![name]),
    )
}

/// Build a leaf TBS for `subject` and `key`, issued by `issuer` with a key
/// that signs with `signature_algorithm`.
pub fn leaf_tbs(
    subject: LeafSubject<'_>,
    key: &PublicKey,
    issuer: &Certificate,
    signature_algorithm: SignatureAlgorithm,
    template: &LeafTemplate,
    slot: &CtSlot,
) -> Result<TbsCertificate, ProfileError> {
    let issuer_ski = key_identifier(&issuer.spki_der().map_err(der_err)?)?;
    let mut exts = vec![
        ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        )?,
        ext(
            ids::ID_CE_EXT_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![ids::ID_KP_CODE_SIGNING]),
        )?,
        ext(
            ids::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(
                OctetString::new(key_identifier(key.spki_der())?).map_err(der_err)?,
            ),
        )?,
        ext(
            ids::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(issuer_ski).map_err(der_err)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
        san_extension(subject.san)?,
        raw_ext(oid::ISSUER_V1, subject.issuer.as_bytes())?,
        ext(
            oid::ISSUER_V2,
            false,
            &Utf8StringRef::new(subject.issuer).map_err(der_err)?,
        )?,
    ];
    for (o, value) in subject.extensions {
        if oid::is_raw_string(o) {
            exts.push(raw_ext(*o, value.as_bytes())?);
        } else {
            exts.push(ext(
                *o,
                false,
                &Utf8StringRef::new(value).map_err(der_err)?,
            )?);
        }
    }
    exts.push(match slot {
        CtSlot::Poison => ext(oid::CT_PRECERT_POISON, true, &Null)?,
        CtSlot::Scts(list) => ext(
            oid::CT_SCT_LIST,
            false,
            &OctetString::new(list.clone()).map_err(der_err)?,
        )?,
    });
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: template.serial.clone(),
        signature: signature_algorithm_id(signature_algorithm)?,
        issuer: issuer.inner().tbs_certificate.subject.clone(),
        validity: Validity {
            not_before: x509_time(template.not_before)?,
            not_after: x509_time(template.not_after)?,
        },
        subject: Name::default(),
        subject_public_key_info: spki_of(key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    })
}
