//! Issuing: from a checked request to a signed DER TimeStampResp.
//!
//! Everything that does not depend on the request (signer identifier,
//! algorithm identifiers, the signing-certificate attribute, the certificate
//! to embed) is built from RustCrypto `cms` / `x509-tsp` / `der` types and
//! DER-encoded once in [`TokenBuilder::new`]. Per request only the TSTInfo
//! fields that change are encoded (each by its `der` type), then one digest
//! and one signature; the pre-encoded parts are spliced under SEQUENCE/SET
//! headers whose lengths are computed here. That is the only ASN.1 written
//! by hand, and a test checks the result byte for byte against encoding the
//! whole typed structure. (Re-encoding the embedded certificate and the ESS
//! attribute per token was half of the non-signature time.)
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
use cms::signed_data::{CertificateSet, SignerIdentifier};
#[cfg(test)]
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerInfo, SignerInfos};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, OctetString, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode, Sequence};
use keyless_crypto::{HashAlgorithm, SignatureAlgorithm, Signer, SigningKey};
use keyless_x509::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{Accuracy, TspVersion};
#[cfg(test)]
use x509_tsp::{TimeStampResp, TstInfo};

use super::error::{encode_err, FailureInfo, IssueError};
use super::ess::signing_certificate_v2;
use super::request::{hash_oid, TimestampRequest};
use crate::token::ID_CT_TST_INFO;

/// Signs time-stamp tokens with one key and certificate. The key is any
/// [`Signer`] (a software key by default; the TSA passes the key store's
/// key, which may live on a PKCS#11 token).
#[derive(Debug)]
pub struct TokenBuilder<K = SigningKey> {
    key: K,
    /// Hash for the SignerInfo digest: the one the key's curve signs with.
    digest: HashAlgorithm,
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    digest_alg: AlgorithmIdentifierOwned,
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    signature_alg: AlgorithmIdentifierOwned,
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    sid: SignerIdentifier,
    /// The signer certificate, embedded when the client sets certReq.
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    signer_cert: CertificateChoices,
    /// content-type and signingCertificateV2: the same in every token.
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    fixed_attrs: Vec<Attribute>,
    policy: ObjectIdentifier,
    accuracy: Option<Accuracy>,
    #[cfg_attr(not(test), allow(dead_code))] // kept for the reference encoding
    tsa_name: Option<GeneralName>,
    /// DER of everything above that goes into every token, encoded once.
    enc: Encoded,
}

/// The invariant parts of a token, DER-encoded once in [`TokenBuilder::new`]
/// with the same `der`/`cms`/`x509-tsp` types as before. Per token only the
/// TSTInfo fields that change, the message digest and the signature are
/// encoded; [`TokenBuilder::grant`] splices them between these parts under
/// SEQUENCE/SET headers whose lengths it computes. A test checks that the
/// result is byte-for-byte what encoding the whole typed structure gives.
#[derive(Debug, Clone)]
struct Encoded {
    /// TSTInfo `version` and `policy`.
    tst_head: Vec<u8>,
    /// TSTInfo `tsa` ([0] EXPLICIT GeneralName), or empty.
    tst_tsa: Vec<u8>,
    /// Content octets of the signed-attributes SET OF, in DER order, with
    /// an all-zero message digest at `digest_at`.
    attrs: Vec<u8>,
    digest_at: usize,
    /// SignedData `version` and `digestAlgorithms`.
    sd_head: Vec<u8>,
    /// eContentType (id-ct-TSTInfo).
    econtent_type: Vec<u8>,
    /// SignedData `certificates` ([0] IMPLICIT CertificateSet).
    certificates: Vec<u8>,
    /// SignerInfo `version`, `sid` and `digestAlgorithm`.
    signer_head: Vec<u8>,
    /// SignerInfo `signatureAlgorithm`.
    signature_alg: Vec<u8>,
    /// TimeStampResp `status` (granted) and ContentInfo `contentType`.
    status: Vec<u8>,
    signed_data_oid: Vec<u8>,
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OCTET_STRING: u8 = 0x04;
/// [0], constructed.
const CONTEXT_0: u8 = 0xa0;

/// Length of a DER TLV with `len` content octets (definite, short or long form).
fn tlv_len(len: usize) -> usize {
    1 + len_of_len(len) + len
}

fn len_of_len(len: usize) -> usize {
    match len {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xff_ffff => 4,
        _ => 5,
    }
}

/// A DER identifier octet and definite length (X.690 §8.1.3, §10.1).
fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    let n = len_of_len(len);
    if n == 1 {
        // Short form: fits in seven bits.
        out.push(len as u8);
    } else {
        out.push(0x80 | (n - 1) as u8);
        let bytes = len.to_be_bytes();
        out.extend_from_slice(&bytes[bytes.len() - (n - 1)..]);
    }
}

impl<K: Signer> TokenBuilder<K> {
    /// A builder signing under `policy` with `key`, whose certificate is
    /// `signer`. The certificate must match the key, carry a critical
    /// id-kp-timeStamping EKU and not be a CA: a token from any other
    /// certificate would be rejected by every verifier, so refusing to start
    /// beats issuing useless tokens.
    pub fn new(key: K, signer: &Certificate, policy: ObjectIdentifier) -> Result<Self, IssueError> {
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
        let digest_alg = AlgorithmIdentifierOwned {
            oid: hash_oid(digest),
            parameters: None,
        };
        let signature_alg = AlgorithmIdentifierOwned {
            oid: sig_oid,
            parameters: None,
        };
        let signer_cert = CertificateChoices::Certificate(signer.inner().clone());
        let tsa_name = Some(GeneralName::DirectoryName(tbs.subject.clone()));
        let enc = Encoded::new(
            digest,
            &digest_alg,
            &signature_alg,
            &sid,
            &signer_cert,
            &fixed_attrs,
            policy,
            tsa_name.as_ref(),
        )?;
        Ok(Self {
            key,
            digest,
            digest_alg,
            signature_alg,
            sid,
            signer_cert,
            fixed_attrs,
            policy,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            tsa_name,
            enc,
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
        self.grant_with(req, serial, gen_time, |m| {
            self.key.sign(m).map_err(IssueError::Sign)
        })
    }

    /// [`Self::grant`] with the signature made by `sign` over the DER
    /// signed attributes.
    fn grant_with(
        &self,
        req: &TimestampRequest,
        serial: &[u8],
        gen_time: u64,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, IssueError>,
    ) -> Result<Vec<u8>, IssueError> {
        let e = &self.enc;
        // TSTInfo: the per-request fields, each encoded by its `der` type.
        let mut tst_body = Vec::with_capacity(256);
        tst_body.extend_from_slice(&e.tst_head);
        req.message_imprint()
            .map_err(|e| IssueError::Value {
                what: "messageImprint",
                reason: e.to_string(),
            })?
            .encode_to_vec(&mut tst_body)
            .map_err(encode_err("TSTInfo"))?;
        super::request::uint_to_int(serial)
            .map_err(|e| IssueError::Value {
                what: "serial number",
                reason: e.to_string(),
            })?
            .encode_to_vec(&mut tst_body)
            .map_err(encode_err("TSTInfo"))?;
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(gen_time))
            .map_err(|e| IssueError::Value {
                what: "genTime",
                reason: e.to_string(),
            })?
            .encode_to_vec(&mut tst_body)
            .map_err(encode_err("TSTInfo"))?;
        if let Some(accuracy) = &self.accuracy {
            accuracy
                .encode_to_vec(&mut tst_body)
                .map_err(encode_err("TSTInfo"))?;
        }
        // ordering FALSE is the DEFAULT, omitted in DER.
        if let Some(nonce) = req.nonce_int() {
            nonce
                .encode_to_vec(&mut tst_body)
                .map_err(encode_err("TSTInfo"))?;
        }
        tst_body.extend_from_slice(&e.tst_tsa);
        let mut tst_der = Vec::with_capacity(tlv_len(tst_body.len()));
        header(&mut tst_der, SEQUENCE, tst_body.len());
        tst_der.extend_from_slice(&tst_body);

        // Signed attributes: the template with this token's digest.
        let digest = self.digest.digest(&tst_der);
        let attrs_len = e.attrs.len();
        let mut to_sign = Vec::with_capacity(tlv_len(attrs_len));
        header(&mut to_sign, SET, attrs_len);
        let at = to_sign.len() + e.digest_at;
        to_sign.extend_from_slice(&e.attrs);
        to_sign
            .get_mut(at..at + digest.len())
            .ok_or_else(|| IssueError::Value {
                what: "message-digest",
                reason: "digest length differs from the template".into(),
            })?
            .copy_from_slice(&digest);
        let signature = sign(&to_sign)?;
        let signed_attrs = &to_sign[tlv_len(attrs_len) - attrs_len..];

        // Lengths, innermost first.
        let signer_info = e.signer_head.len()
            + tlv_len(attrs_len)
            + e.signature_alg.len()
            + tlv_len(signature.len());
        let signer_infos = tlv_len(signer_info);
        let econtent = tlv_len(tst_der.len());
        let encap = e.econtent_type.len() + tlv_len(econtent);
        let certificates = if req.cert_req() {
            e.certificates.len()
        } else {
            0
        };
        let signed_data = e.sd_head.len() + tlv_len(encap) + certificates + tlv_len(signer_infos);
        let content_info = e.signed_data_oid.len() + tlv_len(tlv_len(signed_data));
        let resp = e.status.len() + tlv_len(content_info);

        let mut out = Vec::with_capacity(tlv_len(resp));
        header(&mut out, SEQUENCE, resp);
        out.extend_from_slice(&e.status);
        header(&mut out, SEQUENCE, content_info);
        out.extend_from_slice(&e.signed_data_oid);
        header(&mut out, CONTEXT_0, tlv_len(signed_data));
        header(&mut out, SEQUENCE, signed_data);
        out.extend_from_slice(&e.sd_head);
        header(&mut out, SEQUENCE, encap);
        out.extend_from_slice(&e.econtent_type);
        header(&mut out, CONTEXT_0, econtent);
        header(&mut out, OCTET_STRING, tst_der.len());
        out.extend_from_slice(&tst_der);
        if req.cert_req() {
            out.extend_from_slice(&e.certificates);
        }
        header(&mut out, SET, tlv_len(signer_info));
        header(&mut out, SEQUENCE, signer_info);
        out.extend_from_slice(&e.signer_head);
        header(&mut out, CONTEXT_0, attrs_len);
        out.extend_from_slice(signed_attrs);
        out.extend_from_slice(&e.signature_alg);
        header(&mut out, OCTET_STRING, signature.len());
        out.extend_from_slice(&signature);
        debug_assert_eq!(out.len(), tlv_len(resp));
        Ok(out)
    }

    /// The straightforward encoding of the whole typed structure, which
    /// [`Self::grant_with`] must reproduce byte for byte.
    #[cfg(test)]
    fn grant_reference(
        &self,
        req: &TimestampRequest,
        serial: &[u8],
        gen_time: u64,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, IssueError>,
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
        let signature = sign(&to_sign)?;

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

impl Encoded {
    #[allow(clippy::too_many_arguments)]
    fn new(
        digest: HashAlgorithm,
        digest_alg: &AlgorithmIdentifierOwned,
        signature_alg: &AlgorithmIdentifierOwned,
        sid: &SignerIdentifier,
        signer_cert: &CertificateChoices,
        fixed_attrs: &[Attribute],
        policy: ObjectIdentifier,
        tsa_name: Option<&GeneralName>,
    ) -> Result<Self, IssueError> {
        let mut tst_head = TspVersion::V1.to_der().map_err(encode_err("TSTInfo"))?;
        policy
            .encode_to_vec(&mut tst_head)
            .map_err(encode_err("TSTInfo"))?;
        let tst_tsa = match tsa_name {
            Some(name) => der::asn1::ContextSpecific {
                tag_number: der::TagNumber::N0,
                tag_mode: der::TagMode::Explicit,
                value: name.clone(),
            }
            .to_der()
            .map_err(encode_err("TSTInfo.tsa"))?,
            None => Vec::new(),
        };

        // The signed attributes with a zero digest of the right length. The
        // DER order of the SET OF is decided by each attribute's length and
        // OID, both fixed, so it is the same whatever the digest.
        let zero = OctetString::new(vec![0u8; digest.output_len()])
            .map_err(encode_err("message-digest"))?;
        let md = Attribute {
            oid: ID_MESSAGE_DIGEST,
            values: single(Any::encode_from(&zero).map_err(encode_err("message-digest"))?)?,
        };
        let md_der = md.to_der().map_err(encode_err("message-digest"))?;
        let mut all = fixed_attrs.to_vec();
        all.push(md);
        let set = SetOfVec::try_from(all).map_err(encode_err("signed attributes"))?;
        let mut attrs = Vec::new();
        for a in set.iter() {
            a.encode_to_vec(&mut attrs)
                .map_err(encode_err("signed attributes"))?;
        }
        let digest_at = attrs
            .windows(md_der.len())
            .position(|w| w == md_der.as_slice())
            .map(|p| p + md_der.len() - digest.output_len())
            .ok_or_else(|| IssueError::Value {
                what: "signed attributes",
                reason: "message-digest not found in the template".into(),
            })?;

        let mut sd_head = CmsVersion::V3.to_der().map_err(encode_err("SignedData"))?;
        single_set(digest_alg.clone())
            .and_then(|set| set.encode_to_vec(&mut sd_head))
            .map_err(encode_err("digestAlgorithms"))?;
        let mut certificates = single_set(signer_cert.clone())
            .and_then(|set| CertificateSet(set).to_der())
            .map_err(encode_err("certificates"))?;
        // `certificates [0] IMPLICIT CertificateSet`: the SET tag becomes [0].
        match certificates.first_mut() {
            Some(tag) if *tag == SET => *tag = CONTEXT_0,
            _ => {
                return Err(IssueError::Value {
                    what: "certificates",
                    reason: "not a SET".into(),
                })
            }
        }
        let mut signer_head = CmsVersion::V1.to_der().map_err(encode_err("SignerInfo"))?;
        sid.encode_to_vec(&mut signer_head)
            .map_err(encode_err("SignerInfo.sid"))?;
        digest_alg
            .encode_to_vec(&mut signer_head)
            .map_err(encode_err("SignerInfo.digestAlgorithm"))?;
        Ok(Self {
            tst_head,
            tst_tsa,
            attrs,
            digest_at,
            sd_head,
            econtent_type: ID_CT_TST_INFO
                .to_der()
                .map_err(encode_err("eContentType"))?,
            certificates,
            signer_head,
            signature_alg: signature_alg
                .to_der()
                .map_err(encode_err("signatureAlgorithm"))?,
            status: PkiStatusInfo {
                status: PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            }
            .to_der()
            .map_err(encode_err("PKIStatusInfo"))?,
            signed_data_oid: ID_SIGNED_DATA.to_der().map_err(encode_err("contentType"))?,
        })
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
    use keyless_crypto::KeyAlgorithm;

    /// A self-signed time-stamping certificate for `key`.
    fn tsa_cert(key: &SigningKey, sig_oid: ObjectIdentifier) -> Certificate {
        use const_oid::AssociatedOid;
        use std::str::FromStr;
        use x509_cert::ext::pkix::ExtendedKeyUsage;
        use x509_cert::time::{Time, Validity};
        let spki =
            x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(key.public_key().spki_der())
                .unwrap();
        let name = x509_cert::name::Name::from_str("CN=keyless test TSA,O=keyless").unwrap();
        let at = |s: u64| {
            Time::UtcTime(
                der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(s)).unwrap(),
            )
        };
        let alg = AlgorithmIdentifierOwned {
            oid: sig_oid,
            parameters: None,
        };
        let eku = ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_TIME_STAMPING]);
        let tbs = x509_cert::TbsCertificate {
            version: x509_cert::Version::V3,
            serial_number: x509_cert::serial_number::SerialNumber::new(&[0x01, 0x82, 0x33])
                .unwrap(),
            signature: alg.clone(),
            issuer: name.clone(),
            validity: Validity {
                not_before: at(1_700_000_000),
                not_after: at(2_000_000_000),
            },
            subject: name,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![x509_cert::ext::Extension {
                extn_id: ExtendedKeyUsage::OID,
                critical: true,
                extn_value: OctetString::new(eku.to_der().unwrap()).unwrap(),
            }]),
        };
        let sig = key.sign(&tbs.to_der().unwrap()).unwrap();
        let cert = x509_cert::Certificate {
            tbs_certificate: tbs,
            signature_algorithm: alg,
            signature: BitString::from_bytes(&sig).unwrap(),
        };
        Certificate::from_der(&cert.to_der().unwrap()).unwrap()
    }

    /// The spliced encoding equals the encoding of the typed structure, for
    /// every key size, imprint hash, nonce length and certReq, and with
    /// signatures of different lengths (DER ECDSA signatures vary).
    #[test]
    fn pre_encoded_grant_matches_the_typed_encoding() {
        for (alg, sig_oid) in [
            (KeyAlgorithm::EcdsaP256, ECDSA_WITH_SHA_256),
            (KeyAlgorithm::EcdsaP384, ECDSA_WITH_SHA_384),
        ] {
            let key = SigningKey::generate(alg).unwrap();
            let cert = tsa_cert(&key, sig_oid);
            let builder = TokenBuilder::new(
                key,
                &cert,
                ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2"),
            )
            .unwrap();
            let mut n = 0u8;
            for hash in [
                HashAlgorithm::Sha256,
                HashAlgorithm::Sha384,
                HashAlgorithm::Sha512,
            ] {
                for nonce in [
                    None,
                    Some(vec![0x80]),
                    Some(vec![0x42; 8]),
                    Some(vec![0x7f; 64]),
                ] {
                    for cert_req in [false, true] {
                        for accuracy in [None, Some(1), Some(300)] {
                            n = n.wrapping_add(1);
                            let b = TokenBuilder {
                                accuracy: None,
                                ..clone_builder(&builder)
                            }
                            .with_accuracy_seconds(accuracy);
                            let mut req =
                                TimestampRequest::for_data(hash, &[n]).with_cert_req(cert_req);
                            if let Some(nonce) = &nonce {
                                req = req.with_nonce(nonce).unwrap();
                            }
                            // A stand-in signature whose length varies.
                            let sign = |m: &[u8]| {
                                Ok(keyless_crypto::sha256(m).repeat(1 + usize::from(n % 5)))
                            };
                            let serial = [n, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
                            let fast = b
                                .grant_with(&req, &serial, 1_763_000_000 + u64::from(n), sign)
                                .unwrap();
                            let reference = b
                                .grant_reference(&req, &serial, 1_763_000_000 + u64::from(n), sign)
                                .unwrap();
                            assert_eq!(fast, reference, "{alg:?} {hash:?} nonce {nonce:?} certReq {cert_req} accuracy {accuracy:?}");
                        }
                    }
                }
            }
            // And a real token parses as one.
            let req = TimestampRequest::for_data(HashAlgorithm::Sha256, b"x").with_cert_req(true);
            let der = builder.grant(&req, &[1], 1_763_000_000).unwrap();
            let resp = TimeStampResp::from_der(&der).unwrap();
            assert!(resp.time_stamp_token.is_some());
        }
    }

    fn clone_builder(b: &TokenBuilder) -> TokenBuilder {
        TokenBuilder {
            key: SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            digest: b.digest,
            digest_alg: b.digest_alg.clone(),
            signature_alg: b.signature_alg.clone(),
            sid: b.sid.clone(),
            signer_cert: b.signer_cert.clone(),
            fixed_attrs: b.fixed_attrs.clone(),
            policy: b.policy,
            accuracy: b.accuracy.clone(),
            tsa_name: b.tsa_name.clone(),
            enc: b.enc.clone(),
        }
    }

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
