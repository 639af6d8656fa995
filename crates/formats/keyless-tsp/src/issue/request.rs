//! TimeStampReq (RFC 3161 §2.4.1): parse and check what a client asked for,
//! or build one as a client.
//!
//! Parsing enforces every property the issuer relies on (bounded size, an
//! allowed hash, a digest of the right length, no extensions, a bounded
//! nonce), so a `TimestampRequest` value can be granted without re-checking.

use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString};
use der::{Decode, Encode, Tag, Tagged};
use keyless_crypto::HashAlgorithm;
use x509_cert::spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use super::error::RequestError;

/// Largest DER request accepted. A real request is under 100 bytes (a
/// SHA-512 imprint, a policy and a 64-bit nonce); 10 KiB leaves room for
/// anything legitimate while bounding what a hostile client can make us parse.
pub const MAX_REQUEST_LEN: usize = 10 * 1024;

/// Longest nonce echoed. Clients send 64–160-bit random numbers; the nonce
/// is copied into the signed token, so it must not be unbounded.
pub const MAX_NONCE_LEN: usize = 64;

/// The OID naming a message-imprint hash.
pub(crate) fn hash_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sha384 => ID_SHA_384,
        HashAlgorithm::Sha512 => ID_SHA_512,
        _ => ID_SHA_256,
    }
}

/// The allow-list of message-imprint hashes: SHA-1 and MD5 are refused, as a
/// collision would let one token cover two payloads.
pub(crate) fn hash_from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    match *oid {
        ID_SHA_256 => Some(HashAlgorithm::Sha256),
        ID_SHA_384 => Some(HashAlgorithm::Sha384),
        ID_SHA_512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// A checked time-stamp request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRequest {
    hash: HashAlgorithm,
    digest: Vec<u8>,
    nonce: Option<Int>,
    cert_req: bool,
    policy: Option<ObjectIdentifier>,
}

impl TimestampRequest {
    /// A request for a digest the caller computed. The length is checked
    /// against the algorithm so that a truncated digest is caught here.
    pub fn new(hash: HashAlgorithm, digest: &[u8]) -> Result<Self, RequestError> {
        if digest.len() != hash.output_len() {
            return Err(RequestError::DigestLength {
                algorithm: hash,
                expected: hash.output_len(),
                found: digest.len(),
            });
        }
        Ok(Self {
            hash,
            digest: digest.to_vec(),
            nonce: None,
            cert_req: false,
            policy: None,
        })
    }

    /// A request over `data` (in Sigstore: the signature bytes).
    pub fn for_data(hash: HashAlgorithm, data: &[u8]) -> Self {
        Self {
            hash,
            digest: hash.digest(data),
            nonce: None,
            cert_req: false,
            policy: None,
        }
    }

    /// Set the nonce, a big-endian unsigned integer (leading zeros are
    /// stripped; an empty or all-zero nonce is the integer 0).
    pub fn with_nonce(mut self, nonce: &[u8]) -> Result<Self, RequestError> {
        let int = uint_to_int(nonce)?;
        check_nonce(&int)?;
        self.nonce = Some(int);
        Ok(self)
    }

    /// Ask the TSA to embed its certificate in the token.
    pub fn with_cert_req(mut self, cert_req: bool) -> Self {
        self.cert_req = cert_req;
        self
    }

    /// Ask for a specific TSA policy.
    pub fn with_policy(mut self, policy: ObjectIdentifier) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Parse and check a DER TimeStampReq.
    pub fn from_der(der: &[u8]) -> Result<Self, RequestError> {
        if der.len() > MAX_REQUEST_LEN {
            return Err(RequestError::TooLarge {
                found: der.len(),
                limit: MAX_REQUEST_LEN,
            });
        }
        let req = TimeStampReq::from_der(der).map_err(|e| RequestError::Der {
            reason: e.to_string(),
        })?;
        let alg = &req.message_imprint.hash_algorithm;
        let hash = hash_from_oid(&alg.oid).ok_or_else(|| RequestError::UnsupportedHash {
            oid: alg.oid.to_string(),
        })?;
        // RFC 5754 §2: SHA-2 parameters are absent, though NULL is common.
        if let Some(params) = &alg.parameters {
            if params.tag() != Tag::Null || !params.value().is_empty() {
                return Err(RequestError::HashParameters {
                    oid: alg.oid.to_string(),
                });
            }
        }
        if req.extensions.is_some() {
            return Err(RequestError::Extensions);
        }
        if let Some(nonce) = &req.nonce {
            check_nonce(nonce)?;
        }
        let mut checked = Self::new(hash, req.message_imprint.hashed_message.as_bytes())?;
        checked.nonce = req.nonce;
        checked.cert_req = req.cert_req;
        checked.policy = req.req_policy;
        Ok(checked)
    }

    /// DER TimeStampReq, for clients.
    pub fn to_der(&self) -> Result<Vec<u8>, RequestError> {
        let der_err = |e: der::Error| RequestError::Der {
            reason: e.to_string(),
        };
        TimeStampReq {
            version: TspVersion::V1,
            message_imprint: self.message_imprint()?,
            req_policy: self.policy,
            nonce: self.nonce.clone(),
            cert_req: self.cert_req,
            extensions: None,
        }
        .to_der()
        .map_err(der_err)
    }

    pub(crate) fn message_imprint(&self) -> Result<MessageImprint, RequestError> {
        Ok(MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: hash_oid(self.hash),
                parameters: None,
            },
            hashed_message: OctetString::new(self.digest.as_slice()).map_err(|e| {
                RequestError::Der {
                    reason: e.to_string(),
                }
            })?,
        })
    }

    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// The nonce as its DER INTEGER content octets (two's complement).
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_ref().map(Int::as_bytes)
    }

    pub(crate) fn nonce_int(&self) -> Option<&Int> {
        self.nonce.as_ref()
    }

    pub fn cert_req(&self) -> bool {
        self.cert_req
    }

    pub fn policy(&self) -> Option<ObjectIdentifier> {
        self.policy
    }
}

fn check_nonce(nonce: &Int) -> Result<(), RequestError> {
    let found = nonce.as_bytes().len();
    if found > MAX_NONCE_LEN {
        return Err(RequestError::NonceTooLong {
            found,
            limit: MAX_NONCE_LEN,
        });
    }
    Ok(())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub(crate) fn uint_to_int(bytes: &[u8]) -> Result<Int, RequestError> {
    let uint = der::asn1::Uint::new(bytes).map_err(|e| RequestError::Der {
        reason: e.to_string(),
    })?;
    Ok(Int::from(uint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::FailureInfo;

    #[test]
    fn round_trip() {
        let req = TimestampRequest::for_data(HashAlgorithm::Sha384, b"sig")
            .with_nonce(&[0x00, 0x80, 1])
            .unwrap()
            .with_cert_req(true);
        let parsed = TimestampRequest::from_der(&req.to_der().unwrap()).unwrap();
        assert_eq!(parsed, req);
        // 0x8001 needs a leading zero to stay positive.
        assert_eq!(parsed.nonce(), Some(&[0x00, 0x80, 0x01][..]));
        assert!(parsed.cert_req());
    }

    #[test]
    fn refusals_name_the_check() {
        let err = TimestampRequest::new(HashAlgorithm::Sha256, &[0; 20]).unwrap_err();
        assert_eq!(err.failure_info(), FailureInfo::BadDataFormat);

        let mut req = TimeStampReq::from_der(
            &TimestampRequest::for_data(HashAlgorithm::Sha256, b"x")
                .to_der()
                .unwrap(),
        )
        .unwrap();
        req.message_imprint.hash_algorithm.oid = const_oid::db::rfc5912::ID_SHA_1;
        let err = TimestampRequest::from_der(&req.to_der().unwrap()).unwrap_err();
        assert!(matches!(err, RequestError::UnsupportedHash { .. }), "{err}");
        assert_eq!(err.failure_info(), FailureInfo::BadAlg);

        let err = TimestampRequest::from_der(&[0x30; MAX_REQUEST_LEN + 1]).unwrap_err();
        assert!(matches!(err, RequestError::TooLarge { .. }), "{err}");

        let err = TimestampRequest::from_der(b"garbage").unwrap_err();
        assert_eq!(err.failure_info(), FailureInfo::BadDataFormat);

        let err = TimestampRequest::for_data(HashAlgorithm::Sha256, b"x")
            .with_nonce(&[1; MAX_NONCE_LEN + 1])
            .unwrap_err();
        assert_eq!(err.failure_info(), FailureInfo::BadRequest);
    }
}
