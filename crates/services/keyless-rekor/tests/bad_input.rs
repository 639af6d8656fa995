//! Bad requests get a 4xx with a JSON `{code, message}` body and leave
//! the log untouched.

mod support;

use keyless_log::LogKeyType;
use serde_json::{json, Value};
use support::*;

fn assert_error(status: u16, v: &Value, want: u16) {
    assert_eq!(status, want, "{v}");
    assert_eq!(v["code"], want, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

#[tokio::test]
async fn bad_requests_are_4xx_json_and_write_nothing() {
    let server = start(LogKeyType::Ed25519).await;
    let c = reqwest::Client::new();
    let v2 = format!("{}/api/v2/log/entries", server.url);
    let v1 = format!("{}/api/v1/log/entries", server.url);
    let key = signer();
    let (good, _) = hashed_rekord_v2(&key, b"x");

    // Malformed JSON, wrong shapes, unknown kinds.
    for body in [
        "{",
        "[]",
        "null",
        "{\"hashedRekordRequestV002\": 5}",
        "{\"somethingElse\": {}}",
        "{}",
    ] {
        let (s, v) = send(c.post(&v2).body(body)).await;
        assert_error(s, &v, 400);
    }
    let mut both = good.clone();
    both["dsseRequestV002"] = json!({});
    let (s, v) = send(c.post(&v2).json(&both)).await;
    assert_error(s, &v, 400);
    let (s, v) = send(
        c.post(&v1)
            .json(&json!({"apiVersion": "0.0.1", "kind": "rekord", "spec": {}})),
    )
    .await;
    assert_error(s, &v, 400);
    assert!(v["message"].as_str().unwrap().contains("rekord"));

    // Wrong signature, wrong key details, bad digest length, invalid base64.
    let mut wrong = good.clone();
    wrong["hashedRekordRequestV002"]["digest"] = json!(b64(&[1u8; 32]));
    let (s, v) = send(c.post(&v2).json(&wrong)).await;
    assert_error(s, &v, 400);
    assert!(v["message"].as_str().unwrap().contains("signature"));
    let mut details = good.clone();
    details["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
        json!("PKIX_ED25519");
    let (s, v) = send(c.post(&v2).json(&details)).await;
    assert_error(s, &v, 400);
    let mut short = good.clone();
    short["hashedRekordRequestV002"]["digest"] = json!(b64(&[1u8; 31]));
    let (s, v) = send(c.post(&v2).json(&short)).await;
    assert_error(s, &v, 400);
    let mut badb64 = good.clone();
    badb64["hashedRekordRequestV002"]["signature"]["content"] = json!("!!!not base64!!!");
    let (s, v) = send(c.post(&v2).json(&badb64)).await;
    assert_error(s, &v, 400);
    let (mut v1_wrong, _) = hashed_rekord_v1(&key, b"y");
    v1_wrong["spec"]["data"]["hash"]["value"] = json!("00".repeat(32));
    let (s, v) = send(c.post(&v1).json(&v1_wrong)).await;
    assert_error(s, &v, 400);

    // Oversized and compressed bodies.
    let big = format!("{{\"pad\": \"{}\"}}", "a".repeat(200 * 1024));
    let (s, v) = send(
        c.post(&v2)
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_error(s, &v, 413);
    let (s, v) = send(
        c.post(&v2)
            .header("content-encoding", "gzip")
            .body(vec![0x1f, 0x8b, 8, 0]),
    )
    .await;
    assert_error(s, &v, 415);

    // Negative or out-of-range indices and proofs.
    for q in [
        "logIndex=-1",
        "logIndex=abc",
        "",
        "logIndex=99999999999999999999",
    ] {
        let (s, v) = send(c.get(format!("{v1}?{q}"))).await;
        assert_error(s, &v, 400);
    }
    let (s, v) = send(c.get(format!("{v1}?logIndex=0"))).await;
    assert_error(s, &v, 404);
    for q in [
        "firstSize=0&lastSize=1",
        "firstSize=-1",
        "firstSize=2&lastSize=1",
        "firstSize=1&lastSize=5",
    ] {
        let (s, v) = send(c.get(format!("{}/api/v1/log/proof?{q}", server.url))).await;
        assert_error(s, &v, 400);
    }
    for id in ["zz", &"g".repeat(64), &"0".repeat(64)] {
        let (s, v) = send(c.get(format!("{v1}/{id}"))).await;
        assert!(s == 400 || s == 404, "{s} {v}");
        assert_eq!(v["code"], s);
    }
    for path in [
        "tile/0/000",
        "tile/0/0000",
        "tile/99/000",
        "tile/entries/000.p/0",
        "nothing/here",
    ] {
        let (s, v) = send(c.get(format!("{}/{path}", server.url))).await;
        assert_error(s, &v, 404);
    }
    let (s, v) = send(
        c.post(format!("{}/api/v1/index/retrieve", server.url))
            .json(&json!({"email": "no at sign"})),
    )
    .await;
    assert_error(s, &v, 400);
    let (s, v) = send(c.delete(&v2)).await;
    assert_error(s, &v, 405);

    // Nothing was written: the log is still empty.
    assert_eq!(server.log.published().size, 0);

    // And a good request still works afterwards.
    let (s, _) = send(c.post(&v2).json(&good)).await;
    assert_eq!(s, 201);
    assert_eq!(server.log.published().size, 1);
    let (s, v) = send(c.get(format!(
        "{}/api/v1/log/proof?firstSize=1&lastSize=1",
        server.url
    )))
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["hashes"], json!([]));
}
