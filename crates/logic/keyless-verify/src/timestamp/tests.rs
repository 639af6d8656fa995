//! Which timestamp authority vouches for a time: the leaf the trusted root
//! lists for it, and only inside that entry's `validFor`. The PKI (one TSA
//! root and intermediate, two signing leaves) is minted with throw-away
//! P-256 keys; keyless-tsp's issuing side signs the tokens.

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
use keyless_types::ValidityPeriod;
use keyless_x509::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use super::{verify_timestamps, VerifiedTimestamp};
use crate::error::TimestampError;
use crate::trust::{TrustMaterial, TrustedAuthority};

const SIGNATURE: &[u8] = b"the artifact signature being timestamped";
/// The old leaf's trusted-root window ends here; the new one's starts.
const ROTATION: i64 = 1_720_000_000;
const BEFORE_ROTATION: i64 = 1_710_000_000;
const AFTER_ROTATION: i64 = 1_750_000_000;

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

/// A certificate for `key` named `subject`, signed by `issuer_key` as
/// `issuer`, valid 1_700_000_000..1_900_000_000 (both leaves outlive the
/// rotation: only the trusted root retires the old one).
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
            not_before: at(1_700_000_000),
            not_after: at(1_900_000_000),
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

/// Root → intermediate → the old (retired) and the new signing leaf.
struct Tsa {
    root: Certificate,
    intermediate: Certificate,
    old: (Certificate, SigningKey),
    new: (Certificate, SigningKey),
}

fn tsa() -> Tsa {
    let key = || SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("generate key");
    let (root_key, intermediate_key, old_key, new_key) = (key(), key(), key(), key());
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
    let old = issue(
        leaf_name,
        &old_key,
        intermediate_name,
        &intermediate_key,
        3,
        false,
    );
    let new = issue(
        leaf_name,
        &new_key,
        intermediate_name,
        &intermediate_key,
        4,
        false,
    );
    Tsa {
        root,
        intermediate,
        old: (old, old_key),
        new: (new, new_key),
    }
}

/// A token over SIGNATURE by `signer` at `time`, its certificate embedded.
fn token(signer: &(Certificate, SigningKey), time: i64) -> Vec<u8> {
    let key = SigningKey::from_pkcs8_der(signer.1.to_pkcs8_der()).expect("copy key");
    let builder = TokenBuilder::new(
        key,
        &signer.0,
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2"),
    )
    .expect("token builder");
    let req = TimestampRequest::for_data(HashAlgorithm::Sha256, SIGNATURE).with_cert_req(true);
    builder
        .grant(&req, &[9], u64::try_from(time).expect("positive time"))
        .expect("grant")
}

fn authority(
    uri: &str,
    leaf: &Certificate,
    t: &Tsa,
    start: i64,
    end: Option<i64>,
) -> TrustedAuthority {
    TrustedAuthority {
        uri: uri.into(),
        chain: vec![leaf.clone(), t.intermediate.clone(), t.root.clone()],
        valid_for: ValidityPeriod { start, end },
    }
}

fn trust(tsas: Vec<TrustedAuthority>) -> TrustMaterial {
    TrustMaterial {
        tlogs: Vec::new(),
        ctlogs: Vec::new(),
        fulcio: Vec::new(),
        tsas,
    }
}

fn verify(token: Vec<u8>, trust: &TrustMaterial) -> Result<VerifiedTimestamp, TimestampError> {
    // The chains checked once, as the Verifier does when it is built.
    let chains: Vec<keyless_x509::TrustedChain> = trust
        .tsas
        .iter()
        .map(|t| keyless_x509::TrustedChain::new(t.chain.clone()))
        .collect();
    let mut v = verify_timestamps(&[token], SIGNATURE, trust, &chains)?;
    assert_eq!(v.len(), 1);
    Ok(v.remove(0))
}

#[test]
fn a_retired_leaf_does_not_vouch_after_its_window() {
    let t = tsa();
    let old = authority("old", &t.old.0, &t, 1_700_000_000, Some(ROTATION));
    let new = authority("new", &t.new.0, &t, ROTATION, None);
    // In either order: the new entry must not accept the old leaf just
    // because it chains to the same intermediate and root.
    for tsas in [
        vec![new.clone(), old.clone()],
        vec![old.clone(), new.clone()],
    ] {
        let trust = trust(tsas);
        let err = verify(token(&t.old, AFTER_ROTATION), &trust).unwrap_err();
        assert!(
            matches!(&err, TimestampError::OutsideAuthorityValidity { tsa, .. } if tsa == "old"),
            "{err:?}"
        );
        // Inside its window the old leaf still counts, for the old entry.
        let ok = verify(token(&t.old, BEFORE_ROTATION), &trust).expect("old leaf before rotation");
        assert_eq!((ok.authority.as_str(), ok.time), ("old", BEFORE_ROTATION));
        let ok = verify(token(&t.new, AFTER_ROTATION), &trust).expect("new leaf after rotation");
        assert_eq!((ok.authority.as_str(), ok.time), ("new", AFTER_ROTATION));
    }
}

#[test]
fn a_sibling_leaf_does_not_vouch() {
    let t = tsa();
    // Only the old leaf is listed, with an open window; the new leaf is
    // its sibling under the same intermediate.
    let trust = trust(vec![authority("only", &t.old.0, &t, 1_700_000_000, None)]);
    let err = verify(token(&t.new, AFTER_ROTATION), &trust).unwrap_err();
    match &err {
        TimestampError::Untrusted { failures, .. } => {
            let reasons = err.to_string();
            assert!(
                reasons.contains("is not the signing certificate"),
                "{reasons}"
            );
            assert_eq!(failures.len(), 1, "{reasons}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_leaf_listed_twice_counts_in_the_window_that_holds_its_time() {
    let t = tsa();
    // One leaf, two entries (e.g. re-listed after a gap): the first entry
    // verifies the token but its window ended; the second holds the time.
    let trust = trust(vec![
        authority("first", &t.old.0, &t, 1_700_000_000, Some(ROTATION)),
        authority("second", &t.old.0, &t, ROTATION + 1, None),
    ]);
    let ok = verify(token(&t.old, AFTER_ROTATION), &trust).expect("second entry");
    assert_eq!((ok.authority.as_str(), ok.authority_index), ("second", 1));
}
