//! The Fulcio profile as keyless-x509 builds it: a root, an intermediate
//! and a leaf made with `keyless_x509::profile` chain, carry the identity
//! the verifier reads back, and keep the CT slot property (removing the
//! poison or the SCT list gives the same TBS).

use keyless_crypto::{KeyAlgorithm, SignatureAlgorithm, SigningKey};
use keyless_x509::oid;
use keyless_x509::profile::{
    assemble, ca_tbs, leaf_tbs, CaKind, CtSlot, LeafSubject, LeafTemplate, San, LEAF_VALIDITY_SECS,
};
use keyless_x509::{
    fulcio_identity, precert_tbs, verify_chain, Certificate, ProfileError, Purpose,
};

const NOW: i64 = 1_750_000_000;

fn signed(tbs: x509_cert::TbsCertificate, key: &SigningKey) -> Certificate {
    use der::Encode;
    let sig = key.sign(&tbs.to_der().unwrap()).unwrap();
    Certificate::from_der(&assemble(tbs, &sig).unwrap()).unwrap()
}

#[test]
fn profile_builds_a_fulcio_chain_the_verifier_reads_back() {
    let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let int_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let alg = |k: &SigningKey| k.public_key().default_signature_algorithm();
    let root = signed(
        ca_tbs(
            CaKind::Root,
            "CN=root,O=test",
            root_key.public_key(),
            None,
            alg(&root_key),
            NOW - 100,
            NOW + 1000,
        )
        .unwrap(),
        &root_key,
    );
    let int = signed(
        ca_tbs(
            CaKind::Intermediate,
            "CN=int,O=test",
            int_key.public_key(),
            Some(&root),
            alg(&root_key),
            NOW - 100,
            NOW + 300,
        )
        .unwrap(),
        &root_key,
    );
    let san = San::Uri("https://github.com/o/r/.github/workflows/w.yml@refs/heads/main".into());
    let exts = vec![
        (oid::GITHUB_WORKFLOW_TRIGGER, "push".to_string()),
        (oid::BUILD_SIGNER_URI, "https://example/b".to_string()),
    ];
    let subject = LeafSubject {
        san: &san,
        issuer: "https://token.example",
        extensions: &exts,
    };
    let template = LeafTemplate::new(NOW, &int).unwrap();
    // The leaf never outlives its issuer.
    assert_eq!(
        template.not_after,
        (NOW + LEAF_VALIDITY_SECS).min(int.not_after())
    );
    assert_eq!(template.not_after, NOW + 300);
    let leaf = |slot| {
        signed(
            leaf_tbs(
                subject,
                leaf_key.public_key(),
                &int,
                alg(&int_key),
                &template,
                &slot,
            )
            .unwrap(),
            &int_key,
        )
    };
    let precert = leaf(CtSlot::Poison);
    let fin = leaf(CtSlot::Scts(vec![0, 0]));

    let path = verify_chain(
        &fin,
        std::slice::from_ref(&int),
        std::slice::from_ref(&root),
        NOW + 10,
        Purpose::CodeSigning,
    )
    .expect("chain verifies");
    assert_eq!(path.len(), 3);
    let id = fulcio_identity(&fin).unwrap();
    assert_eq!(id.sans, [san.value()]);
    assert_eq!(id.issuer.as_deref(), Some("https://token.example"));
    assert_eq!(
        id.extensions
            .get(&oid::GITHUB_WORKFLOW_TRIGGER.to_string())
            .map(String::as_str),
        Some("push")
    );
    assert_eq!(
        id.extensions
            .get(&oid::BUILD_SIGNER_URI.to_string())
            .map(String::as_str),
        Some("https://example/b")
    );

    // Extension order and criticality as the module doc says.
    use const_oid::db::rfc5280 as ids;
    let order: Vec<_> = fin
        .extensions()
        .iter()
        .map(|e| (e.extn_id, e.critical))
        .collect();
    assert_eq!(
        order,
        [
            (ids::ID_CE_KEY_USAGE, true),
            (ids::ID_CE_EXT_KEY_USAGE, false),
            (ids::ID_CE_SUBJECT_KEY_IDENTIFIER, false),
            (ids::ID_CE_AUTHORITY_KEY_IDENTIFIER, false),
            (ids::ID_CE_SUBJECT_ALT_NAME, true),
            (oid::ISSUER_V1, false),
            (oid::ISSUER_V2, false),
            (oid::GITHUB_WORKFLOW_TRIGGER, false),
            (oid::BUILD_SIGNER_URI, false),
            (oid::CT_SCT_LIST, false),
        ]
    );
    // .1.2 is a raw string, .1.9 a DER UTF8String.
    assert_eq!(
        fin.extension(&oid::GITHUB_WORKFLOW_TRIGGER)
            .unwrap()
            .extn_value
            .as_bytes(),
        b"push"
    );
    assert_eq!(
        fin.extension(&oid::BUILD_SIGNER_URI)
            .unwrap()
            .extn_value
            .as_bytes()[0],
        0x0c
    );
    assert!(precert
        .extension(&oid::CT_PRECERT_POISON)
        .is_some_and(|e| e.critical));
    // The CT slot: what the log signed is what the verifier rebuilds.
    assert_eq!(precert_tbs(&precert).unwrap(), precert_tbs(&fin).unwrap());
}

#[test]
fn profile_refuses_what_it_cannot_encode() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let err = ca_tbs(
        CaKind::Root,
        "CN=r",
        key.public_key(),
        None,
        SignatureAlgorithm::RsaPkcs1Sha256,
        NOW,
        NOW + 1,
    );
    assert!(matches!(err, Err(ProfileError::UnsupportedAlgorithm(_))));
    let root = signed(
        ca_tbs(
            CaKind::Root,
            "CN=r",
            key.public_key(),
            None,
            SignatureAlgorithm::EcdsaSha256,
            NOW,
            NOW + 1000,
        )
        .unwrap(),
        &key,
    );
    // An email SAN must be IA5: a non-ASCII one is an encoding error, not a mangled name.
    let san = San::Email("ü@example.com".into());
    let subject = LeafSubject {
        san: &san,
        issuer: "https://i",
        extensions: &[],
    };
    let t = LeafTemplate::new(NOW, &root).unwrap();
    let err = leaf_tbs(
        subject,
        key.public_key(),
        &root,
        SignatureAlgorithm::EcdsaSha256,
        &t,
        &CtSlot::Poison,
    );
    assert!(matches!(err, Err(ProfileError::Der(_))));
}
