//! A throw-away TSA PKI for timestamp tests: a root, an intermediate and
//! two time-stamping leaves with the same subject (as a TSA that rotated
//! its signing key would have), all P-256, valid from [`NOT_BEFORE`] to
//! [`NOT_AFTER`], and tokens signed by either leaf with keyless-tsp's
//! issuing side. keyless-tsp's and keyless-verify's tests both check which
//! leaf may vouch for time against this PKI.

use std::str::FromStr;
use std::time::Duration;

use const_oid::db::rfc5280::{
    ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE, ID_KP_TIME_STAMPING,
};
use const_oid::db::rfc5912::ECDSA_WITH_SHA_256;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, UtcTime};
use der::{Decode, Encode};
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SigningKey};
use keyless_tsp::issue::{TimestampRequest, TokenBuilder};
use keyless_x509::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

/// Every certificate's notBefore (Unix seconds).
pub const NOT_BEFORE: u64 = 1_700_000_000;
/// Every certificate's notAfter (Unix seconds): both leaves outlive any
/// rotation a test models, so only the trusted root can retire one.
pub const NOT_AFTER: u64 = 1_900_000_000;

/// Sigstore's TSA policy OID, under which the tokens are issued.
pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

/// A leaf certificate and its key.
pub type Leaf = (Certificate, SigningKey);

/// Root → intermediate → two time-stamping leaves (serials 3 and 4).
pub struct TsaPki {
    pub root: Certificate,
    pub intermediate: Certificate,
    pub leaf_a: Leaf,
    pub leaf_b: Leaf,
}

impl TsaPki {
    /// Mint a fresh PKI with new keys.
    pub fn new() -> TsaPki {
        let key = || SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("generate key");
        let (root_key, intermediate_key, a_key, b_key) = (key(), key(), key(), key());
        let root_name = "CN=test tsa root,O=keyless";
        let intermediate_name = "CN=test tsa intermediate,O=keyless";
        let leaf_name = "CN=test tsa signing,O=keyless";
        let root = issue(root_name, &root_key, root_name, &root_key, 1, true);
        let intermediate = issue(
            intermediate_name,
            &intermediate_key,
            root_name,
            &root_key,
            2,
            true,
        );
        let leaf = |key: &SigningKey, serial| {
            issue(
                leaf_name,
                key,
                intermediate_name,
                &intermediate_key,
                serial,
                false,
            )
        };
        TsaPki {
            root,
            intermediate,
            leaf_a: (leaf(&a_key, 3), a_key),
            leaf_b: (leaf(&b_key, 4), b_key),
        }
    }

    /// `leaf`'s certificate, the intermediate and the root: a trusted
    /// root's `certChain` that lists `leaf` as the TSA's signer.
    pub fn chain_of(&self, leaf: &Leaf) -> Vec<Certificate> {
        vec![leaf.0.clone(), self.intermediate.clone(), self.root.clone()]
    }
}

impl Default for TsaPki {
    fn default() -> Self {
        Self::new()
    }
}

/// A granted TimeStampResp (DER) over `data` (SHA-256 imprint) by
/// `signer`, stamped `gen_time`, with the signer certificate embedded when
/// `embed` (certReq).
pub fn token(signer: &Leaf, data: &[u8], gen_time: u64, embed: bool) -> Vec<u8> {
    let key = SigningKey::from_pkcs8_der(signer.1.to_pkcs8_der()).expect("copy key");
    let builder = TokenBuilder::new(key, &signer.0, POLICY).expect("token builder");
    let req = TimestampRequest::for_data(HashAlgorithm::Sha256, data).with_cert_req(embed);
    builder.grant(&req, &[7], gen_time).expect("grant")
}

/// A certificate for `key` named `subject`, signed by `issuer_key` as
/// `issuer`, valid [`NOT_BEFORE`]..[`NOT_AFTER`]: a CA (keyCertSign,
/// cRLSign) or a time-stamping leaf (digitalSignature, critical EKU
/// id-kp-timeStamping).
pub fn issue(
    subject: &str,
    key: &SigningKey,
    issuer: &str,
    issuer_key: &SigningKey,
    serial: u8,
    ca: bool,
) -> Certificate {
    let alg = AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA_256,
        parameters: None,
    };
    let mut extensions = vec![ext(
        ID_CE_BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca,
            path_len_constraint: None,
        },
    )];
    if ca {
        extensions.push(ext(
            ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        ));
    } else {
        extensions.push(ext(
            ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        ));
        extensions.push(ext(
            ID_CE_EXT_KEY_USAGE,
            true,
            &ExtendedKeyUsage(vec![ID_KP_TIME_STAMPING]),
        ));
    }
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&[serial]).expect("serial"),
        signature: alg.clone(),
        issuer: Name::from_str(issuer).expect("issuer name"),
        validity: Validity {
            not_before: at(NOT_BEFORE),
            not_after: at(NOT_AFTER),
        },
        subject: Name::from_str(subject).expect("subject name"),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(key.public_key().spki_der())
            .expect("spki"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signature = issuer_key
        .sign(&tbs.to_der().expect("tbs"))
        .expect("sign certificate");
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature).expect("signature bits"),
    };
    Certificate::from_der(&cert.to_der().expect("certificate")).expect("parse certificate")
}

fn ext<T: Encode>(id: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value.to_der().expect("encode extension"))
            .expect("extension octets"),
    }
}

fn at(t: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(t)).expect("UTCTime"))
}
