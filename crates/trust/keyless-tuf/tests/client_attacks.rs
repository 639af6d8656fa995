//! The client against a generated repository: happy paths and one test per
//! attack, each refused with the specific error variant that names the check.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tuf::keys::{key_id, tuf_key_for};
use keyless_tuf::metadata::{DelegatedRole, Delegations, Envelope, Expires};
use keyless_tuf::repo::{sign_value, Repository, RepositoryBuilder};
use keyless_tuf::{
    DirectoryFetcher, Error, FetchError, MetadataError, TargetError, Updater, UpdaterConfig,
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const BASE: &str = "https://mirror.test/metadata";

/// 2026-01-01T00:00:00Z: every test runs at this fixed time.
fn reference_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

struct Env {
    repo: Repository,
    _tmp: tempfile::TempDir,
    mirror: PathBuf,
    client: PathBuf,
}

impl Env {
    fn new() -> Self {
        Self::with(RepositoryBuilder::new())
    }

    fn with(builder: RepositoryBuilder) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mirror = tmp.path().join("mirror");
        let client = tmp.path().join("client");
        let repo = builder
            .now(reference_time() - Duration::hours(1))
            .build()
            .unwrap();
        repo.publish(&mirror).unwrap();
        std::fs::create_dir_all(&client).unwrap();
        std::fs::write(client.join("root.json"), repo.signed_bytes("root").unwrap()).unwrap();
        Self {
            repo,
            _tmp: tmp,
            mirror,
            client,
        }
    }

    /// Re-sign changed roles and publish.
    fn publish(&mut self) {
        self.repo.sign().unwrap();
        self.repo.publish(&self.mirror).unwrap();
    }

    fn updater(&self) -> Updater<DirectoryFetcher> {
        let config = UpdaterConfig {
            reference_time: Some(reference_time()),
            ..UpdaterConfig::default()
        };
        Updater::new(
            BASE,
            &self.client,
            Some(&format!("{BASE}/targets")),
            DirectoryFetcher::new(BASE, &self.mirror),
            config,
        )
        .unwrap()
    }

    fn refresh(&self) -> Result<(), Error> {
        self.updater().refresh()
    }

    /// The `signed` part of a published file.
    fn signed_of(&self, file: &str) -> Value {
        let bytes = std::fs::read(self.mirror.join(file)).unwrap();
        Envelope::from_slice(&bytes).unwrap().signed
    }

    /// Replace a published file with `signed` signed by `role`'s keys.
    fn write_signed(&self, file: &str, role: &str, signed: &Value) {
        let bytes = self.repo.sign_json(role, signed).unwrap();
        std::fs::write(self.mirror.join(file), bytes).unwrap();
    }

    fn write_raw(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.mirror.join(file), bytes).unwrap();
    }

    fn client_file(&self, role: &str) -> Option<Vec<u8>> {
        std::fs::read(self.client.join(format!("{role}.json"))).ok()
    }

    fn version_of(&self, role: &str) -> Option<u64> {
        let b = self.client_file(role)?;
        Envelope::from_slice(&b).unwrap().signed["version"].as_u64()
    }

    fn snapshot_version(&self) -> u64 {
        self.repo.snapshot.common.version
    }

    fn targets_version(&self) -> u64 {
        self.repo.targets["targets"].common.version
    }
}

/// The SHA-256 of every file of a client metadata directory (not
/// recursive), by name: a refused file must leave the cache byte for byte
/// as it was (metadata that passed every check before it may be persisted).
fn cache_bytes(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                keyless_crypto::sha256_hex(&std::fs::read(&p).unwrap()),
            )
        })
        .collect()
}

/// `bytes` with its first signature repeated: one key ID twice in `signatures`.
fn with_duplicate_signature(bytes: &[u8]) -> Vec<u8> {
    let mut e = Envelope::from_slice(bytes).unwrap();
    let first = e.signatures[0].clone();
    e.signatures.push(first);
    serde_json::to_vec(&e).unwrap()
}

/// [`support::chain_once`], which is also what `Error::report` prints.
fn chain_once(e: &Error) -> String {
    let joined = support::chain_once(e);
    assert_eq!(joined, e.report());
    joined
}

fn past() -> Value {
    Value::String(Expires(reference_time() - Duration::days(1)).to_string())
}

fn metadata_err(r: Result<(), Error>) -> (String, MetadataError) {
    match r {
        Err(Error::Metadata { role, source, .. }) => (role, source),
        other => panic!("expected a metadata error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- happy paths

#[test]
fn init_refresh_download() {
    let mut env = Env::new();
    env.repo
        .add_target("trusted_root.json", b"{\"mediaType\":\"x\"}")
        .unwrap();
    env.repo.add_target("dir/sub/file.txt", b"nested").unwrap();
    env.publish();
    let mut up = env.updater();
    up.refresh().unwrap();
    for role in ["root", "timestamp", "snapshot", "targets"] {
        assert!(env.client_file(role).is_some(), "{role}.json persisted");
    }
    assert_eq!(env.version_of("targets"), Some(env.targets_version()));
    let info = up.get_target_info("trusted_root.json").unwrap();
    assert_eq!(
        up.download_target("trusted_root.json", &info).unwrap(),
        b"{\"mediaType\":\"x\"}"
    );
    let info = up.get_target_info("dir/sub/file.txt").unwrap();
    assert_eq!(
        up.download_target("dir/sub/file.txt", &info).unwrap(),
        b"nested"
    );
    // Consistent snapshots: the target URL carries the hash.
    assert!(up
        .target_url("dir/sub/file.txt", &info)
        .unwrap()
        .ends_with(&format!("/dir/sub/{}.file.txt", info.hashes["sha256"])));
    assert!(matches!(
        up.get_target_info("missing"),
        Err(Error::Target {
            source: TargetError::NotFound,
            ..
        })
    ));
    // A second refresh with nothing new works from the cache.
    env.refresh().unwrap();
}

#[test]
fn non_consistent_snapshot_repository() {
    let mut env = Env::with(RepositoryBuilder::new().consistent_snapshot(false));
    env.repo.add_target("a.txt", b"A").unwrap();
    env.publish();
    let mut up = env.updater();
    up.refresh().unwrap();
    let info = up.get_target_info("a.txt").unwrap();
    assert!(up
        .target_url("a.txt", &info)
        .unwrap()
        .ends_with("/targets/a.txt"));
    assert_eq!(up.download_target("a.txt", &info).unwrap(), b"A");
}

#[test]
fn root_rotation_1_2_3() {
    let mut env = Env::new();
    env.refresh().unwrap();
    for _ in 0..2 {
        let old = env.repo.rotate_keys("root", 2, 2).unwrap();
        let old: Vec<&SigningKey> = old.iter().collect();
        env.repo.sign_root(&old).unwrap();
    }
    env.publish();
    env.refresh().unwrap();
    assert_eq!(env.version_of("root"), Some(3));
}

#[test]
fn rotation_cap_stops_the_loop() {
    let mut env = Env::new();
    for _ in 0..3 {
        env.repo.sign_root(&[]).unwrap();
    }
    env.publish();
    let config = UpdaterConfig {
        reference_time: Some(reference_time()),
        max_root_rotations: 2,
        ..UpdaterConfig::default()
    };
    let mut up = Updater::new(
        BASE,
        &env.client,
        None,
        DirectoryFetcher::new(BASE, &env.mirror),
        config,
    )
    .unwrap();
    up.refresh().unwrap();
    assert_eq!(up.trusted_root().common.version, 3);
}

#[test]
fn timestamp_key_rotation_allows_fast_forward_recovery() {
    let mut env = Env::new();
    env.refresh().unwrap();
    // Attacker-inflated timestamp version got trusted…
    let mut ts = env.signed_of("timestamp.json");
    ts["version"] = 1000.into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    env.refresh().unwrap();
    assert_eq!(env.version_of("timestamp"), Some(1000));
    // …the repository rotates the timestamp key (§5.3.11) and recovers.
    env.repo.rotate_keys("timestamp", 1, 1).unwrap();
    env.repo.sign_root(&[]).unwrap();
    env.publish();
    env.refresh().unwrap();
    assert_eq!(
        env.version_of("timestamp"),
        Some(env.repo.timestamp.common.version)
    );
}

#[test]
fn delegated_targets() {
    let mut env = Env::new();
    env.repo
        .add_delegation("targets", "team", vec!["team/*".into()], false)
        .unwrap();
    env.repo
        .add_delegation("team", "team/sub role", vec!["team/*.bin".into()], true)
        .unwrap();
    env.repo
        .add_delegation("targets", "other", vec!["*".into()], false)
        .unwrap();
    env.repo
        .add_target_to("team", "team/a.txt", b"from team", None)
        .unwrap();
    env.repo
        .add_target_to("team/sub role", "team/x.bin", b"from sub", None)
        .unwrap();
    env.repo
        .add_target_to("other", "team/y.bin", b"should not be reached", None)
        .unwrap();
    env.repo
        .add_target_to("other", "o.txt", b"other", None)
        .unwrap();
    env.publish();
    let mut up = env.updater();
    up.refresh().unwrap();
    let info = up.get_target_info("team/a.txt").unwrap();
    assert_eq!(
        up.download_target("team/a.txt", &info).unwrap(),
        b"from team"
    );
    let info = up.get_target_info("team/x.bin").unwrap();
    assert_eq!(
        up.download_target("team/x.bin", &info).unwrap(),
        b"from sub"
    );
    // "team/sub role" is terminating for team/*.bin: "other" is never asked.
    assert!(matches!(
        up.get_target_info("team/y.bin"),
        Err(Error::Target {
            source: TargetError::NotFound,
            ..
        })
    ));
    let info = up.get_target_info("o.txt").unwrap();
    assert_eq!(up.download_target("o.txt", &info).unwrap(), b"other");
    // Delegated roles are persisted under their encoded names.
    assert!(env.client.join("team.json").is_file());
    assert!(env.client.join("team%2Fsub%20role.json").is_file());
}

#[test]
fn delegated_role_signed_by_wrong_key_is_refused() {
    let mut env = Env::new();
    env.repo
        .add_delegation("targets", "team", vec!["*".into()], false)
        .unwrap();
    env.repo.add_target_to("team", "a.txt", b"a", None).unwrap();
    env.publish();
    let v = env.repo.targets["team"].common.version;
    let signed = env.signed_of(&format!("{v}.team.json"));
    // Signed by the targets key instead of team's.
    env.write_signed(&format!("{v}.team.json"), "targets", &signed);
    let mut up = env.updater();
    up.refresh().unwrap();
    match up.get_target_info("a.txt") {
        Err(Error::Metadata {
            role,
            source: MetadataError::Threshold(_),
            ..
        }) => assert_eq!(role, "team"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn poisoned_cache_never_blocks_a_good_update() {
    let mut env = Env::new();
    env.refresh().unwrap();
    for role in ["timestamp", "snapshot", "targets"] {
        std::fs::write(env.client.join(format!("{role}.json")), b"{garbage").unwrap();
    }
    env.repo.add_target("a", b"a").unwrap();
    env.publish();
    env.refresh().unwrap();
    assert_eq!(env.version_of("targets"), Some(env.targets_version()));
}

#[test]
fn failed_update_persists_nothing() {
    let mut env = Env::new();
    env.refresh().unwrap();
    let before = env.client_file("timestamp").unwrap();
    env.publish();
    let mut ts = env.signed_of("timestamp.json");
    ts["expires"] = past();
    env.write_signed("timestamp.json", "timestamp", &ts);
    assert!(env.refresh().is_err());
    assert_eq!(env.client_file("timestamp").unwrap(), before);
}

// ---------------------------------------------------------------- expiry (freeze)

#[test]
fn expired_root() {
    let mut env = Env::new();
    let mut root = serde_json::to_value(&env.repo.root).unwrap();
    root["version"] = 2.into();
    root["expires"] = past();
    env.write_signed("2.root.json", "root", &root);
    env.repo.set_now(reference_time());
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "root");
    assert!(matches!(e, MetadataError::Expired { .. }), "{e:?}");
    // The new root was valid and is trusted; only its expiry stops the update.
    assert_eq!(env.version_of("root"), Some(2));
}

#[test]
fn expired_timestamp_freeze_attack() {
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["expires"] = past();
    env.write_signed("timestamp.json", "timestamp", &ts);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "timestamp");
    assert!(matches!(e, MetadataError::Expired { .. }), "{e:?}");
    assert!(env.client_file("timestamp").is_none());
}

#[test]
fn expired_snapshot() {
    let env = Env::new();
    let file = format!("{}.snapshot.json", env.snapshot_version());
    let mut s = env.signed_of(&file);
    s["expires"] = past();
    env.write_signed(&file, "snapshot", &s);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "snapshot");
    assert!(matches!(e, MetadataError::Expired { .. }), "{e:?}");
}

#[test]
fn expired_targets() {
    let env = Env::new();
    let file = format!("{}.targets.json", env.targets_version());
    let mut t = env.signed_of(&file);
    t["expires"] = past();
    env.write_signed(&file, "targets", &t);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "targets");
    assert!(matches!(e, MetadataError::Expired { .. }), "{e:?}");
}

// ---------------------------------------------------------------- rollback

#[test]
fn timestamp_version_rollback() {
    let mut env = Env::new();
    let old = env.repo.signed_bytes("timestamp").unwrap().to_vec();
    env.publish();
    env.refresh().unwrap();
    env.write_raw("timestamp.json", &old);
    let before = cache_bytes(&env.client);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "timestamp");
    assert!(
        matches!(e, MetadataError::VersionRollback { trusted: 2, new: 1 }),
        "{e:?}"
    );
    assert_eq!(cache_bytes(&env.client), before);
}

#[test]
fn snapshot_version_rollback_in_timestamp() {
    let mut env = Env::new();
    env.repo.touch("snapshot");
    env.publish();
    env.refresh().unwrap();
    let mut ts = env.signed_of("timestamp.json");
    ts["version"] = (ts["version"].as_u64().unwrap() + 1).into();
    ts["meta"]["snapshot.json"]["version"] = 1.into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    let before = cache_bytes(&env.client);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(cache_bytes(&env.client), before);
    assert_eq!(role, "timestamp");
    assert!(
        matches!(
            e,
            MetadataError::SnapshotMetaRollback { trusted: 2, new: 1 }
        ),
        "{e:?}"
    );
}

#[test]
fn targets_version_rollback_in_snapshot() {
    let mut env = Env::new();
    env.repo.add_target("a", b"a").unwrap();
    env.publish();
    env.refresh().unwrap();
    let sv = env.snapshot_version();
    let mut s = env.signed_of(&format!("{sv}.snapshot.json"));
    s["version"] = (sv + 1).into();
    s["meta"]["targets.json"]["version"] = 1.into();
    env.write_signed(&format!("{}.snapshot.json", sv + 1), "snapshot", &s);
    let mut ts = env.signed_of("timestamp.json");
    ts["version"] = (ts["version"].as_u64().unwrap() + 1).into();
    ts["meta"]["snapshot.json"]["version"] = (sv + 1).into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    let before_timestamp = env.client_file("timestamp");
    let before_snapshot = env.client_file("snapshot");
    let (role, e) = metadata_err(env.refresh());
    // The new timestamp passed its checks and is trusted (§5.4.5); the
    // refused snapshot is not, and the trusted one stays.
    assert_ne!(env.client_file("timestamp"), before_timestamp);
    assert_eq!(env.client_file("snapshot"), before_snapshot);
    assert_eq!(role, "snapshot");
    assert!(
        matches!(e, MetadataError::TargetsMetaRollback { ref file, trusted: 2, new: 1 } if file == "targets.json"),
        "{e:?}"
    );
}

#[test]
fn targets_file_older_than_snapshot_says() {
    let mut env = Env::new();
    env.repo.add_target("a", b"a").unwrap();
    env.publish();
    // N.targets.json holds an older version than snapshot lists.
    let tv = env.targets_version();
    let old = std::fs::read(env.mirror.join(format!("{}.targets.json", tv - 1))).unwrap();
    env.write_raw(&format!("{tv}.targets.json"), &old);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "targets");
    assert!(
        matches!(e, MetadataError::VersionMismatch { expected, found } if expected == tv && found == tv - 1),
        "{e:?}"
    );
}

// ---------------------------------------------------------------- mix and match

#[test]
fn mix_and_match_snapshot_version() {
    let mut env = Env::new();
    env.repo.touch("snapshot");
    env.publish();
    // timestamp names snapshot v2, but 2.snapshot.json holds v1.
    let sv = env.snapshot_version();
    let old = std::fs::read(env.mirror.join(format!("{}.snapshot.json", sv - 1))).unwrap();
    env.write_raw(&format!("{sv}.snapshot.json"), &old);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "snapshot");
    assert!(matches!(e, MetadataError::VersionMismatch { .. }), "{e:?}");
}

#[test]
fn mix_and_match_snapshot_hash() {
    let env = Env::new();
    let sv = env.snapshot_version();
    let snap = std::fs::read(env.mirror.join(format!("{sv}.snapshot.json"))).unwrap();
    let mut ts = env.signed_of("timestamp.json");
    ts["meta"]["snapshot.json"]["length"] = snap.len().into();
    ts["meta"]["snapshot.json"]["hashes"] =
        serde_json::json!({"sha256": keyless_crypto::sha256_hex(b"something else")});
    env.write_signed("timestamp.json", "timestamp", &ts);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "snapshot");
    assert!(matches!(e, MetadataError::HashMismatch { .. }), "{e:?}");
}

#[test]
fn snapshot_length_from_timestamp_caps_download() {
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["meta"]["snapshot.json"]["length"] = 10.into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    match env.refresh() {
        Err(Error::Fetch {
            what,
            source: FetchError::TooLarge { limit: 10 },
            ..
        }) => assert_eq!(what, "snapshot"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- signatures

#[test]
fn too_few_signatures() {
    let env = Env::with(RepositoryBuilder::new().keys("timestamp", 2, 2));
    let ts = env.signed_of("timestamp.json");
    let one = &env.repo.signers("timestamp")[0];
    env.write_raw("timestamp.json", &sign_value(&ts, &[one]).unwrap());
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "timestamp");
    match e {
        MetadataError::Threshold(t) => {
            assert_eq!((t.threshold, t.valid, t.signatures), (2, 1, 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_signatures_from_one_key_are_refused() {
    let env = Env::with(RepositoryBuilder::new().keys("timestamp", 2, 2));
    let ts = env.signed_of("timestamp.json");
    let one = &env.repo.signers("timestamp")[0];
    env.write_raw("timestamp.json", &sign_value(&ts, &[one, one]).unwrap());
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "timestamp");
    assert!(
        matches!(e, MetadataError::DuplicateSignatureKeyid { .. }),
        "{e:?}"
    );
}

#[test]
fn keyid_collision_counts_once() {
    let mut env = Env::new();
    // Root v2 lists the timestamp key under two key IDs, threshold 2.
    let ts_id = env.repo.root.roles["timestamp"].keyids[0].clone();
    let key = env.repo.root.keys[&ts_id].clone();
    let alias = "f".repeat(64);
    env.repo.root.keys.insert(alias.clone(), key);
    let r = env.repo.root.roles.get_mut("timestamp").unwrap();
    r.keyids.push(alias.clone());
    r.threshold = 2;
    env.repo.sign_root(&[]).unwrap();
    env.publish();
    // One key signs under both IDs.
    let ts = env.signed_of("timestamp.json");
    let mut envl =
        Envelope::from_slice(&sign_value(&ts, &[&env.repo.signers("timestamp")[0]]).unwrap())
            .unwrap();
    let mut dup = envl.signatures[0].clone();
    dup.keyid = alias;
    envl.signatures.push(dup);
    env.write_raw("timestamp.json", &serde_json::to_vec(&envl).unwrap());
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "timestamp");
    match e {
        MetadataError::Threshold(t) => assert_eq!((t.threshold, t.valid, t.signatures), (2, 1, 2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn signature_over_modified_content_fails() {
    let env = Env::new();
    let bytes = std::fs::read(env.mirror.join("timestamp.json")).unwrap();
    let mut envl = Envelope::from_slice(&bytes).unwrap();
    envl.signed["x-extra"] = "added after signing".into();
    env.write_raw("timestamp.json", &serde_json::to_vec(&envl).unwrap());
    let (_, e) = metadata_err(env.refresh());
    assert!(matches!(e, MetadataError::Threshold(_)), "{e:?}");
}

#[test]
fn unknown_fields_are_signed_and_accepted() {
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["x-custom"] = serde_json::json!({"b": 1, "a": [true, null, "é"]});
    env.write_signed("timestamp.json", "timestamp", &ts);
    env.refresh().unwrap();
}

// ---------------------------------------------------------------- root rotation attacks

#[test]
fn rotation_skipping_a_version() {
    let env = Env::new();
    let mut root = serde_json::to_value(&env.repo.root).unwrap();
    root["version"] = 3.into();
    env.write_signed("2.root.json", "root", &root);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "root");
    assert!(
        matches!(
            e,
            MetadataError::VersionMismatch {
                expected: 2,
                found: 3
            }
        ),
        "{e:?}"
    );
}

#[test]
fn rotation_not_signed_by_trusted_root() {
    let mut env = Env::new();
    env.repo.rotate_keys("root", 1, 1).unwrap();
    env.repo.sign_root(&[]).unwrap(); // new keys only
    env.publish();
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "root");
    assert!(
        matches!(e, MetadataError::RotationNotSignedByTrustedRoot(_)),
        "{e:?}"
    );
    assert_eq!(env.version_of("root"), Some(1));
}

#[test]
fn rotation_not_signed_by_new_root() {
    let mut env = Env::new();
    let old = env.repo.rotate_keys("root", 1, 1).unwrap();
    let mut root = serde_json::to_value(&env.repo.root).unwrap();
    root["version"] = 2.into();
    let bytes = sign_value(&root, &old.iter().collect::<Vec<_>>()).unwrap(); // old keys only
    env.write_raw("2.root.json", &bytes);
    let (role, e) = metadata_err(env.refresh());
    assert_eq!(role, "root");
    assert!(
        matches!(e, MetadataError::RotationNotSignedByNewRoot(_)),
        "{e:?}"
    );
    assert_eq!(env.version_of("root"), Some(1));
}

// ---------------------------------------------------------------- targets

fn target_env() -> (Env, PathBuf) {
    let mut env = Env::new();
    env.repo.add_target("artifact.bin", b"0123456789").unwrap();
    env.publish();
    let h = keyless_crypto::sha256_hex(b"0123456789");
    let path = env.mirror.join("targets").join(format!("{h}.artifact.bin"));
    (env, path)
}

fn download(env: &Env, name: &str) -> Result<Vec<u8>, Error> {
    let mut up = env.updater();
    up.refresh()?;
    let info = up.get_target_info(name)?;
    up.download_target(name, &info)
}

#[test]
fn wrong_target_hash() {
    let (env, path) = target_env();
    std::fs::write(&path, b"9876543210").unwrap();
    assert!(matches!(
        download(&env, "artifact.bin"),
        Err(Error::Target {
            source: TargetError::HashMismatch { .. },
            ..
        })
    ));
}

#[test]
fn wrong_target_length() {
    let (env, path) = target_env();
    std::fs::write(&path, b"01234").unwrap();
    assert!(matches!(
        download(&env, "artifact.bin"),
        Err(Error::Target {
            source: TargetError::LengthMismatch {
                expected: 10,
                found: 5
            },
            ..
        })
    ));
}

#[test]
fn endless_target_data() {
    let (env, path) = target_env();
    std::fs::write(&path, vec![b'x'; 1 << 20]).unwrap();
    assert!(matches!(
        download(&env, "artifact.bin"),
        Err(Error::Fetch {
            source: FetchError::TooLarge { limit: 10 },
            ..
        })
    ));
}

#[test]
fn endless_metadata_data() {
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["x-padding"] = "p".repeat(100_000).into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    assert!(matches!(
        env.refresh(),
        Err(Error::Fetch {
            source: FetchError::TooLarge { limit: 16_384 },
            ..
        })
    ));
    // And an endless root.
    let env = Env::new();
    env.write_raw("2.root.json", &vec![b' '; 1_000_000]);
    assert!(matches!(
        env.refresh(),
        Err(Error::Fetch {
            source: FetchError::TooLarge { .. },
            ..
        })
    ));
}

// ---------------------------------------------------------------- production root

fn production_root() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../assets/public-good/root.json");
    std::fs::read(p).unwrap()
}

fn production_updater(
    dir: &Path,
    mirror: &Path,
    at: Option<OffsetDateTime>,
) -> Updater<DirectoryFetcher> {
    let config = UpdaterConfig {
        reference_time: at,
        ..UpdaterConfig::default()
    };
    Updater::bootstrap(
        "https://tuf-repo-cdn.sigstore.dev",
        dir,
        None,
        &production_root(),
        DirectoryFetcher::new("https://tuf-repo-cdn.sigstore.dev", mirror),
        config,
    )
    .unwrap()
}

#[test]
fn production_root_v15_bootstraps_before_expiry() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    // 2026-11-19T00:00:00Z, before v15 expires (2026-11-20T13:58:18Z).
    let at = OffsetDateTime::from_unix_timestamp(1_795_046_400).unwrap();
    let mut up = production_updater(&tmp.path().join("client"), &mirror, Some(at));
    assert_eq!(up.trusted_root().common.version, 15);
    // No 16.root.json on the local mirror: root update ends at v15, the
    // root is valid, and the update stops only at the missing timestamp.
    match up.refresh() {
        Err(Error::Fetch {
            what,
            source: FetchError::NotFound,
            ..
        }) => assert_eq!(what, "timestamp"),
        other => panic!("{other:?}"),
    }
    assert_eq!(up.trusted_root().common.version, 15);
}

#[test]
fn production_root_v15_is_expired_after_2026_11_20() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    let after = OffsetDateTime::from_unix_timestamp(1_795_219_200).unwrap(); // 2026-11-21
    let mut up = production_updater(&tmp.path().join("a"), &mirror, Some(after));
    let (role, e) = metadata_err(up.refresh());
    assert_eq!(role, "root");
    assert!(
        matches!(e, MetadataError::Expired { ref expires, .. } if expires == "2026-11-20T13:58:18Z")
    );
    // At the current time (system clock): expired exactly when the clock is past expiry.
    let mut up = production_updater(&tmp.path().join("b"), &mirror, None);
    let expiry = OffsetDateTime::from_unix_timestamp(1_795_183_098).unwrap();
    let r = up.refresh();
    if OffsetDateTime::now_utc() >= expiry {
        let (role, e) = metadata_err(r);
        assert_eq!(role, "root");
        assert!(matches!(e, MetadataError::Expired { .. }), "{e:?}");
    } else {
        assert!(matches!(r, Err(Error::Fetch { .. })), "{r:?}");
    }
}

#[test]
fn bootstrap_refuses_a_tampered_root() {
    let mut env: Value = serde_json::from_slice(&production_root()).unwrap();
    env["signed"]["consistent_snapshot"] = false.into();
    let bytes = serde_json::to_vec(&env).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let r = Updater::bootstrap(
        "https://x.test",
        tmp.path(),
        None,
        &bytes,
        DirectoryFetcher::new("https://x.test", tmp.path()),
        UpdaterConfig::default(),
    );
    assert!(matches!(
        r,
        Err(Error::Metadata {
            source: MetadataError::Threshold(_),
            ..
        })
    ));
    assert!(!tmp.path().join("root.json").exists());
}

// ---------------------------------------------------------------- duplicate signature key IDs

/// §4.2: key IDs in `signatures` MUST be unique. A file that repeats one is
/// refused even when the threshold (1 here) would be met, for each
/// top-level role, and the client's cache is left untouched.
#[test]
fn duplicate_signature_keyids_are_refused_for_every_role() {
    for role in ["root", "timestamp", "snapshot", "targets"] {
        let mut env = Env::new();
        env.refresh().unwrap();
        if role == "root" {
            env.repo.sign_root(&[]).unwrap();
        }
        env.repo.add_target("a", b"a").unwrap();
        env.publish();
        let file = match role {
            "root" => "2.root.json".to_string(),
            "timestamp" => "timestamp.json".to_string(),
            "snapshot" => format!("{}.snapshot.json", env.snapshot_version()),
            _ => format!("{}.targets.json", env.targets_version()),
        };
        let bytes = std::fs::read(env.mirror.join(&file)).unwrap();
        env.write_raw(&file, &with_duplicate_signature(&bytes));
        let before = cache_bytes(&env.client);
        let r = env.refresh();
        let msg = chain_once(r.as_ref().unwrap_err());
        assert!(
            msg.starts_with(&format!("TUF: {role}.json v"))
                && msg.contains("duplicate signature key ID"),
            "{msg}"
        );
        assert_eq!(r.as_ref().unwrap_err().check(), "duplicate-signature-keyid");
        let (got, e) = metadata_err(r);
        assert_eq!(got, role);
        assert!(
            matches!(e, MetadataError::DuplicateSignatureKeyid { .. }),
            "{role}: {e:?}"
        );
        // The refused file and every role after it are as they were; the
        // roles before it passed their checks and may have been updated.
        let after = cache_bytes(&env.client);
        let order = ["root", "timestamp", "snapshot", "targets"];
        let from = order.iter().position(|r| *r == role).unwrap();
        for r in &order[from..] {
            let f = format!("{r}.json");
            assert_eq!(after.get(&f), before.get(&f), "{role}: {f} changed");
        }
        if role == "root" {
            assert_eq!(after, before, "root: cache changed");
        }
        // The untampered file is accepted: the refusal was the duplicate.
        env.write_raw(&file, &bytes);
        env.refresh().unwrap();
    }
}

/// A trusted root whose signatures repeat a key ID is not bootstrapped.
#[test]
fn bootstrap_refuses_a_root_with_duplicate_signature_keyids() {
    let env = Env::new();
    let root = with_duplicate_signature(env.repo.signed_bytes("root").unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let r = Updater::bootstrap(
        BASE,
        tmp.path(),
        None,
        &root,
        DirectoryFetcher::new(BASE, &env.mirror),
        UpdaterConfig::default(),
    );
    assert!(matches!(
        r,
        Err(Error::Metadata {
            source: MetadataError::DuplicateSignatureKeyid { .. },
            ..
        })
    ));
    assert!(!tmp.path().join("root.json").exists());
}

// ---------------------------------------------------------------- delegation paths

/// A delegated role verified through delegator A (whose key for it signed
/// it) is not trusted as-is when a later search reaches it through
/// delegator B, which names another key: it is verified again, and refused.
#[test]
fn delegated_role_is_verified_again_through_another_delegator() {
    let mut env = Env::new();
    env.repo
        .add_delegation("targets", "A", vec!["a/*".into()], false)
        .unwrap();
    env.repo
        .add_delegation("targets", "B", vec!["b/*".into()], false)
        .unwrap();
    env.repo
        .add_delegation("A", "X", vec!["a/*".into()], false)
        .unwrap();
    env.repo.add_target_to("X", "a/x.txt", b"x", None).unwrap();
    env.repo
        .add_target_to("X", "b/evil.txt", b"evil", None)
        .unwrap();
    // B delegates b/* to "X" too, under a key of B's that never signed X.
    let other = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let tk = tuf_key_for(&other).unwrap();
    let id = key_id(&tk);
    let b = env.repo.targets.get_mut("B").unwrap();
    let d = b.delegations.get_or_insert_with(|| Delegations {
        keys: BTreeMap::new(),
        roles: Some(Vec::new()),
        succinct_roles: None,
        extra: BTreeMap::new(),
    });
    d.keys.insert(id.clone(), tk);
    d.roles.get_or_insert_with(Vec::new).push(DelegatedRole {
        name: "X".into(),
        keyids: vec![id],
        threshold: 1,
        terminating: false,
        paths: Some(vec!["b/*".into()]),
        path_hash_prefixes: None,
        extra: BTreeMap::new(),
    });
    env.repo.touch("B");
    env.publish();

    let refused = |r: Result<keyless_tuf::metadata::TargetFile, Error>| {
        let (role, e) = metadata_err(r.map(|_| ()));
        assert_eq!(role, "X");
        assert!(matches!(e, MetadataError::Threshold(_)), "{e:?}");
    };
    // A client that meets X first through B refuses it…
    let mut up = env.updater();
    up.refresh().unwrap();
    refused(up.get_target_info("b/evil.txt"));
    // …and so does one that loaded and trusted X through A before.
    let mut up = env.updater();
    up.refresh().unwrap();
    assert_eq!(up.get_target_info("a/x.txt").unwrap().length, 1);
    refused(up.get_target_info("b/evil.txt"));
    // Through A, X stays trusted.
    assert_eq!(up.get_target_info("a/x.txt").unwrap().length, 1);
}

// ---------------------------------------------------------------- error messages

/// Each refusal names the file, its version when known, and the check,
/// and printed as a chain says each cause once.
#[test]
fn refusals_name_the_check_and_each_cause_once() {
    // Timestamp rollback.
    let mut env = Env::new();
    let old = env.repo.signed_bytes("timestamp").unwrap().to_vec();
    env.publish();
    env.refresh().unwrap();
    env.write_raw("timestamp.json", &old);
    let e = env.refresh().unwrap_err();
    assert_eq!(
        chain_once(&e),
        "TUF: timestamp.json v1 rejected: version rollback from 2 to 1"
    );
    assert_eq!(e.check(), "rollback");

    // Threshold not met.
    let env = Env::with(RepositoryBuilder::new().keys("timestamp", 2, 2));
    let ts = env.signed_of("timestamp.json");
    let one = &env.repo.signers("timestamp")[0];
    env.write_raw("timestamp.json", &sign_value(&ts, &[one]).unwrap());
    let e = env.refresh().unwrap_err();
    let msg = chain_once(&e);
    assert!(
        msg.starts_with("TUF: timestamp.json v1 rejected: signature threshold not met: 1 of 2 required signatures"),
        "{msg}"
    );
    assert_eq!(e.check(), "threshold");

    // A skipped root version, and an under-signed rotation.
    let env = Env::new();
    let mut root = serde_json::to_value(&env.repo.root).unwrap();
    root["version"] = 3.into();
    env.write_signed("2.root.json", "root", &root);
    let e = env.refresh().unwrap_err();
    assert_eq!(
        chain_once(&e),
        "TUF: root.json v2 rejected: version 3 where version 2 is required"
    );
    let mut env = Env::new();
    env.repo.rotate_keys("root", 1, 1).unwrap();
    env.repo.sign_root(&[]).unwrap();
    env.publish();
    let msg = chain_once(&env.refresh().unwrap_err());
    assert!(
        msg.starts_with("TUF: root.json v2 rejected: new root not signed by the trusted root: 0 of 1 required signatures"),
        "{msg}"
    );

    // Oversized metadata.
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["x-padding"] = "p".repeat(100_000).into();
    env.write_signed("timestamp.json", "timestamp", &ts);
    let e = env.refresh().unwrap_err();
    assert_eq!(
        chain_once(&e),
        format!("TUF: timestamp: could not fetch {BASE}/timestamp.json: more than the limit of 16384 bytes (endless data)")
    );
    assert_eq!(e.check(), "too-large");

    // Target length and hash.
    let (env, path) = target_env();
    std::fs::write(&path, b"01234").unwrap();
    let e = download(&env, "artifact.bin").unwrap_err();
    assert_eq!(
        chain_once(&e),
        "TUF: target \"artifact.bin\" rejected: length 5, expected 10"
    );
    std::fs::write(&path, b"9876543210").unwrap();
    let msg = chain_once(&download(&env, "artifact.bin").unwrap_err());
    assert!(
        msg.starts_with("TUF: target \"artifact.bin\" rejected: sha256 hash "),
        "{msg}"
    );

    // Mix-and-match snapshot hash.
    let env = Env::new();
    let mut ts = env.signed_of("timestamp.json");
    ts["meta"]["snapshot.json"]["hashes"] =
        serde_json::json!({"sha256": keyless_crypto::sha256_hex(b"something else")});
    env.write_signed("timestamp.json", "timestamp", &ts);
    let msg = chain_once(&env.refresh().unwrap_err());
    assert!(
        msg.starts_with("TUF: snapshot.json rejected: sha256 hash "),
        "{msg}"
    );
}
