//! Which certificate may sign for a trusted TSA. A trusted root lists a
//! TSA as `certChain` = leaf, intermediates, root. When that list starts
//! with the signing leaf, only that leaf vouches for time: a sibling leaf
//! issued by the same intermediate chains to the same root but was never
//! listed (or was retired). When only CAs are listed, any time-stamping
//! leaf that chains to them is the TSA.
//!
//! The PKI is minted here with throw-away P-256 keys and the crate's own
//! issuing side signs the tokens.

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
use keyless_tsp::{TimestampToken, TspError, UntrustedError};
use keyless_x509::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

const NOT_BEFORE: u64 = 1_700_000_000;
const NOT_AFTER: u64 = 1_900_000_000;
const GEN_TIME: u64 = 1_750_000_000;
const SIGNATURE: &[u8] = b"the artifact signature being timestamped";

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

/// A certificate for `key` named `subject`, signed by `issuer_key` as `issuer`.
fn issue(
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

fn key() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("generate key")
}

/// Root → intermediate → two time-stamping leaves with the same subject
/// (as a TSA that rotated its signing key would have).
struct Pki {
    root: Certificate,
    intermediate: Certificate,
    leaf_a: (Certificate, SigningKey),
    leaf_b: (Certificate, SigningKey),
}

fn pki() -> Pki {
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
    let leaf_a = issue(
        leaf_name,
        &a_key,
        intermediate_name,
        &intermediate_key,
        3,
        false,
    );
    let leaf_b = issue(
        leaf_name,
        &b_key,
        intermediate_name,
        &intermediate_key,
        4,
        false,
    );
    Pki {
        root,
        intermediate,
        leaf_a: (leaf_a, a_key),
        leaf_b: (leaf_b, b_key),
    }
}

/// A token over SIGNATURE from `signer`, with its certificate embedded or not.
fn token(signer: &(Certificate, SigningKey), embed: bool) -> TimestampToken {
    let key = SigningKey::from_pkcs8_der(signer.1.to_pkcs8_der()).expect("copy key");
    let builder = TokenBuilder::new(
        key,
        &signer.0,
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2"),
    )
    .expect("token builder");
    let req = TimestampRequest::for_data(HashAlgorithm::Sha256, SIGNATURE).with_cert_req(embed);
    let der = builder.grant(&req, &[7], GEN_TIME).expect("grant");
    TimestampToken::from_der(&der).expect("token parses")
}

#[test]
fn the_listed_leaf_vouches_for_time() {
    let p = pki();
    let listed = [p.leaf_a.0.clone(), p.intermediate.clone(), p.root.clone()];
    for embed in [false, true] {
        assert_eq!(
            token(&p.leaf_a, embed).verify(SIGNATURE, &listed),
            Ok(GEN_TIME as i64),
            "embedded: {embed}"
        );
    }
}

#[test]
fn a_sibling_leaf_under_the_same_intermediate_does_not() {
    let p = pki();
    let listed = [p.leaf_a.0.clone(), p.intermediate.clone(), p.root.clone()];
    // The sibling's certificate is in the token: it chains to the trusted
    // root, but it is not the leaf the trusted root lists.
    let err = token(&p.leaf_b, true)
        .verify(SIGNATURE, &listed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::NotTrustedLeaf { .. })
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("serial 04") && message.contains("serial 03"),
        "{message}"
    );
    // Without its certificate in the token, the sibling cannot be found.
    let err = token(&p.leaf_b, false)
        .verify(SIGNATURE, &listed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::SignerNotFound { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn without_a_listed_leaf_any_leaf_chaining_to_the_cas_vouches() {
    let p = pki();
    let cas_only = [p.intermediate.clone(), p.root.clone()];
    for signer in [&p.leaf_a, &p.leaf_b] {
        assert_eq!(
            token(signer, true).verify(SIGNATURE, &cas_only),
            Ok(GEN_TIME as i64)
        );
    }
    // The signer must still come from somewhere: not embedded, not listed.
    let err = token(&p.leaf_b, false)
        .verify(SIGNATURE, &cas_only)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TspError::Untrusted(UntrustedError::SignerNotFound { .. })
        ),
        "{err:?}"
    );
}
