//! TUF metadata as a client downloads it (keyless-tuf): the signed
//! envelope, OLPC canonical JSON of `signed`, the four typed roles, the
//! self-signed-root check, and delegation path matching. Any input must
//! give Ok or Err, never a panic or a hang; the asserts below are
//! properties a signature check relies on.
#![no_main]

use keyless_tuf::client::delegation::{
    is_delegated_path, is_succinct_role, path_pattern_matches, succinct_role_for,
};
use keyless_tuf::metadata::{Envelope, Root, Snapshot, Targets, Timestamp};
use keyless_tuf::{DirectoryFetcher, Updater};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Whether any string (key or value) in `v` has a control character,
/// which OLPC canonical JSON writes raw and JSON therefore cannot read back.
fn has_control_char(v: &Value) -> bool {
    let bad = |s: &str| s.bytes().any(|b| b < 0x20);
    match v {
        Value::String(s) => bad(s),
        Value::Array(a) => a.iter().any(has_control_char),
        Value::Object(m) => m.iter().any(|(k, v)| bad(k) || has_control_char(v)),
        _ => false,
    }
}

/// The canonical form must be a faithful, deterministic encoding: it
/// reads back as the same value whenever JSON can represent it, so two
/// different `signed` values never share the bytes a signature covers.
fn check_canonical(v: &Value) {
    let Ok(c) = keyless_tuf::cjson::to_canonical(v) else {
        return;
    };
    match serde_json::from_slice::<Value>(&c) {
        Ok(back) => {
            assert_eq!(&back, v, "canonical JSON read back as a different value");
            let again = keyless_tuf::cjson::to_canonical(&back).expect("canonical of canonical");
            assert_eq!(again, c, "canonical JSON is not idempotent");
        }
        Err(e) => assert!(
            has_control_char(v),
            "canonical JSON of a value without control characters is not JSON: {e}"
        ),
    }
}

/// A typed role serialised again must parse to the same role: the
/// repository writer and the cache depend on it.
fn check_roundtrip<T>(t: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let v = serde_json::to_value(t).expect("serialise a parsed role");
    let back: T = serde_json::from_value(v).expect("parse a serialised role");
    assert_eq!(&back, t, "role changed in a serialise/parse round trip");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        check_canonical(&v);
    }
    let Ok(env) = Envelope::from_slice(data) else {
        return;
    };
    let _ = env.canonical_signed();
    match env.role_type() {
        Some("root") => {
            if let Ok(root) = env.parse_signed::<Root>() {
                check_roundtrip(&root);
            }
            let _ = Updater::<DirectoryFetcher>::verify_self_signed_root(data);
        }
        Some("timestamp") => {
            if let Ok(ts) = env.parse_signed::<Timestamp>() {
                check_roundtrip(&ts);
                assert!(
                    ts.snapshot_meta().is_ok(),
                    "validated timestamp lacks snapshot.json"
                );
            }
        }
        Some("snapshot") => {
            if let Ok(s) = env.parse_signed::<Snapshot>() {
                check_roundtrip(&s);
            }
        }
        _ => {
            let Ok(t) = env.parse_signed::<Targets>() else {
                return;
            };
            check_roundtrip(&t);
            let Some(d) = &t.delegations else { return };
            // Bounded: every (role, target) pair costs a pattern match.
            let names: Vec<&str> = t.targets.keys().map(String::as_str).take(16).collect();
            for role in d.roles.iter().flatten().take(16) {
                for name in &names {
                    let _ = is_delegated_path(role, name);
                    for p in role.paths.iter().flatten().take(16) {
                        let _ = path_pattern_matches(p, name);
                    }
                }
            }
            if let Some(s) = &d.succinct_roles {
                for name in &names {
                    let bin = succinct_role_for(s, name);
                    assert!(
                        is_succinct_role(s, &bin),
                        "succinct_role_for gave {bin:?}, not a role of its own set"
                    );
                }
            }
        }
    }
});
