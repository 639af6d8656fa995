//! Parsing: from the bytes a Sigstore bundle carries to a checked-shape token.
//!
//! Parsing already enforces what every later step relies on (a SignedData
//! around a TSTInfo, one signer, bounded certificate bag), so that a
//! `TimestampToken` value is always structurally usable; the cryptographic and
//! trust checks live in `verify.rs`.

use cmpv2::status::PkiStatus;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{CertificateSet, SignedData, SignerInfo};
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::Decode;
use keyless_x509::Certificate;
use x509_tsp::{TimeStampResp, TstInfo};

use crate::error::{MalformedError, TspError};

/// id-ct-TSTInfo (RFC 3161 §2.4.2); const-oid's database does not name it.
pub(crate) const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Largest token accepted. Sigstore TSA tokens are about 1–2 KiB, tokens from
/// public TSAs with a full embedded chain about 6 KiB; anything far larger is
/// not a timestamp we want to spend parsing time on.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Most certificates accepted in the token's certificate bag. Each one is a
/// path-building candidate, so the bag must stay small.
pub const MAX_EMBEDDED_CERTS: usize = 10;

/// A parsed RFC 3161 time-stamp token (a CMS SignedData over a TSTInfo).
#[derive(Debug, Clone)]
pub struct TimestampToken {
    pub(crate) signed_data: SignedData,
    /// The eContent octets: the DER TSTInfo exactly as signed, since the
    /// message-digest attribute is over these bytes, not a re-encoding.
    pub(crate) econtent: Vec<u8>,
    pub(crate) tst_info: TstInfo,
    pub(crate) gen_time: i64,
    pub(crate) embedded: Vec<Certificate>,
}

fn der_err(what: &'static str) -> impl FnOnce(der::Error) -> MalformedError {
    move |e| MalformedError::Der {
        what,
        reason: e.to_string(),
    }
}

impl TimestampToken {
    /// Sigstore bundles carry `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`
    /// as base64 DER. Clients have put either a full TimeStampResp there
    /// (status + token, what the TSA returns) or the bare TimeStampToken
    /// (ContentInfo with id-signedData), so both are accepted. A response
    /// whose status is not granted / grantedWithMods is rejected: it carries
    /// no promise from the TSA even if a token is attached.
    pub fn from_der(der: &[u8]) -> Result<Self, TspError> {
        if der.len() > MAX_TOKEN_LEN {
            return Err(MalformedError::TooLarge {
                found: der.len(),
                limit: MAX_TOKEN_LEN,
            }
            .into());
        }
        // A TimeStampResp starts with a SEQUENCE (PKIStatusInfo), a ContentInfo
        // with an OID, so at most one of the two decodes succeeds.
        let content_info = match TimeStampResp::from_der(der) {
            Ok(resp) => {
                match resp.status.status {
                    PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
                    other => {
                        return Err(TspError::NotGranted {
                            found: format!("{other:?} ({})", other as u8),
                        })
                    }
                }
                resp.time_stamp_token.ok_or(MalformedError::MissingToken)?
            }
            Err(_) => ContentInfo::from_der(der)
                .map_err(der_err("TimeStampResp or TimeStampToken (ContentInfo)"))?,
        };
        Self::from_content_info(content_info)
    }

    fn from_content_info(ci: ContentInfo) -> Result<Self, TspError> {
        if ci.content_type != ID_SIGNED_DATA {
            return Err(MalformedError::ContentType {
                expected: ID_SIGNED_DATA.to_string(),
                found: ci.content_type.to_string(),
            }
            .into());
        }
        let mut signed_data: SignedData = ci.content.decode_as().map_err(der_err("SignedData"))?;

        let eci = &signed_data.encap_content_info;
        if eci.econtent_type != ID_CT_TST_INFO {
            return Err(MalformedError::EContentType {
                expected: ID_CT_TST_INFO.to_string(),
                found: eci.econtent_type.to_string(),
            }
            .into());
        }
        let econtent = eci
            .econtent
            .as_ref()
            .ok_or(MalformedError::MissingEContent)?
            .decode_as::<OctetString>()
            .map_err(der_err("eContent OCTET STRING"))?
            .into_bytes();
        let tst_info = TstInfo::from_der(&econtent).map_err(der_err("TSTInfo"))?;
        let gen_time = i64::try_from(tst_info.gen_time.to_unix_duration().as_secs())
            .map_err(|_| MalformedError::GenTime)?;

        let found = signed_data.signer_infos.0.len();
        if found != 1 {
            return Err(MalformedError::SignerInfoCount { found }.into());
        }

        // Only the signer info is read from `signed_data` later: the
        // certificates move into `embedded` instead of being copied.
        let embedded = parse_embedded(signed_data.certificates.take())?;
        Ok(Self {
            signed_data,
            econtent,
            tst_info,
            gen_time,
            embedded,
        })
    }

    /// The time the TSA asserts, in Unix seconds. Only meaningful after
    /// [`verify`](Self::verify) has succeeded.
    pub fn gen_time(&self) -> i64 {
        self.gen_time
    }

    /// The decoded TSTInfo (policy, serial, accuracy, ...).
    pub fn tst_info(&self) -> &TstInfo {
        &self.tst_info
    }

    /// The certificates the TSA chose to embed. They are untrusted path-building
    /// hints, never anchors.
    pub fn embedded_certificates(&self) -> Vec<Certificate> {
        self.embedded.clone()
    }

    /// The one SignerInfo (the count is checked at parse time; the error
    /// path only exists so that no index can panic).
    pub(crate) fn signer_info(&self) -> Result<&SignerInfo, MalformedError> {
        let infos = self.signed_data.signer_infos.0.as_slice();
        match infos {
            [one] => Ok(one),
            _ => Err(MalformedError::SignerInfoCount { found: infos.len() }),
        }
    }
}

/// Parse the certificate bag, keeping X.509 certificates and ignoring the
/// obsolete "other" formats (they could not be path candidates anyway).
fn parse_embedded(
    certificates: Option<CertificateSet>,
) -> Result<Vec<Certificate>, MalformedError> {
    let Some(set) = certificates else {
        return Ok(Vec::new());
    };
    let found = set.0.len();
    if found > MAX_EMBEDDED_CERTS {
        return Err(MalformedError::TooManyCertificates {
            found,
            limit: MAX_EMBEDDED_CERTS,
        });
    }
    let mut out = Vec::with_capacity(found);
    for (index, choice) in set.0.into_vec().into_iter().enumerate() {
        if let CertificateChoices::Certificate(cert) = choice {
            let cert = Certificate::from_decoded(cert)
                .map_err(|source| MalformedError::Certificate { index, source })?;
            out.push(cert);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmpv2::status::PkiStatusInfo;
    use der::Encode;

    fn response(status: PkiStatus) -> Vec<u8> {
        TimeStampResp {
            status: PkiStatusInfo {
                status,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn rejection_status_is_not_granted() {
        let err = TimestampToken::from_der(&response(PkiStatus::Rejection)).unwrap_err();
        assert!(matches!(err, TspError::NotGranted { .. }), "{err:?}");
        let err = TimestampToken::from_der(&response(PkiStatus::Waiting)).unwrap_err();
        assert!(matches!(err, TspError::NotGranted { .. }), "{err:?}");
    }

    #[test]
    fn granted_without_token_is_malformed() {
        let err = TimestampToken::from_der(&response(PkiStatus::Accepted)).unwrap_err();
        assert_eq!(err, TspError::Malformed(MalformedError::MissingToken));
    }

    #[test]
    fn oversized_and_garbage_inputs_are_rejected() {
        let big = vec![0x30; MAX_TOKEN_LEN + 1];
        let err = TimestampToken::from_der(&big).unwrap_err();
        assert!(
            matches!(err, TspError::Malformed(MalformedError::TooLarge { .. })),
            "{err:?}"
        );
        for junk in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x04\x03abc",
            b"\x30\x80\x00\x00",
        ] {
            let err = TimestampToken::from_der(junk).unwrap_err();
            assert!(
                matches!(err, TspError::Malformed(MalformedError::Der { .. })),
                "{err:?}"
            );
        }
    }

    #[test]
    fn non_signed_data_content_is_rejected() {
        // A ContentInfo of type id-data.
        let ci = ContentInfo {
            content_type: const_oid::db::rfc5911::ID_DATA,
            content: der::Any::encode_from(&OctetString::new(b"x".to_vec()).unwrap()).unwrap(),
        };
        let err = TimestampToken::from_der(&ci.to_der().unwrap()).unwrap_err();
        assert!(
            matches!(err, TspError::Malformed(MalformedError::ContentType { .. })),
            "{err:?}"
        );
    }
}
