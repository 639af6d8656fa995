//! The in-toto statement view: shown when an intoto 0.0.2 body carries
//! the DSSE payload, replaced by a note when the log keeps only its hash.

use keyless_explorer::decode::decode;
use keyless_types::b64;
use serde_json::json;

fn intoto_body(payload: Option<&str>) -> Vec<u8> {
    let pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
    let mut envelope = json!({
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"publicKey": b64::encode(b64::encode(pem.as_bytes()).as_bytes()), "sig": b64::encode(b"MEUC")}],
    });
    if let Some(p) = payload {
        // Rekor encodes the (already base64) payload a second time.
        envelope["payload"] = json!(b64::encode(b64::encode(p.as_bytes()).as_bytes()));
    }
    json!({
        "apiVersion": "0.0.2", "kind": "intoto",
        "spec": {"content": {"envelope": envelope, "payloadHash": {"algorithm": "sha256", "value": "cd".repeat(32)}}}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn an_intoto_body_with_its_payload_shows_the_statement() {
    let stmt = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.txt", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"builder": {"id": "https://example.com/builder"}},
    });
    let d = decode(&intoto_body(Some(&stmt.to_string()))).expect("decodes");
    assert_eq!(d.statement_note, None);
    let s = d.statement.expect("statement shown");
    assert_eq!(s.statement_type, "https://in-toto.io/Statement/v1");
    assert_eq!(s.predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(s.subjects.len(), 1);
    assert_eq!(s.subjects[0].name, "artifact.txt");
    assert_eq!(s.subjects[0].digest["sha256"], "ab".repeat(32));
    assert!(s.predicate.contains("\n  \"builder\""), "{}", s.predicate);
    assert!(!s.predicate_truncated);
    // The JSON the page reads.
    let v = serde_json::to_value(decode(&intoto_body(Some(&stmt.to_string()))).expect("decodes"))
        .expect("serializes");
    assert_eq!(
        v["statement"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(
        v["statement"]["subjects"][0]["digest"]["sha256"],
        "ab".repeat(32)
    );
}

#[test]
fn without_the_payload_the_page_says_only_its_hash_is_logged() {
    let d = decode(&intoto_body(None)).expect("decodes");
    assert!(d.statement.is_none());
    assert!(d
        .statement_note
        .expect("note")
        .contains("only the payload hash"));
}

#[test]
fn a_payload_that_is_not_a_statement_is_reported() {
    let d = decode(&intoto_body(Some("[1, 2]"))).expect("decodes");
    assert!(d.statement.is_none());
    assert!(d
        .statement_note
        .expect("note")
        .contains("not an in-toto statement"));
}

#[test]
fn subjects_and_predicate_are_capped() {
    let subjects: Vec<_> = (0..100)
        .map(|i| json!({"name": format!("f{i}"), "digest": {"sha256": "00"}}))
        .collect();
    let stmt = json!({"_type": "t", "predicateType": "p", "subject": subjects, "predicate": {"x": "é".repeat(40_000)}});
    let s = keyless_explorer::statement::parse(stmt.to_string().as_bytes()).expect("parses");
    assert_eq!(s.subjects.len(), keyless_explorer::statement::MAX_SUBJECTS);
    assert_eq!(
        s.subjects_omitted,
        100 - keyless_explorer::statement::MAX_SUBJECTS
    );
    assert!(s.predicate_truncated);
    assert!(s.predicate.len() <= keyless_explorer::statement::MAX_PREDICATE);
}
