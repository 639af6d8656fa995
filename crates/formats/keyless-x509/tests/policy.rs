//! Chain-policy and identity checks on small synthetic PKIs signed with
//! throw-away P-256 keys, so that each rule is exercised on its own.

use std::str::FromStr;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use const_oid::db::rfc5280 as ids;
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitString, Ia5String, OctetString, UtcTime, Utf8StringRef};
use der::{Decode, Encode};
use keyless_x509::{
    fulcio_identity, oid, verify_chain, Certificate, ChainError, IdentityError, Purpose, X509Error,
};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

const T0: i64 = 1_700_000_000;
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

struct Key {
    kp: EcdsaKeyPair,
    spki: SubjectPublicKeyInfoOwned,
}

fn key() -> Key {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("keygen");
    let kp =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("key");
    let der = kp.public_key().as_der().expect("spki");
    let spki = SubjectPublicKeyInfoOwned::from_der(der.as_ref()).expect("spki decode");
    Key { kp, spki }
}

fn ext<T: Encode>(id: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value.to_der().expect("encode")).expect("octets"),
    }
}

fn raw_ext(id: ObjectIdentifier, critical: bool, value: &[u8]) -> Extension {
    Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value).expect("octets"),
    }
}

fn time(t: i64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(t as u64)).expect("utc time"))
}

/// Issue a certificate for `subject_key` named `subject`, signed by `issuer_key` as `issuer`.
fn issue(
    subject: &str,
    subject_key: &Key,
    issuer: &str,
    issuer_key: &Key,
    window: (i64, i64),
    exts: Vec<Extension>,
) -> Certificate {
    let alg = AlgorithmIdentifierOwned {
        oid: ECDSA_SHA256,
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[1, 2, 3]).expect("serial"),
        signature: alg.clone(),
        issuer: Name::from_str(issuer).expect("issuer name"),
        validity: Validity {
            not_before: time(window.0),
            not_after: time(window.1),
        },
        subject: Name::from_str(subject).expect("subject name"),
        subject_public_key_info: subject_key.spki.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: if exts.is_empty() { None } else { Some(exts) },
    };
    let tbs_der = tbs.to_der().expect("tbs");
    let sig = issuer_key
        .kp
        .sign(&SystemRandom::new(), &tbs_der)
        .expect("sign");
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(sig.as_ref()).expect("bits"),
    };
    Certificate::from_der(&cert.to_der().expect("cert")).expect("parse")
}

fn ca_exts(path_len: Option<u8>, eku: Option<Vec<ObjectIdentifier>>) -> Vec<Extension> {
    let mut v = vec![
        ext(
            ids::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
        ),
        ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        ),
    ];
    if let Some(e) = eku {
        v.push(ext(ids::ID_CE_EXT_KEY_USAGE, false, &ExtendedKeyUsage(e)));
    }
    v
}

fn leaf_exts() -> Vec<Extension> {
    vec![
        ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        ),
        ext(
            ids::ID_CE_EXT_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![ids::ID_KP_CODE_SIGNING]),
        ),
    ]
}

struct Pki {
    root_key: Key,
    root: Certificate,
    inter_key: Key,
    inter: Certificate,
}

const WIDE: (i64, i64) = (T0 - 1_000_000, T0 + 1_000_000);

fn pki() -> Pki {
    let root_key = key();
    let root = issue(
        "CN=root",
        &root_key,
        "CN=root",
        &root_key,
        WIDE,
        ca_exts(Some(1), None),
    );
    let inter_key = key();
    let inter = issue(
        "CN=inter",
        &inter_key,
        "CN=root",
        &root_key,
        WIDE,
        ca_exts(Some(0), Some(vec![ids::ID_KP_CODE_SIGNING])),
    );
    Pki {
        root_key,
        root,
        inter_key,
        inter,
    }
}

impl Pki {
    fn leaf(&self, exts: Vec<Extension>) -> Certificate {
        issue(
            "CN=leaf",
            &key(),
            "CN=inter",
            &self.inter_key,
            (T0 - 300, T0 + 300),
            exts,
        )
    }
    fn anchor(&self) -> Vec<Certificate> {
        vec![self.inter.clone(), self.root.clone()]
    }
    fn verify(&self, leaf: &Certificate) -> Result<Vec<Certificate>, ChainError> {
        verify_chain(leaf, &[], &self.anchor(), T0, Purpose::CodeSigning)
    }
}

#[test]
fn good_path() {
    let p = pki();
    let leaf = p.leaf(leaf_exts());
    let path = p.verify(&leaf).expect("valid");
    assert_eq!(path, vec![leaf.clone(), p.inter.clone(), p.root.clone()]);
    // Intermediate supplied as untrusted material, anchor alone.
    verify_chain(
        &leaf,
        std::slice::from_ref(&p.inter),
        std::slice::from_ref(&p.root),
        T0,
        Purpose::CodeSigning,
    )
    .expect("valid");
    // Without the intermediate there is no path.
    assert!(matches!(
        verify_chain(
            &leaf,
            &[],
            std::slice::from_ref(&p.root),
            T0,
            Purpose::CodeSigning
        ),
        Err(ChainError::NoIssuer { .. })
    ));
}

#[test]
fn hybrid_model_requires_every_cert_valid() {
    let p = pki();
    let short_key = key();
    let inter = issue(
        "CN=inter",
        &short_key,
        "CN=root",
        &p.root_key,
        (T0 - 1000, T0 - 1),
        ca_exts(Some(0), None),
    );
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=inter",
        &short_key,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err = verify_chain(
        &leaf,
        &[],
        &[inter, p.root.clone()],
        T0,
        Purpose::CodeSigning,
    )
    .expect_err("expired inter");
    assert!(
        matches!(err, ChainError::Expired { ref subject, not_after, at: T0 } if subject == "CN=inter" && not_after == T0 - 1),
        "{err}"
    );
}

#[test]
fn leaf_rules() {
    let p = pki();
    let mut ca_leaf = leaf_exts();
    ca_leaf.push(ext(
        ids::ID_CE_BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca: true,
            path_len_constraint: None,
        },
    ));
    assert!(matches!(
        p.verify(&p.leaf(ca_leaf)),
        Err(ChainError::LeafIsCa { .. })
    ));

    let no_ku = vec![leaf_exts().remove(1)];
    assert!(matches!(
        p.verify(&p.leaf(no_ku)),
        Err(ChainError::LeafKeyUsage { .. })
    ));

    let wrong_ku = vec![
        ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyEncipherment.into()),
        ),
        leaf_exts().remove(1),
    ];
    assert!(matches!(
        p.verify(&p.leaf(wrong_ku)),
        Err(ChainError::LeafKeyUsage { .. })
    ));

    let no_eku = vec![leaf_exts().remove(0)];
    assert!(matches!(
        p.verify(&p.leaf(no_eku)),
        Err(ChainError::ExtendedKeyUsage { .. })
    ));

    let mut poison = leaf_exts();
    poison.push(raw_ext(oid::CT_PRECERT_POISON, true, &[0x05, 0x00]));
    assert!(matches!(
        p.verify(&p.leaf(poison)),
        Err(ChainError::PrecertPoison { .. })
    ));
}

#[test]
fn unknown_critical_extensions_reject() {
    let p = pki();
    let other = ObjectIdentifier::new_unwrap("1.2.3.4.5");
    let mut critical = leaf_exts();
    critical.push(raw_ext(other, true, &[0x05, 0x00]));
    let err = p.verify(&p.leaf(critical)).expect_err("critical unknown");
    assert!(
        matches!(err, ChainError::UnknownCriticalExtension { ref oid, .. } if oid == "1.2.3.4.5"),
        "{err}"
    );

    let mut benign = leaf_exts();
    benign.push(raw_ext(other, false, &[0x05, 0x00]));
    p.verify(&p.leaf(benign))
        .expect("non-critical unknown is fine");

    // Fulcio's critical SAN with the OtherName form is understood.
    let mut san = leaf_exts();
    san.push(ext(
        ids::ID_CE_SUBJECT_ALT_NAME,
        true,
        &SubjectAltName(vec![GeneralName::OtherName(OtherName {
            type_id: oid::OTHERNAME_SAN,
            value: Any::from(Utf8StringRef::new("alice!example.com").expect("utf8")),
        })]),
    ));
    let leaf = p.leaf(san);
    p.verify(&leaf).expect("critical SAN is handled");
    assert_eq!(
        fulcio_identity(&leaf).expect("identity").sans,
        vec!["alice!example.com"]
    );
}

#[test]
fn issuer_rules() {
    let p = pki();
    // Intermediate without cA.
    let k = key();
    let not_ca = issue(
        "CN=inter",
        &k,
        "CN=root",
        &p.root_key,
        WIDE,
        vec![ext(
            ids::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign.into()),
        )],
    );
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=inter",
        &k,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err = verify_chain(
        &leaf,
        &[],
        &[not_ca, p.root.clone()],
        T0,
        Purpose::CodeSigning,
    )
    .expect_err("not CA");
    assert!(matches!(err, ChainError::IssuerNotCa { .. }), "{err}");

    // Intermediate whose keyUsage lacks keyCertSign.
    let k = key();
    let bad_ku = issue(
        "CN=inter",
        &k,
        "CN=root",
        &p.root_key,
        WIDE,
        vec![
            ext(
                ids::ID_CE_BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            ),
            ext(
                ids::ID_CE_KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
            ),
        ],
    );
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=inter",
        &k,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err = verify_chain(
        &leaf,
        &[],
        &[bad_ku, p.root.clone()],
        T0,
        Purpose::CodeSigning,
    )
    .expect_err("no certSign");
    assert!(matches!(err, ChainError::IssuerKeyUsage { .. }), "{err}");

    // Intermediate restricted to another EKU.
    let k = key();
    let tsa_only = issue(
        "CN=inter",
        &k,
        "CN=root",
        &p.root_key,
        WIDE,
        ca_exts(None, Some(vec![ids::ID_KP_TIME_STAMPING])),
    );
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=inter",
        &k,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err = verify_chain(
        &leaf,
        &[],
        &[tsa_only, p.root.clone()],
        T0,
        Purpose::CodeSigning,
    )
    .expect_err("EKU");
    assert!(
        matches!(err, ChainError::ExtendedKeyUsage { ref subject, .. } if subject == "CN=inter"),
        "{err}"
    );
}

#[test]
fn path_len_constraint() {
    // root (pathlen 0) -> inter -> leaf: one intermediate under a pathlen-0 root.
    let root_key = key();
    let root = issue(
        "CN=root",
        &root_key,
        "CN=root",
        &root_key,
        WIDE,
        ca_exts(Some(0), None),
    );
    let k = key();
    let inter = issue(
        "CN=inter",
        &k,
        "CN=root",
        &root_key,
        WIDE,
        ca_exts(None, None),
    );
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=inter",
        &k,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err =
        verify_chain(&leaf, &[], &[inter, root], T0, Purpose::CodeSigning).expect_err("pathlen");
    assert!(
        matches!(
            err,
            ChainError::PathLenExceeded {
                max: 0,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn path_length_is_bounded() {
    let keys: Vec<Key> = (0..12).map(|_| key()).collect();
    let mut chain = vec![issue(
        "CN=ca0",
        &keys[0],
        "CN=ca0",
        &keys[0],
        WIDE,
        ca_exts(None, None),
    )];
    for i in 1..keys.len() {
        let c = issue(
            &format!("CN=ca{i}"),
            &keys[i],
            &format!("CN=ca{}", i - 1),
            &keys[i - 1],
            WIDE,
            ca_exts(None, None),
        );
        chain.insert(0, c);
    }
    let last = keys.len() - 1;
    let leaf = issue(
        "CN=leaf",
        &key(),
        &format!("CN=ca{last}"),
        &keys[last],
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    let err = verify_chain(&leaf, &[], &chain, T0, Purpose::CodeSigning).expect_err("too long");
    assert!(matches!(err, ChainError::PathTooLong { max: 10 }), "{err}");
    // Ten certificates in all is fine.
    let short = &chain[chain.len() - 9..];
    let k = &keys[8];
    let leaf = issue(
        "CN=leaf",
        &key(),
        "CN=ca8",
        k,
        (T0 - 300, T0 + 300),
        leaf_exts(),
    );
    assert_eq!(
        verify_chain(&leaf, &[], short, T0, Purpose::CodeSigning)
            .expect("ten")
            .len(),
        10
    );
}

#[test]
fn timestamping_eku_must_be_critical() {
    let p = pki();
    let root_key = key();
    let root = issue(
        "CN=tsa-root",
        &root_key,
        "CN=tsa-root",
        &root_key,
        WIDE,
        ca_exts(None, None),
    );
    let tsa = |critical: bool| {
        issue(
            "CN=tsa",
            &key(),
            "CN=tsa-root",
            &root_key,
            WIDE,
            vec![
                ext(
                    ids::ID_CE_KEY_USAGE,
                    true,
                    &KeyUsage(KeyUsages::DigitalSignature.into()),
                ),
                ext(
                    ids::ID_CE_EXT_KEY_USAGE,
                    critical,
                    &ExtendedKeyUsage(vec![ids::ID_KP_TIME_STAMPING]),
                ),
            ],
        )
    };
    let good = tsa(true);
    verify_chain(
        &good,
        &[],
        &[good.clone(), root.clone()],
        T0,
        Purpose::TimeStamping,
    )
    .expect("critical EKU");
    let err = verify_chain(
        &tsa(false),
        &[],
        std::slice::from_ref(&root),
        T0,
        Purpose::TimeStamping,
    )
    .expect_err("non-critical");
    assert!(
        matches!(err, ChainError::ExtendedKeyUsageNotCritical { .. }),
        "{err}"
    );
    // A code-signing leaf is not a TSA.
    let err = verify_chain(
        &p.leaf(leaf_exts()),
        &[],
        &p.anchor(),
        T0,
        Purpose::TimeStamping,
    )
    .expect_err("wrong EKU");
    assert!(matches!(err, ChainError::ExtendedKeyUsage { .. }), "{err}");
}

#[test]
fn identity_issuer_rules() {
    let p = pki();
    let v2 = |s: &str| ext(oid::ISSUER_V2, false, &Utf8StringRef::new(s).expect("utf8"));
    let v1 = |s: &str| raw_ext(oid::ISSUER_V1, false, s.as_bytes());
    let email = ext(
        ids::ID_CE_SUBJECT_ALT_NAME,
        true,
        &SubjectAltName(vec![GeneralName::Rfc822Name(
            Ia5String::new("a@example.com").expect("ia5"),
        )]),
    );

    let id = fulcio_identity(&p.leaf(vec![email.clone(), v1("https://one")])).expect("v1 only");
    assert_eq!(
        (id.sans, id.issuer.as_deref()),
        (vec!["a@example.com".to_owned()], Some("https://one"))
    );

    let id = fulcio_identity(&p.leaf(vec![v1("https://one"), v2("https://one")])).expect("agree");
    assert_eq!(id.issuer.as_deref(), Some("https://one"));

    let err =
        fulcio_identity(&p.leaf(vec![v1("https://one"), v2("https://two")])).expect_err("disagree");
    assert!(
        matches!(
            err,
            X509Error::Identity(IdentityError::IssuerMismatch { .. })
        ),
        "{err}"
    );

    // .1.8 must be DER, not a raw string.
    let raw_v2 = raw_ext(oid::ISSUER_V2, false, b"https://one");
    let err = fulcio_identity(&p.leaf(vec![raw_v2])).expect_err("raw .1.8");
    assert!(
        matches!(
            err,
            X509Error::Identity(IdentityError::NotUtf8String { .. })
        ),
        "{err}"
    );

    let id = fulcio_identity(&p.leaf(vec![])).expect("nothing");
    assert_eq!(id, keyless_x509::FulcioIdentity::default());
}

#[test]
fn duplicate_extensions_reject() {
    let p = pki();
    let mut exts = leaf_exts();
    exts.push(exts[0].clone());
    let alg = AlgorithmIdentifierOwned {
        oid: ECDSA_SHA256,
        parameters: None,
    };
    // Build by hand: `issue` parses, which must fail here.
    let mut cert = x509_cert::Certificate::from_der(p.inter.der()).expect("decode");
    cert.tbs_certificate.extensions = Some(exts);
    cert.signature_algorithm = alg;
    let der = cert.to_der().expect("encode");
    assert!(matches!(
        Certificate::from_der(&der),
        Err(X509Error::DuplicateExtension { .. })
    ));
}

#[test]
fn sct_list_parser_is_bounds_checked() {
    use keyless_x509::{parse_sct_list, SctError};
    let mut sct = vec![0u8];
    sct.extend([7u8; 32]);
    sct.extend(1_700_000_000_000u64.to_be_bytes());
    sct.extend([0, 2, 0xaa, 0xbb]); // extensions
    sct.extend([4, 3, 0, 3, 1, 2, 3]); // alg + signature
    let mut list = (sct.len() as u16).to_be_bytes().to_vec();
    list.extend(&sct);
    let mut whole = (list.len() as u16).to_be_bytes().to_vec();
    whole.extend(&list);
    let parsed = parse_sct_list(&whole).expect("parses");
    assert_eq!(parsed.len(), 1);
    let v1 = parsed[0].v1().expect("a v1 SCT");
    assert_eq!(v1.extensions.as_slice(), &[0xaa, 0xbb]);
    assert_eq!(v1.signature.signature.as_slice(), &[1, 2, 3]);
    assert_eq!(parsed[0].log_id(), [7u8; 32]);
    assert_eq!(parsed[0].timestamp(), 1_700_000_000_000);
    for cut in 0..whole.len() {
        assert!(
            matches!(parse_sct_list(&whole[..cut]), Err(SctError::Malformed(_))),
            "cut {cut}"
        );
    }
    let mut trailing = whole.clone();
    trailing.push(0);
    assert!(parse_sct_list(&trailing).is_err());
    assert!(parse_sct_list(&[0, 0]).is_err());
}

#[test]
fn path_search_is_budgeted() {
    let p = pki();
    let leaf = p.leaf(leaf_exts());
    // Many look-alike intermediates whose keys did not sign the leaf.
    let decoy_key = key();
    let decoys: Vec<Certificate> = (0..70)
        .map(|i| {
            issue(
                "CN=inter",
                &key(),
                "CN=root",
                &decoy_key,
                (T0 - 1000 - i, T0 + 1000),
                ca_exts(None, None),
            )
        })
        .collect();
    // Trusted certificates are tried first, so decoys cost nothing then.
    verify_chain(&leaf, &decoys, &p.anchor(), T0, Purpose::CodeSigning).expect("trusted first");
    let mut untrusted = decoys.clone();
    untrusted.push(p.inter.clone());
    let err = verify_chain(
        &leaf,
        &untrusted,
        std::slice::from_ref(&p.root),
        T0,
        Purpose::CodeSigning,
    )
    .expect_err("budget");
    assert!(
        matches!(err, ChainError::SearchBudgetExhausted { .. }),
        "{err}"
    );
}

/// A serialized v1-layout SCT with the given version and algorithm bytes.
fn raw_sct(version: u8, hash: u8, signature: u8) -> Vec<u8> {
    let mut sct = vec![version];
    sct.extend([7u8; 32]);
    sct.extend(1_700_000_000_000u64.to_be_bytes());
    sct.extend([0, 2, 0xaa, 0xbb]); // extensions
    sct.extend([hash, signature, 0, 3, 1, 2, 3]); // alg + signature
    sct
}

/// A TLS SCT list of the given serialized SCTs.
fn sct_list(scts: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for sct in scts {
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(sct);
    }
    let mut whole = (list.len() as u16).to_be_bytes().to_vec();
    whole.extend(&list);
    whole
}

#[test]
fn sct_list_encoding_is_the_rfc6962_layout_and_parses_back() {
    use keyless_x509::{
        ecdsa_sha256_sct, encode_digitally_signed, encode_sct_list, parse_sct_list,
    };
    let sct = ecdsa_sha256_sct([7u8; 32], 1_700_000_000_000, &[0xaa, 0xbb], &[1, 2, 3]);
    assert_eq!(
        encode_digitally_signed(&sct.signature).unwrap(),
        [4, 3, 0, 3, 1, 2, 3]
    );
    let encoded = encode_sct_list(vec![sct]).expect("encodes");
    assert_eq!(encoded, sct_list(&[raw_sct(0, 4, 3)]));
    let parsed = parse_sct_list(&encoded).expect("parses");
    assert_eq!(
        parsed,
        [keyless_x509::Sct::V1(ecdsa_sha256_sct(
            [7u8; 32],
            1_700_000_000_000,
            &[0xaa, 0xbb],
            &[1, 2, 3]
        ))]
    );
    // A field too long for its u16 length is an error, not a truncation.
    // (tls_codec itself would panic on a debug assertion first.)
    let long = ecdsa_sha256_sct([7u8; 32], 0, &[], &vec![0u8; 70_000]);
    assert!(encode_digitally_signed(&long.signature).is_err());
    assert!(encode_sct_list(vec![long]).is_err());
    // Each field fits, the SCT does not.
    let long = ecdsa_sha256_sct([7u8; 32], 0, &[0u8; 40_000], &[0u8; 40_000]);
    assert!(encode_sct_list(vec![long]).is_err());
    // Each SCT fits, the list does not.
    let two = (0..2).map(|_| ecdsa_sha256_sct([7u8; 32], 0, &[], &[0u8; 40_000]));
    assert!(encode_sct_list(two.collect()).is_err());
}

/// An SCT whose version or algorithm byte x509-cert's enums do not name
/// fails alone (kept with its bytes, so that verification reports why),
/// while the SCTs around it still parse; a broken layout is still
/// malformed for the whole list.
#[test]
fn sct_with_unknown_version_or_algorithm_fails_alone() {
    use keyless_x509::{parse_sct_list, Sct, SctError};
    let parsed = parse_sct_list(&sct_list(&[
        raw_sct(1, 4, 3),
        raw_sct(0, 9, 3),
        raw_sct(0, 4, 3),
    ]))
    .expect("parses");
    assert_eq!(parsed.len(), 3);
    assert!(matches!(
        parsed[0],
        Sct::Unusable {
            version: 1,
            hash: 4,
            signature: 3,
            timestamp: 1_700_000_000_000,
            ..
        }
    ));
    assert_eq!(parsed[0].log_id(), [7u8; 32]);
    assert!(matches!(
        parsed[1],
        Sct::Unusable {
            version: 0,
            hash: 9,
            signature: 3,
            ..
        }
    ));
    assert!(parsed[2].v1().is_some());
    // A v2 SCT that is not even laid out as v1 (one byte short).
    let mut short = raw_sct(1, 4, 3);
    short.pop();
    assert!(matches!(
        parse_sct_list(&sct_list(&[short, raw_sct(0, 4, 3)])),
        Err(SctError::Malformed(_))
    ));
}
