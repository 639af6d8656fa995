//! The ESS signing-certificate-v2 attribute (RFC 5035, required in tokens by
//! RFC 3161 §2.4.1 as updated by RFC 5816). It binds the signer certificate
//! into the signed attributes, so a token cannot be re-attributed to another
//! certificate with the same key; OpenSSL's `ts -verify` insists on it.
//! No RustCrypto crate we use defines these types, so they are declared here
//! with `der`'s derive, like x509-tsp declares TSTInfo.

use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode, Sequence};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::error::{encode_err, IssueError};

/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// `IssuerSerial` (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// `ESSCertIDv2` (RFC 5035 §4). `hash_algorithm` is `None` for the DEFAULT
/// id-sha256, which DER requires to be omitted.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2` (RFC 5035 §3); policies are never sent.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// The signed attribute naming `cert` by its SHA-256 hash, issuer and serial.
pub(crate) fn signing_certificate_v2(
    cert: &x509_cert::Certificate,
    cert_der: &[u8],
) -> Result<Attribute, IssueError> {
    let tbs = &cert.tbs_certificate;
    let value = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(keyless_crypto::sha256(cert_der).to_vec())
                .map_err(encode_err("ESSCertIDv2.certHash"))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                serial_number: tbs.serial_number.clone(),
            }),
        }],
    };
    let mut values = SetOfVec::new();
    values
        .insert(Any::encode_from(&value).map_err(encode_err("SigningCertificateV2"))?)
        .map_err(encode_err("SigningCertificateV2"))?;
    // Checked encodable here, so that issuing never meets a surprise.
    let attr = Attribute {
        oid: ID_AA_SIGNING_CERTIFICATE_V2,
        values,
    };
    attr.to_der().map_err(encode_err("signingCertificateV2"))?;
    Ok(attr)
}
