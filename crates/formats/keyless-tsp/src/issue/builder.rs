//! Issuing: from a checked request to a signed DER TimeStampResp.
//!
//! Everything that does not depend on the request (signer identifier,
//! algorithm identifiers, the signing-certificate attribute, the certificate
//! to embed) is computed once in [`TokenBuilder::new`]; per request there is
//! one TSTInfo to encode, one digest and one signature. All structures are
//! RustCrypto `cms` / `x509-tsp` / `der` types: no ASN.1 is written by hand.
//!
//! The `cms` crate's `builder` feature was evaluated and not used: it pulls
//! in `rsa` (RUSTSEC-2023-0071), AES/CBC and SHA-3 for a code path we do not
//! need, expects its signer through the `signature` traits, hashes with a
//! second SHA-2 implementation, and cannot add the ESS attribute before the
//! digest attribute without the same amount of glue as building SignedData
//! directly.

use cmpv2::status::{PkiStatus, PkiStatusInfo};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, OctetString, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode, Sequence};
use keyless_crypto::{HashAlgorithm, SignatureAlgorithm, SigningKey};
use keyless_x509::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{Accuracy, TimeStampResp, TspVersion, TstInfo};

use super::error::{encode_err, FailureInfo, IssueError};
use super::ess::signing_certificate_v2;
use super::request::{hash_oid, TimestampRequest};
use crate::token::ID_CT_TST_INFO;

/// Signs time-stamp tokens with one key and certificate.
#[derive(Debug)]
pub struct TokenBuilder {
    key: SigningKey,
    /// Hash for the SignerInfo digest: the one the key's curve signs with.
    digest: HashAlgorithm,
    digest_alg: AlgorithmIdentifierOwned,
    signature_alg: AlgorithmIdentifierOwned,
    sid: SignerIdentifier,
    /// The signer certificate, embedded when the client sets certReq.
    signer_cert: CertificateChoices,
    /// content-type and signingCertificateV2: the same in every token.
    fixed_attrs: Vec<Attribute>,
    policy: ObjectIdentifier,
    accuracy: Option<Accuracy>,
    tsa_name: Option<GeneralName>,
}

impl TokenBuilder {
    /// A builder signing under `policy` with `key`, whose certificate is
    /// `signer`. The certificate must match the key, carry a critical
    /// id-kp-timeStamping EKU and not be a CA: a token from any other
    /// certificate would be rejected by every verifier, so refusing to start
    /// beats issuing useless tokens.
    pub fn new(
        key: SigningKey,
        signer: &Certificate,
        policy: ObjectIdentifier,
    ) -> Result<Self, IssueError> {
        let subject = signer.describe();
        let spki = signer.spki_der().map_err(|e| IssueError::Certificate {
            subject: subject.clone(),
            problem: e.to_string(),
        })?;
        if spki != key.public_key().spki_der() {
            return Err(IssueError::KeyMismatch { subject });
        }
        check_tsa_certificate(signer)?;

        let (digest, sig_oid) = match key.signature_algorithm() {
            SignatureAlgorithm::EcdsaSha256 => (HashAlgorithm::Sha256, ECDSA_WITH_SHA_256),
            SignatureAlgorithm::EcdsaSha384 => (HashAlgorithm::Sha384, ECDSA_WITH_SHA_384),
            SignatureAlgorithm::EcdsaSha512 => (HashAlgorithm::Sha512, ECDSA_WITH_SHA_512),
            other => return Err(IssueError::UnsupportedKey(format!("{other:?}"))),
        };
        let tbs = &signer.inner().tbs_certificate;
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        });
        let content_type = Attribute {
            oid: ID_CONTENT_TYPE,
            values: single(Any::encode_from(&ID_CT_TST_INFO).map_err(encode_err("content-type"))?)?,
        };
        let fixed_attrs = vec![
            content_type,
            signing_certificate_v2(signer.inner(), signer.der())?,
        ];
        Ok(Self {
            key,
            digest,
            digest_alg: AlgorithmIdentifierOwned {
                oid: hash_oid(digest),
                parameters: None,
            },
            signature_alg: AlgorithmIdentifierOwned {
                oid: sig_oid,
                parameters: None,
            },
            sid,
            signer_cert: CertificateChoices::Certificate(signer.inner().clone()),
            fixed_attrs,
            policy,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            tsa_name: Some(GeneralName::DirectoryName(tbs.subject.clone())),
        })
    }

    /// The accuracy claimed for genTime, in whole seconds (`None`: omit the
    /// field). Default: 1 second, as genTime is truncated to the second.
    pub fn with_accuracy_seconds(mut self, seconds: Option<u64>) -> Self {
        self.accuracy = seconds.map(|s| Accuracy {
            seconds: Some(s),
            millis: None,
            micros: None,
        });
        self
    }

    /// The policy every token is issued under.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// Check a request against this TSA's policy (a request for another
    /// policy must be refused, RFC 3161 §2.4.2 unacceptedPolicy).
    pub fn check_policy(&self, req: &TimestampRequest) -> Result<(), super::RequestError> {
        match req.policy() {
            Some(p) if p != self.policy => Err(super::RequestError::UnacceptedPolicy {
                requested: p.to_string(),
                supported: self.policy.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// A granted TimeStampResp (DER) for `req`, stamped `gen_time` (Unix
    /// seconds; whole seconds only, since verifiers built on `der` 0.7 reject
    /// fractional GeneralizedTime) with serial number `serial` (big-endian
    /// magnitude; the caller guarantees uniqueness).
    pub fn grant(
        &self,
        req: &TimestampRequest,
        serial: &[u8],
        gen_time: u64,
    ) -> Result<Vec<u8>, IssueError> {
        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: req.message_imprint().map_err(|e| IssueError::Value {
                what: "messageImprint",
                reason: e.to_string(),
            })?,
            serial_number: super::request::uint_to_int(serial).map_err(|e| IssueError::Value {
                what: "serial number",
                reason: e.to_string(),
            })?,
            gen_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(gen_time))
                .map_err(|e| IssueError::Value {
                    what: "genTime",
                    reason: e.to_string(),
                })?,
            accuracy: self.accuracy.clone(),
            ordering: false,
            nonce: req.nonce_int().cloned(),
            tsa: self.tsa_name.clone(),
            extensions: None,
        };
        let tst_der = tst_info.to_der().map_err(encode_err("TSTInfo"))?;
        let message_digest = Attribute {
            oid: ID_MESSAGE_DIGEST,
            values: single(
                Any::encode_from(
                    &OctetString::new(self.digest.digest(&tst_der))
                        .map_err(encode_err("message-digest"))?,
                )
                .map_err(encode_err("message-digest"))?,
            )?,
        };
        let mut attrs = self.fixed_attrs.clone();
        attrs.push(message_digest);
        // SetOfVec sorts into DER order; the signature covers that encoding
        // with the SET OF tag (RFC 5652 §5.4).
        let signed_attrs = SetOfVec::try_from(attrs).map_err(encode_err("signed attributes"))?;
        let to_sign = signed_attrs
            .to_der()
            .map_err(encode_err("signed attributes"))?;
        let signature = self.key.sign(&to_sign).map_err(IssueError::Sign)?;

        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: self.sid.clone(),
            digest_alg: self.digest_alg.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: self.signature_alg.clone(),
            signature: OctetString::new(signature).map_err(encode_err("signature"))?,
            unsigned_attrs: None,
        };
        let certificates = if req.cert_req() {
            Some(CertificateSet(
                single_set(self.signer_cert.clone()).map_err(encode_err("certificates"))?,
            ))
        } else {
            None
        };
        let signed_data = SignedData {
            // RFC 5652 §5.1: version 3 because eContentType is not id-data.
            version: CmsVersion::V3,
            digest_algorithms: single_set(self.digest_alg.clone())
                .map_err(encode_err("digestAlgorithms"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                econtent: Some(
                    Any::encode_from(&OctetString::new(tst_der).map_err(encode_err("eContent"))?)
                        .map_err(encode_err("eContent"))?,
                ),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos(single_set(signer_info).map_err(encode_err("signerInfos"))?),
        };
        let token = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(encode_err("SignedData"))?,
        };
        TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(token),
        }
        .to_der()
        .map_err(encode_err("TimeStampResp"))
    }
}

/// PKIStatusInfo (RFC 3161 §2.4.2) with failInfo as a plain BIT STRING.
/// cmpv2 0.2's `PkiFailureInfoValues` declares bit *positions* as flag
/// *masks* (its BadDataFormat = 5 encodes bits 0 and 2, badAlg and
/// badRequest), so its flag set cannot express the failure bits correctly;
/// rejections are encoded and read with this structure instead.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct StatusInfo<'a> {
    status: PkiStatus,
    #[asn1(optional = "true")]
    status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2) over [`StatusInfo`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Response<'a> {
    status: StatusInfo<'a>,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// The PKIFailureInfo bit number of each failure (RFC 3161 §2.4.2).
const FAILURE_BITS: [(FailureInfo, usize); 7] = [
    (FailureInfo::BadAlg, 0),
    (FailureInfo::BadRequest, 2),
    (FailureInfo::BadDataFormat, 5),
    (FailureInfo::TimeNotAvailable, 14),
    (FailureInfo::UnacceptedPolicy, 15),
    (FailureInfo::UnacceptedExtension, 16),
    (FailureInfo::SystemFailure, 25),
];

/// A named-bit BIT STRING with only bit `n` set, trailing zero bits
/// removed as DER requires (X.690 §11.2.2).
fn named_bit(n: usize) -> der::Result<BitString> {
    let mut bytes = vec![0u8; n / 8 + 1];
    let shift = 7 - (n % 8);
    if let Some(last) = bytes.last_mut() {
        *last = 1 << shift;
    }
    // `shift` < 8, so the cast cannot truncate.
    BitString::new(shift as u8, bytes)
}

fn bit_is_set(bits: &BitString, n: usize) -> bool {
    bits.raw_bytes()
        .get(n / 8)
        .is_some_and(|byte| byte & (1 << (7 - (n % 8))) != 0)
}

/// A rejection TimeStampResp (DER): status rejection, one failInfo bit and a
/// human-readable statusString (RFC 3161 §2.4.2). The text goes to the
/// client: it must not carry secrets.
pub fn rejection(failure: FailureInfo, text: &str) -> Result<Vec<u8>, IssueError> {
    let bit = FAILURE_BITS
        .iter()
        .find(|(f, _)| *f == failure)
        .map_or(25, |(_, bit)| *bit);
    // Bounded, so that an error echoing client input cannot grow the reply.
    let text: String = text.chars().take(256).collect();
    let text = Utf8StringRef::new(&text).map_err(encode_err("statusString"))?;
    Response {
        status: StatusInfo {
            status: PkiStatus::Rejection,
            status_string: Some(vec![text]),
            fail_info: Some(named_bit(bit).map_err(encode_err("failInfo"))?),
        },
        time_stamp_token: None,
    }
    .to_der()
    .map_err(encode_err("TimeStampResp"))
}

/// The failInfo and statusString of a rejection response, for clients and
/// tests: `None` when `der` is not a rejection.
pub fn parse_rejection(der: &[u8]) -> Option<(Vec<FailureInfo>, String)> {
    let resp = Response::from_der(der).ok()?;
    if resp.status.status != PkiStatus::Rejection {
        return None;
    }
    let text = resp
        .status
        .status_string
        .iter()
        .flatten()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let found = match &resp.status.fail_info {
        Some(bits) => FAILURE_BITS
            .iter()
            .filter(|(_, n)| bit_is_set(bits, *n))
            .map(|(f, _)| *f)
            .collect(),
        None => Vec::new(),
    };
    Some((found, text))
}

/// RFC 3161 §2.3: the TSA certificate has exactly one EKU, id-kp-timeStamping,
/// marked critical, and is an end entity.
fn check_tsa_certificate(cert: &Certificate) -> Result<(), IssueError> {
    let problem = |p: &str| IssueError::Certificate {
        subject: cert.describe(),
        problem: p.to_string(),
    };
    if cert.is_ca() {
        return Err(problem("it is a CA certificate"));
    }
    match cert.extended_key_usage() {
        Ok(Some((true, eku))) if eku.0 == [const_oid::db::rfc5280::ID_KP_TIME_STAMPING] => Ok(()),
        Ok(Some((false, _))) => Err(problem("extendedKeyUsage is not critical")),
        Ok(_) => Err(problem(
            "extendedKeyUsage is not exactly id-kp-timeStamping",
        )),
        Err(e) => Err(problem(&e.to_string())),
    }
}

fn single(value: Any) -> Result<SetOfVec<Any>, IssueError> {
    single_set(value).map_err(encode_err("attribute value"))
}

fn single_set<T: der::DerOrd>(value: T) -> der::Result<SetOfVec<T>> {
    let mut set = SetOfVec::new();
    set.insert(value)?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_bits_are_named_bits() {
        // badDataFormat is bit 5: one octet 0b0000_0100 with 2 unused bits.
        let bits = named_bit(5).unwrap();
        assert_eq!(bits.raw_bytes(), &[0x04]);
        assert_eq!(bits.unused_bits(), 2);
        let bits = named_bit(25).unwrap();
        assert_eq!(bits.raw_bytes(), &[0, 0, 0, 0x40]);
        for (failure, _) in FAILURE_BITS {
            let der = rejection(failure, "why").unwrap();
            assert_eq!(parse_rejection(&der), Some((vec![failure], "why".into())));
        }
    }
}
