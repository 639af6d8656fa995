use super::*;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::cosignature::{key_hint, signed_message, TYPE_COSIGNATURE_V1};
use keyless_tlog::{NoteSignature, NoteSigner};

const BODY: &str = "log.example\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

pub(crate) struct TestWitness {
    pub name: String,
    key: SigningKey,
    raw: [u8; 32],
}

impl TestWitness {
    pub fn new(name: &str) -> Self {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let raw = key
            .public_key()
            .spki_der()
            .strip_prefix(&ED25519_SPKI_PREFIX[..])
            .unwrap()
            .try_into()
            .unwrap();
        Self {
            name: name.into(),
            key,
            raw,
        }
    }

    pub fn vkey(&self) -> String {
        let mut material = vec![TYPE_COSIGNATURE_V1];
        material.extend_from_slice(&self.raw);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_hint(&self.name, &self.raw)),
            B64.encode(material)
        )
    }

    pub fn cosign(&self, body: &str) -> NoteSignature {
        let t = 1_700_000_000u64;
        let sig = self.key.sign(signed_message(t, body).as_bytes()).unwrap();
        let mut signature = t.to_be_bytes().to_vec();
        signature.extend_from_slice(&sig);
        NoteSignature {
            name: self.name.clone(),
            key_hint: key_hint(&self.name, &self.raw),
            signature,
        }
    }
}

fn note(lines: Vec<NoteSignature>) -> SignedNote {
    let log = NoteSigner::new(
        "log.example",
        SigningKey::generate(KeyAlgorithm::Ed25519).unwrap(),
    )
    .unwrap();
    let mut sigs = vec![log.sign_line(BODY).unwrap()];
    sigs.extend(lines);
    SignedNote::new(BODY.into(), sigs).unwrap()
}

#[test]
fn one_of_one() {
    let w = TestWitness::new("w.example/1");
    let text = format!("# dev\nwitness w1 {}\nquorum w1\n", w.vkey());
    let policy = WitnessPolicy::parse(&text, "p.txt").unwrap();
    let signed = note(vec![w.cosign(BODY)]);
    assert!(policy.satisfied(&policy.cosigners(&signed)));
    // No cosignature, or one over another body, or by a stranger: refused.
    assert!(!policy.satisfied(&policy.cosigners(&note(vec![]))));
    let other_body = w.cosign(&BODY.replace('5', "6"));
    assert!(!policy.satisfied(&policy.cosigners(&note(vec![other_body]))));
    let stranger = TestWitness::new("w.example/1");
    assert!(!policy.satisfied(&policy.cosigners(&note(vec![stranger.cosign(BODY)]))));
    assert_eq!(policy.quorum_text(), "w1");
}

#[test]
fn groups_and_thresholds() {
    let ws: Vec<TestWitness> = (1..=4)
        .map(|i| TestWitness::new(&format!("w.example/{i}")))
        .collect();
    let text = format!(
        "witness a {}\nwitness b {} https://b.example\n\twitness c {}\nwitness d {}\n\
         group abc 2 a b c\ngroup both all abc d\nquorum both\n",
        ws[0].vkey(),
        ws[1].vkey(),
        ws[2].vkey(),
        ws[3].vkey()
    );
    let policy = WitnessPolicy::parse(&text, "p").unwrap();
    let set = |idx: &[usize]| idx.iter().copied().collect::<BTreeSet<usize>>();
    assert!(policy.satisfied(&set(&[0, 1, 3])));
    assert!(policy.satisfied(&set(&[0, 2, 3])));
    assert!(!policy.satisfied(&set(&[0, 1, 2])));
    assert!(!policy.satisfied(&set(&[0, 3])));
    assert_eq!(policy.quorum_text(), "2 of [2 of [a, b, c], d]");
    let any = text.replace("group abc 2", "group abc any");
    let policy = WitnessPolicy::parse(&any, "p").unwrap();
    assert!(policy.satisfied(&set(&[2, 3])));
    let none = format!("witness a {}\nquorum none\n", ws[0].vkey());
    assert!(WitnessPolicy::parse(&none, "p")
        .unwrap()
        .satisfied(&BTreeSet::new()));
}

#[test]
fn malformed_policies_are_refused() {
    let w = TestWitness::new("w.example/1");
    let v = w.vkey();
    let w2 = TestWitness::new("w.example/2").vkey();
    let cases = [
        format!("witness w1 {v}\n"),                                // no quorum
        format!("witness w1 {v}\nquorum w1\nquorum w1\n"),          // two
        format!("quorum w1\nwitness w1 {v}\n"),                     // used before defined
        format!("witness w1 {v}\nwitness w1 {w2}\nquorum w1\n"),    // same name
        format!("witness w1 {v}\nwitness w2 {v}\nquorum w1\n"),     // same key
        format!("witness none {v}\nquorum none\n"),                 // reserved
        format!("witness w1 {v}\ngroup g 2 w1\nquorum g\n"),        // k > n
        format!("witness w1 {v}\ngroup g 0 w1\nquorum g\n"),        // k = 0
        format!("witness w1 {v}\ngroup g any w1 w1\nquorum g\n"),   // twice
        format!("witness w1 {v}\ngroup g any none\nquorum g\n"),    // none as member
        format!("witness w1 {v}\nquorum w1\nfrobnicate x\n"),       // unknown keyword
        format!("witness w1 {v}\r\nquorum w1\n"),                   // CR
        format!("witness w1 {}\nquorum w1\n", v.replace("+", "-")), // bad vkey
        "log example.com+00000000+AQ==\nquorum none\n".to_string(), // bad log vkey
        format!("witness w1 {v} url extra\nquorum w1\n"),           // too many items
    ];
    for text in cases {
        assert!(WitnessPolicy::parse(&text, "p").is_err(), "{text:?}");
    }
    let big = format!("# {}\nquorum none\n", "x".repeat(MAX_POLICY_SIZE));
    assert!(matches!(
        WitnessPolicy::parse(&big, "p"),
        Err(PolicyFileError::TooLarge(_))
    ));
}

#[test]
fn log_lines_take_ed25519_vkeys() {
    let log = NoteSigner::new(
        "log.example",
        SigningKey::generate(KeyAlgorithm::Ed25519).unwrap(),
    )
    .unwrap();
    let raw = log
        .verifier()
        .key()
        .spki_der()
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .unwrap()
        .to_vec();
    let mut material = vec![0x01];
    material.extend_from_slice(&raw);
    let vkey = format!(
        "log.example+{}+{}",
        hex::encode(log.verifier().key_hint()),
        B64.encode(&material)
    );
    let policy = WitnessPolicy::parse(
        &format!("log {vkey} https://log.example\nquorum none\n"),
        "p",
    )
    .unwrap();
    assert_eq!(policy.logs().len(), 1);
    assert_eq!(policy.logs()[0].key_hint(), log.verifier().key_hint());
    let dup = format!("log {vkey}\nlog {vkey}\nquorum none\n");
    assert!(WitnessPolicy::parse(&dup, "p").is_err());
}
