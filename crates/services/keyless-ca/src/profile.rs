//! The certificate profile (SPEC-CHECKS §3.2), built with `x509-cert`'s
//! types and encoded by `der`; we only sign the TBS DER ourselves.
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
use der::asn1::{Any, BitString, GeneralizedTime, Ia5String, Null, OctetString, UtcTime, Utf8StringRef};
use der::{Decode, Encode};
use keyless_crypto::{PublicKey, SignatureAlgorithm, SigningKey};
use keyless_x509::{oid, Certificate};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{TbsCertificate, Version};

use crate::error::IssueError;
use crate::identity::{Principal, San};
use crate::signer::CaSigner;

/// Leaf lifetime: ten minutes (fulcio-spec §7.3, `ca/common.go`).
pub const LEAF_VALIDITY_SECS: i64 = 600;

fn der_err(e: impl std::fmt::Display) -> IssueError {
    IssueError::Der(e.to_string())
}

/// RFC 5280 requires UTCTime through 2049 and GeneralizedTime after.
pub fn x509_time(unix: i64) -> Result<Time, IssueError> {
    let secs = u64::try_from(unix).map_err(|_| IssueError::Der("time before 1970".into()))?;
    let d = std::time::Duration::from_secs(secs);
    if unix < 2_524_608_000 {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d).map_err(der_err)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(d).map_err(der_err)?))
    }
}

/// The AlgorithmIdentifier for what `key` signs with (a software key or a
/// token key: see [`CaSigner`]).
pub fn signature_algorithm_id<S: CaSigner + ?Sized>(key: &S) -> Result<AlgorithmIdentifierOwned, IssueError> {
    let oid = match key.signature_algorithm() {
        SignatureAlgorithm::EcdsaSha256 => "1.2.840.10045.4.3.2",
        SignatureAlgorithm::EcdsaSha384 => "1.2.840.10045.4.3.3",
        SignatureAlgorithm::EcdsaSha512 => "1.2.840.10045.4.3.4",
        SignatureAlgorithm::Ed25519 => "1.3.101.112",
        other => return Err(IssueError::Sign(format!("CA keys cannot use {other:?}"))),
    };
    Ok(AlgorithmIdentifierOwned { oid: ObjectIdentifier::new(oid).map_err(der_err)?, parameters: None })
}

/// Key identifier: the leftmost 160 bits of SHA-256 of the subjectPublicKey
/// bits (RFC 7093 §2 method 1), so that no SHA-1 is needed.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, IssueError> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(der_err)?;
    Ok(keyless_crypto::sha256(spki.subject_public_key.raw_bytes())[..20].to_vec())
}

/// A 160-bit random positive serial number (top bit cleared so that it
/// encodes in at most 20 octets, RFC 5280 §4.1.2.2).
pub fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| IssueError::Random)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // never a short serial
    SerialNumber::new(&bytes).map_err(der_err)
}

fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Result<Extension, IssueError> {
    Ok(Extension { extn_id: oid, critical, extn_value: OctetString::new(value.to_der().map_err(der_err)?).map_err(der_err)? })
}

fn raw_ext(oid: ObjectIdentifier, value: &[u8]) -> Result<Extension, IssueError> {
    Ok(Extension { extn_id: oid, critical: false, extn_value: OctetString::new(value).map_err(der_err)? })
}

fn spki_of(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, IssueError> {
    SubjectPublicKeyInfoOwned::from_der(key.spki_der()).map_err(der_err)
}

/// Sign a TBS certificate with `key`, returning the certificate DER.
pub fn sign<S: CaSigner + ?Sized>(tbs: TbsCertificate, key: &S) -> Result<Vec<u8>, IssueError> {
    let tbs_der = tbs.to_der().map_err(der_err)?;
    let sig = key.sign(&tbs_der)?;
    let cert = x509_cert::Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&sig).map_err(der_err)?,
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

/// Build a root or intermediate certificate. For a root, `issuer` is `None`.
#[allow(clippy::too_many_arguments)]
pub fn ca_certificate(
    kind: CaKind,
    subject: &str,
    subject_key: &PublicKey,
    issuer: Option<(&Certificate, &SigningKey)>,
    self_key: &SigningKey,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, IssueError> {
    let subject_name = Name::from_str(subject).map_err(der_err)?;
    let signer = issuer.map(|(_, k)| k).unwrap_or(self_key);
    let ski = key_identifier(subject_key.spki_der())?;
    let (issuer_name, aki) = match issuer {
        Some((cert, _)) => (cert.inner().tbs_certificate.subject.clone(), key_identifier(&cert.spki_der().map_err(der_err)?)?),
        None => (subject_name.clone(), ski.clone()),
    };
    let mut exts = vec![
        ext(ids::ID_CE_BASIC_CONSTRAINTS, true, &BasicConstraints {
            ca: true,
            path_len_constraint: match kind {
                CaKind::Root => None,
                CaKind::Intermediate => Some(0),
            },
        })?,
        ext(ids::ID_CE_KEY_USAGE, true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
        ext(ids::ID_CE_SUBJECT_KEY_IDENTIFIER, false, &SubjectKeyIdentifier(OctetString::new(ski).map_err(der_err)?))?,
    ];
    if let CaKind::Intermediate = kind {
        exts.push(ext(ids::ID_CE_EXT_KEY_USAGE, false, &ExtendedKeyUsage(vec![ids::ID_KP_CODE_SIGNING]))?);
        exts.push(ext(ids::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(aki).map_err(der_err)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        })?);
    }
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: signature_algorithm_id(signer)?,
        issuer: issuer_name,
        validity: Validity { not_before: x509_time(not_before)?, not_after: x509_time(not_after)? },
        subject: subject_name,
        subject_public_key_info: spki_of(subject_key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    };
    sign(tbs, signer)
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
    pub fn new(now: i64, issuer: &Certificate) -> Result<Self, IssueError> {
        Ok(Self {
            serial: random_serial()?,
            not_before: now,
            not_after: (now + LEAF_VALIDITY_SECS).min(issuer.not_after()),
        })
    }
}

fn san_extension(san: &San) -> Result<Extension, IssueError> {
    let name = match san {
        San::Email(e) => GeneralName::Rfc822Name(Ia5String::new(e).map_err(der_err)?),
        San::Uri(u) => GeneralName::UniformResourceIdentifier(Ia5String::new(u).map_err(der_err)?),
        San::Username(u) => GeneralName::OtherName(OtherName {
            type_id: oid::OTHERNAME_SAN,
            value: Any::encode_from(&Utf8StringRef::new(u).map_err(der_err)?).map_err(der_err)?,
        }),
    };
    // Subject is empty, so the SAN must be critical (RFC 5280 §4.2.1.6).
    ext(ids::ID_CE_SUBJECT_ALT_NAME, true, &SubjectAltName(vec![name]))
}

/// Build a leaf TBS for `principal` and `key`, issued by `issuer`.
pub fn leaf_tbs<S: CaSigner + ?Sized>(
    principal: &Principal,
    key: &PublicKey,
    issuer: &Certificate,
    issuer_key: &S,
    template: &LeafTemplate,
    slot: &CtSlot,
) -> Result<TbsCertificate, IssueError> {
    let issuer_ski = key_identifier(&issuer.spki_der().map_err(der_err)?)?;
    let mut exts = vec![
        ext(ids::ID_CE_KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
        ext(ids::ID_CE_EXT_KEY_USAGE, false, &ExtendedKeyUsage(vec![ids::ID_KP_CODE_SIGNING]))?,
        ext(ids::ID_CE_SUBJECT_KEY_IDENTIFIER, false, &SubjectKeyIdentifier(OctetString::new(key_identifier(key.spki_der())?).map_err(der_err)?))?,
        ext(ids::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(issuer_ski).map_err(der_err)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        })?,
        san_extension(&principal.san)?,
        raw_ext(oid::ISSUER_V1, principal.issuer.as_bytes())?,
        ext(oid::ISSUER_V2, false, &Utf8StringRef::new(&principal.issuer).map_err(der_err)?)?,
    ];
    for (o, value) in &principal.extensions {
        if oid::is_raw_string(o) {
            exts.push(raw_ext(*o, value.as_bytes())?);
        } else {
            exts.push(ext(*o, false, &Utf8StringRef::new(value).map_err(der_err)?)?);
        }
    }
    exts.push(match slot {
        CtSlot::Poison => ext(oid::CT_PRECERT_POISON, true, &Null)?,
        CtSlot::Scts(list) => ext(oid::CT_SCT_LIST, false, &OctetString::new(list.clone()).map_err(der_err)?)?,
    });
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: template.serial.clone(),
        signature: signature_algorithm_id(issuer_key)?,
        issuer: issuer.inner().tbs_certificate.subject.clone(),
        validity: Validity { not_before: x509_time(template.not_before)?, not_after: x509_time(template.not_after)? },
        subject: Name::default(),
        subject_public_key_info: spki_of(key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    })
}
