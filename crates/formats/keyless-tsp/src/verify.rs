//! Verification: does this token timestamp these bytes, and did the trusted
//! TSA issue it?
//!
//! The order of the checks follows cost and diagnosis: the cheap imprint
//! comparison first (a token for another payload is the most common mistake),
//! then the CMS binding of TSTInfo to the signature, then the signature, then
//! trust. Trust comes only from the caller's `tsa_chain`; the token's own
//! certificate bag only ever supplies path-building candidates.

use cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST};
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, ID_SHA_256, ID_SHA_384, ID_SHA_512, RSA_ENCRYPTION,
};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use keyless_crypto::{HashAlgorithm, SignatureAlgorithm};
use keyless_x509::{
    verify_chain, verify_chain_trusted, Certificate, ChainError, Purpose, TrustedChain,
};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::error::{hex, AlgorithmRole, SignatureError, TspError, UntrustedError, ValidityBound};
use crate::token::{TimestampToken, ID_CT_TST_INFO};

/// Map a digest OID to a hash we accept. SHA-1 and MD5 are refused: a
/// collision in the imprint or the message digest would let one token cover
/// two payloads.
fn hash_from_oid(oid: &ObjectIdentifier, role: AlgorithmRole) -> Result<HashAlgorithm, TspError> {
    match *oid {
        ID_SHA_256 => Ok(HashAlgorithm::Sha256),
        ID_SHA_384 => Ok(HashAlgorithm::Sha384),
        ID_SHA_512 => Ok(HashAlgorithm::Sha512),
        _ => Err(TspError::UnsupportedAlgorithm {
            role,
            oid: oid.to_string(),
        }),
    }
}

/// The signature scheme of the SignerInfo. Some TSAs (and OpenSSL in some
/// configurations) put the bare key OID in signatureAlgorithm; the hash is
/// then the one named by digestAlgorithm (RFC 5754 §3.3 / RFC 3370 §3.2).
fn signature_algorithm(
    si: &SignerInfo,
    digest: HashAlgorithm,
) -> Result<SignatureAlgorithm, TspError> {
    let oid = si.signature_algorithm.oid;
    let combined = match oid {
        ID_EC_PUBLIC_KEY => Some(match digest {
            HashAlgorithm::Sha256 => SignatureAlgorithm::EcdsaSha256,
            HashAlgorithm::Sha384 => SignatureAlgorithm::EcdsaSha384,
            _ => SignatureAlgorithm::EcdsaSha512,
        }),
        RSA_ENCRYPTION => Some(match digest {
            HashAlgorithm::Sha256 => SignatureAlgorithm::RsaPkcs1Sha256,
            HashAlgorithm::Sha384 => SignatureAlgorithm::RsaPkcs1Sha384,
            _ => SignatureAlgorithm::RsaPkcs1Sha512,
        }),
        // RSASSA-PSS would need its parameters decoded; no Sigstore TSA uses it,
        // so `from_oid` without a PSS hash reports it unsupported.
        _ => SignatureAlgorithm::from_oid(&oid, None),
    };
    combined.ok_or(TspError::UnsupportedAlgorithm {
        role: AlgorithmRole::Signature,
        oid: oid.to_string(),
    })
}

/// The single value of a required signed attribute. RFC 5652 §11.1–11.2:
/// content-type and message-digest are single-valued and appear once; a
/// second copy would make it ambiguous which one was checked.
fn single_attr_value(
    attrs: &[Attribute],
    oid: ObjectIdentifier,
) -> Result<&der::Any, SignatureError> {
    let values: Vec<&der::Any> = attrs
        .iter()
        .filter(|a| a.oid == oid)
        .flat_map(|a| a.values.iter())
        .collect();
    let count_error = SignatureError::AttributeCount {
        oid: oid.to_string(),
        found: values.len(),
    };
    let attr_count = attrs.iter().filter(|a| a.oid == oid).count();
    match values.as_slice() {
        [one] if attr_count == 1 => Ok(one),
        _ => Err(count_error),
    }
}

fn attr_der_err(oid: ObjectIdentifier) -> impl FnOnce(der::Error) -> SignatureError {
    move |e| SignatureError::AttributeDer {
        oid: oid.to_string(),
        reason: e.to_string(),
    }
}

fn subject_of(cert: &Certificate) -> String {
    cert.describe()
}

/// Subject and serial: sibling leaves of one TSA often share a subject.
fn with_serial(cert: &Certificate) -> String {
    format!(
        "{} (serial {})",
        cert.describe(),
        hex(cert.inner().tbs_certificate.serial_number.as_bytes())
    )
}

/// Does `cert` carry the identity the SignerInfo names?
fn matches_sid(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.inner().tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number.as_bytes() == tbs.serial_number.as_bytes()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|ext| ext.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)
            .filter_map(|ext| SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok())
            .any(|found| found.0.as_bytes() == ski.0.as_bytes()),
    }
}

fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            format!(
                "issuer {} serial {}",
                ias.issuer,
                hex(ias.serial_number.as_bytes())
            )
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subjectKeyIdentifier {}", hex(ski.0.as_bytes()))
        }
    }
}

/// Turn a chain failure into the variant that explains it: a validity
/// failure at genTime is "certificate not valid then", not "wrong TSA".
fn chain_failure(signer: &Certificate, gen_time: i64, err: ChainError) -> TspError {
    match err {
        ChainError::Expired {
            subject, not_after, ..
        } => TspError::CertificateNotValidAtGenTime {
            subject,
            gen_time,
            bound: ValidityBound::Expired { not_after },
        },
        ChainError::NotYetValid {
            subject,
            not_before,
            ..
        } => TspError::CertificateNotValidAtGenTime {
            subject,
            gen_time,
            bound: ValidityBound::NotYetValid { not_before },
        },
        source => UntrustedError::Chain {
            subject: subject_of(signer),
            source,
        }
        .into(),
    }
}

impl TimestampToken {
    /// Verify this token timestamps `timestamped` (in Sigstore, the raw
    /// signature bytes) and was issued by the TSA whose chain from
    /// trusted_root.json is `tsa_chain` (ordered leaf..root). If the chain's
    /// first certificate is not a CA it is the TSA's signing certificate,
    /// and the token must be signed by exactly that certificate; otherwise
    /// (only CAs listed) the signer, from the chain or embedded in the token,
    /// must chain to the last certificate. Returns genTime in Unix seconds.
    ///
    /// Not checked here, because they need context this crate does not have:
    /// genTime inside the trusted-root `validFor` window of this TSA, and
    /// genTime inside the artifact signing certificate's validity.
    pub fn verify(&self, timestamped: &[u8], tsa_chain: &[Certificate]) -> Result<i64, TspError> {
        self.verify_with(timestamped, tsa_chain, None)
    }

    /// [`verify`](Self::verify) against a trusted chain whose own links
    /// were checked once when it was built (a verifier checking many tokens
    /// against the same trusted root): the same checks and answers, without
    /// re-checking the chain's intermediate → root signatures per token.
    pub fn verify_trusted(
        &self,
        timestamped: &[u8],
        tsa_chain: &TrustedChain,
    ) -> Result<i64, TspError> {
        self.verify_with(timestamped, tsa_chain.certificates(), Some(tsa_chain))
    }

    fn verify_with(
        &self,
        timestamped: &[u8],
        tsa_chain: &[Certificate],
        trusted: Option<&TrustedChain>,
    ) -> Result<i64, TspError> {
        if tsa_chain.is_empty() {
            return Err(UntrustedError::EmptyTrustedChain.into());
        }

        // 1. The token is for these bytes.
        let imprint = &self.tst_info.message_imprint;
        let imprint_hash =
            hash_from_oid(&imprint.hash_algorithm.oid, AlgorithmRole::MessageImprint)?;
        let expected = imprint_hash.digest(timestamped);
        if imprint.hashed_message.as_bytes() != expected.as_slice() {
            return Err(TspError::ImprintMismatch {
                algorithm: imprint_hash,
                expected: hex(&expected),
                found: hex(imprint.hashed_message.as_bytes()),
            });
        }

        // 2. The signed attributes bind the TSTInfo.
        let si = self.signer_info()?;
        let digest_alg = hash_from_oid(&si.digest_alg.oid, AlgorithmRole::Digest)?;
        let attrs = si
            .signed_attrs
            .as_ref()
            .ok_or(SignatureError::MissingSignedAttributes)?;
        let attr_slice = attrs.as_slice();

        let content_type: ObjectIdentifier = single_attr_value(attr_slice, ID_CONTENT_TYPE)?
            .decode_as()
            .map_err(attr_der_err(ID_CONTENT_TYPE))?;
        if content_type != ID_CT_TST_INFO {
            return Err(SignatureError::ContentTypeAttribute {
                expected: ID_CT_TST_INFO.to_string(),
                found: content_type.to_string(),
            }
            .into());
        }
        let message_digest: OctetString = single_attr_value(attr_slice, ID_MESSAGE_DIGEST)?
            .decode_as()
            .map_err(attr_der_err(ID_MESSAGE_DIGEST))?;
        let econtent_digest = digest_alg.digest(&self.econtent);
        if message_digest.as_bytes() != econtent_digest.as_slice() {
            return Err(SignatureError::MessageDigest {
                algorithm: digest_alg,
                expected: hex(&econtent_digest),
                found: hex(message_digest.as_bytes()),
            }
            .into());
        }

        // 3. The signature over the signed attributes. RFC 5652 §5.4: the
        // signature covers the DER of the attributes with an explicit SET OF
        // tag, not the [0] IMPLICIT tag they are carried under.
        let sig_alg = signature_algorithm(si, digest_alg)?;
        let signed_bytes = attrs.to_der().map_err(SignatureError::Encode)?;
        let signature = si.signature.as_bytes();

        // Candidates: the trusted chain first, then the token's bag. Several
        // may carry the SID (a forged bag can copy issuer and serial), so the
        // signer is the first whose key verifies the signature.
        let candidates: Vec<&Certificate> = tsa_chain
            .iter()
            .chain(self.embedded.iter())
            .filter(|c| matches_sid(c, &si.sid))
            .collect();
        if candidates.is_empty() {
            return Err(UntrustedError::SignerNotFound {
                sid: describe_sid(&si.sid),
            }
            .into());
        }
        let mut first_error: Option<SignatureError> = None;
        let mut signer = None;
        for cert in candidates {
            let key = match cert.public_key() {
                Ok(key) => key,
                Err(e) => {
                    first_error.get_or_insert(SignatureError::PublicKey(e));
                    continue;
                }
            };
            match key.verify(sig_alg, &signed_bytes, signature) {
                Ok(()) => {
                    signer = Some(cert);
                    break;
                }
                Err(source) => {
                    first_error.get_or_insert(SignatureError::Crypto {
                        signer: subject_of(cert),
                        source,
                    });
                }
            }
        }
        let Some(signer) = signer else {
            // Non-empty candidates and no signer means some error was recorded.
            return Err(first_error.map_or_else(
                || {
                    UntrustedError::SignerNotFound {
                        sid: describe_sid(&si.sid),
                    }
                    .into()
                },
                TspError::from,
            ));
        };

        // 4. The signer was valid when it signed. verify_chain checks this too;
        // checking it first names the signer rather than whichever certificate
        // path building stumbled on.
        let gen_time = self.gen_time;
        if gen_time < signer.not_before() {
            return Err(TspError::CertificateNotValidAtGenTime {
                subject: subject_of(signer),
                gen_time,
                bound: ValidityBound::NotYetValid {
                    not_before: signer.not_before(),
                },
            });
        }
        if gen_time > signer.not_after() {
            return Err(TspError::CertificateNotValidAtGenTime {
                subject: subject_of(signer),
                gen_time,
                bound: ValidityBound::Expired {
                    not_after: signer.not_after(),
                },
            });
        }

        // 5. Trust: the signer chains to the last certificate of tsa_chain at
        // genTime (the hybrid model), with the timeStamping EKU on the leaf.
        // Only whether a path exists matters here: the trusted form returns
        // it by reference, so nothing is copied.
        match trusted {
            Some(t) => {
                verify_chain_trusted(signer, &self.embedded, t, gen_time, Purpose::TimeStamping)
                    .map(drop)
            }
            None => verify_chain(
                signer,
                &self.embedded,
                tsa_chain,
                gen_time,
                Purpose::TimeStamping,
            )
            .map(drop),
        }
        .map_err(|e| chain_failure(signer, gen_time, e))?;

        // 6. When the trusted root lists the TSA's own signing certificate
        // (a first certificate that is not a CA, as sigstore-go reads
        // `certChain`), that certificate and no other speaks for this TSA:
        // a sibling leaf under the same root, or a leaf the root has
        // retired, chains just as well but was never trusted to stamp time.
        // Checked after the chain so that a foreign TSA is reported as not
        // chaining, and a sibling as the wrong leaf.
        if let Some(listed) = tsa_chain.first().filter(|c| !c.is_ca()) {
            if signer.der() != listed.der() {
                return Err(UntrustedError::NotTrustedLeaf {
                    found: with_serial(signer),
                    expected: with_serial(listed),
                }
                .into());
            }
        }

        Ok(gen_time)
    }
}
