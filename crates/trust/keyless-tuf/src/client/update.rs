//! The TUF client workflow (specification §5 "Detailed client workflow").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use time::OffsetDateTime;

use crate::client::cache::{encode_role_name, encode_target_path, MetadataStore};
use crate::client::delegation;
use crate::error::{Error, FetchError, MetadataError, TargetError};
use crate::fetch::Fetcher;
use crate::keys::verify_threshold;
use crate::metadata::{
    format_time, Envelope, Key, MetaFile, RoleMetadata, Root, Snapshot, TargetFile, Targets,
    Timestamp,
};

/// Limits and options of the updater.
#[derive(Debug, Clone)]
pub struct UpdaterConfig {
    /// Most root versions fetched in one update (§5.3: guards against an
    /// endless stream of valid roots).
    pub max_root_rotations: u32,
    /// Most delegated roles visited while looking for one target (§5.6.7).
    pub max_delegations: u32,
    /// Most bytes accepted for a root file (§5.2 endless data).
    pub root_max_length: u64,
    /// Most bytes accepted for timestamp.json.
    pub timestamp_max_length: u64,
    /// Most bytes for snapshot when the timestamp gives no length.
    pub snapshot_max_length: u64,
    /// Most bytes for a targets role when the snapshot gives no length.
    pub targets_max_length: u64,
    /// Fetch targets as `HASH.name` when the root uses consistent snapshots.
    pub prefix_targets_with_hash: bool,
    /// The time to check expiry against; `None` means the system clock at
    /// the start of each update. Tests set a fixed time here.
    pub reference_time: Option<OffsetDateTime>,
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        Self {
            max_root_rotations: 32,
            max_delegations: 32,
            root_max_length: 512_000,
            timestamp_max_length: 16_384,
            snapshot_max_length: 2_000_000,
            targets_max_length: 5_000_000,
            prefix_targets_with_hash: true,
            reference_time: None,
        }
    }
}

/// Metadata that passed its checks, with the bytes it came from.
#[derive(Debug, Clone)]
struct Trusted<T> {
    signed: T,
    raw: Vec<u8>,
}

/// The keys and threshold a delegator gives a role. A targets role is
/// trusted only under the delegation it was verified with: reached through
/// another delegator (other keys or threshold) it is verified again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Delegation {
    keyids: Vec<String>,
    threshold: u64,
    keys: BTreeMap<String, Key>,
}

impl Delegation {
    /// Only the keys `keyids` names are kept, so two delegations compare
    /// equal exactly when they give the role the same keys and threshold.
    fn new(keyids: &[String], threshold: u64, keys: &BTreeMap<String, Key>) -> Self {
        let keys = keyids
            .iter()
            .filter_map(|id| keys.get(id).map(|k| (id.clone(), k.clone())))
            .collect();
        Self {
            keyids: keyids.to_vec(),
            threshold,
            keys,
        }
    }
}

/// A TUF client for one repository.
///
/// Create it with [`Updater::new`] over a metadata directory that holds a
/// trusted `root.json`, call [`Updater::refresh`], then
/// [`Updater::get_target_info`] and [`Updater::download_target`].
pub struct Updater<F: Fetcher> {
    metadata_url: String,
    targets_url: Option<String>,
    store: MetadataStore,
    fetcher: F,
    config: UpdaterConfig,
    now: OffsetDateTime,
    root: Trusted<Root>,
    timestamp: Option<Trusted<Timestamp>>,
    snapshot: Option<Trusted<Snapshot>>,
    targets: BTreeMap<String, Trusted<Targets>>,
    /// For each role in `targets`, the delegation it was verified under.
    verified_under: BTreeMap<String, Delegation>,
    refreshed: bool,
    /// Set while [`Self::load_offline`] runs: never fetch.
    offline: bool,
}

fn parse_envelope(role: &str, bytes: &[u8]) -> Result<Envelope, Error> {
    Envelope::from_slice(bytes).map_err(|e| Error::metadata(role, e))
}

/// §5.5.2 / §5.6.2: the file must have the length and hashes the trusted
/// metadata lists for it (when it lists them).
fn check_meta_hashes(role: &str, bytes: &[u8], meta: &MetaFile) -> Result<(), Error> {
    if let Some(len) = meta.length {
        if bytes.len() as u64 != len {
            return Err(Error::metadata(
                role,
                MetadataError::LengthMismatch {
                    expected: len,
                    found: bytes.len() as u64,
                },
            ));
        }
    }
    if let Some(hashes) = &meta.hashes {
        for (alg, expected) in hashes {
            let found = hash_hex(alg, bytes).ok_or_else(|| {
                Error::metadata(role, MetadataError::UnsupportedHash(alg.clone()))
            })?;
            if !found.eq_ignore_ascii_case(expected) {
                return Err(Error::metadata(
                    role,
                    MetadataError::HashMismatch {
                        algorithm: alg.clone(),
                        expected: expected.clone(),
                        found,
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Hex digest for a TUF hash algorithm name.
pub(crate) fn hash_hex(alg: &str, bytes: &[u8]) -> Option<String> {
    use keyless_crypto::HashAlgorithm as H;
    let h = match alg {
        "sha256" => H::Sha256,
        "sha384" => H::Sha384,
        "sha512" => H::Sha512,
        _ => return None,
    };
    Some(hex::encode(h.digest(bytes)))
}

/// §5.7.3: a downloaded target must match the length and every hash of its
/// trusted target file entry.
pub fn verify_target(bytes: &[u8], info: &TargetFile) -> Result<(), TargetError> {
    if bytes.len() as u64 != info.length {
        return Err(TargetError::LengthMismatch {
            expected: info.length,
            found: bytes.len() as u64,
        });
    }
    if info.hashes.is_empty() {
        return Err(TargetError::UnsupportedHash(String::new()));
    }
    for (alg, expected) in &info.hashes {
        let found =
            hash_hex(alg, bytes).ok_or_else(|| TargetError::UnsupportedHash(alg.clone()))?;
        if !found.eq_ignore_ascii_case(expected) {
            return Err(TargetError::HashMismatch {
                algorithm: alg.clone(),
                expected: expected.clone(),
                found,
            });
        }
    }
    Ok(())
}

impl<F: Fetcher> Updater<F> {
    /// §5.2 "Load the trusted root metadata file": read `root.json` from
    /// `metadata_dir` and check that it is signed by a threshold of its own
    /// root keys. Its expiry is not checked here (§5.3.10 checks the final root).
    ///
    /// `metadata_url` is the base URL of the metadata (`…/1.root.json` lives
    /// under it); `targets_url` the base URL of targets, if any will be downloaded.
    pub fn new(
        metadata_url: &str,
        metadata_dir: impl AsRef<Path>,
        targets_url: Option<&str>,
        fetcher: F,
        config: UpdaterConfig,
    ) -> Result<Self, Error> {
        let store = MetadataStore::new(metadata_dir.as_ref())?;
        let path = store.path("root");
        let raw = std::fs::read(&path).map_err(|e| Error::storage(&path, e))?;
        let root = Self::verify_self_signed_root(&raw)?;
        let now = config
            .reference_time
            .unwrap_or_else(OffsetDateTime::now_utc);
        Ok(Self {
            metadata_url: metadata_url.trim_end_matches('/').to_string(),
            targets_url: targets_url.map(|u| u.trim_end_matches('/').to_string()),
            store,
            fetcher,
            config,
            now,
            root: Trusted { signed: root, raw },
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
            verified_under: BTreeMap::new(),
            refreshed: false,
            offline: false,
        })
    }

    /// Write `root_json` as the trusted root of `metadata_dir` after
    /// checking that it is a root signed by a threshold of its own keys,
    /// then open an updater on it (bootstrap, "trust on first use" of a root
    /// obtained out of band).
    pub fn bootstrap(
        metadata_url: &str,
        metadata_dir: impl AsRef<Path>,
        targets_url: Option<&str>,
        root_json: &[u8],
        fetcher: F,
        config: UpdaterConfig,
    ) -> Result<Self, Error> {
        Self::verify_self_signed_root(root_json)?;
        let store = MetadataStore::new(metadata_dir.as_ref())?;
        store.write("root", root_json)?;
        Self::new(metadata_url, metadata_dir, targets_url, fetcher, config)
    }

    /// A root signed by a threshold of its own root keys.
    pub fn verify_self_signed_root(raw: &[u8]) -> Result<Root, Error> {
        let env = parse_envelope("root", raw)?;
        let root: Root = env.parse_signed().map_err(|e| Error::metadata("root", e))?;
        let r = root.role("root").ok_or_else(|| {
            Error::metadata("root", MetadataError::Malformed("no root role".into()))
        })?;
        verify_threshold("root", &env, &r.keyids, r.threshold, &root.keys)
            .map_err(|e| Error::metadata("root", e))?;
        Ok(root)
    }

    /// The reference time used for expiry checks.
    pub fn reference_time(&self) -> OffsetDateTime {
        self.now
    }

    /// The trusted root.
    pub fn trusted_root(&self) -> &Root {
        &self.root.signed
    }

    /// The trusted timestamp, once loaded.
    pub fn trusted_timestamp(&self) -> Option<&Timestamp> {
        self.timestamp.as_ref().map(|t| &t.signed)
    }

    /// The trusted snapshot, once loaded.
    pub fn trusted_snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref().map(|t| &t.signed)
    }

    /// A trusted targets role (top-level `targets` or delegated), once loaded.
    pub fn trusted_targets(&self, role: &str) -> Option<&Targets> {
        self.targets.get(role).map(|t| &t.signed)
    }

    /// The raw bytes of trusted metadata for a role, as persisted.
    pub fn trusted_bytes(&self, role: &str) -> Option<&[u8]> {
        match role {
            "root" => Some(&self.root.raw),
            "timestamp" => self.timestamp.as_ref().map(|t| t.raw.as_slice()),
            "snapshot" => self.snapshot.as_ref().map(|t| t.raw.as_slice()),
            other => self.targets.get(other).map(|t| t.raw.as_slice()),
        }
    }

    fn expired(
        &self,
        role: &str,
        version: u64,
        expires: crate::metadata::Expires,
    ) -> Result<(), Error> {
        if expires.is_expired(self.now) {
            return Err(Error::metadata_at(
                role,
                version,
                MetadataError::Expired {
                    expires: expires.to_string(),
                    reference_time: format_time(self.now),
                },
            ));
        }
        Ok(())
    }

    fn fetch(&self, what: &str, url: String, max_len: u64) -> Result<Vec<u8>, Error> {
        self.fetcher
            .fetch(&url, max_len)
            .map_err(|source| Error::Fetch {
                what: what.to_string(),
                url,
                source,
            })
    }

    /// Run §5.3–§5.6.6: update root, timestamp, snapshot and top-level
    /// targets. Delegated roles are loaded on demand by [`Self::get_target_info`].
    pub fn refresh(&mut self) -> Result<(), Error> {
        // Until this update completes, nothing counts as refreshed.
        self.refreshed = false;
        self.now = self
            .config
            .reference_time
            .unwrap_or_else(OffsetDateTime::now_utc);
        self.update_root()?;
        self.update_timestamp()?;
        self.update_snapshot()?;
        let d = self.top_level_delegation("targets")?;
        self.load_targets("targets", &d)?;
        self.refreshed = true;
        Ok(())
    }

    /// §5.3 "Update the root metadata file".
    fn update_root(&mut self) -> Result<(), Error> {
        let start = self.root.signed.clone();
        for _ in 0..self.config.max_root_rotations {
            // §5.3.2: fetch N+1.root.json; a missing file ends the loop (§5.3.3).
            let next = self
                .root
                .signed
                .common
                .version
                .checked_add(1)
                .ok_or_else(|| {
                    Error::metadata("root", MetadataError::Malformed("version overflow".into()))
                })?;
            let url = format!("{}/{next}.root.json", self.metadata_url);
            let raw = match self.fetch("root", url, self.config.root_max_length) {
                Ok(raw) => raw,
                Err(Error::Fetch {
                    source: FetchError::NotFound,
                    ..
                }) => break,
                Err(e) => return Err(e),
            };
            let env =
                Envelope::from_slice(&raw).map_err(|e| Error::metadata_at("root", next, e))?;
            let new: Root = env
                .parse_signed()
                .map_err(|e| Error::metadata_at("root", next, e))?;
            // §5.3.5: signed by a threshold of the trusted root's root keys…
            let old = &self.root.signed;
            let old_role = old.role("root").ok_or_else(|| {
                Error::metadata("root", MetadataError::Malformed("no root role".into()))
            })?;
            verify_threshold(
                "root",
                &env,
                &old_role.keyids,
                old_role.threshold,
                &old.keys,
            )
            .map_err(|e| {
                Error::metadata_at(
                    "root",
                    next,
                    match e {
                        MetadataError::Threshold(t) => {
                            MetadataError::RotationNotSignedByTrustedRoot(t)
                        }
                        other => other,
                    },
                )
            })?;
            // §5.3.6: … with exactly the version N+1 (no skipping, no rollback).
            if new.common.version != next {
                return Err(Error::metadata_at(
                    "root",
                    next,
                    MetadataError::VersionMismatch {
                        expected: next,
                        found: new.common.version,
                    },
                ));
            }
            // §5.3.5: … and by a threshold of its own root keys.
            let new_role = new.role("root").ok_or_else(|| {
                Error::metadata("root", MetadataError::Malformed("no root role".into()))
            })?;
            verify_threshold(
                "root",
                &env,
                &new_role.keyids,
                new_role.threshold,
                &new.keys,
            )
            .map_err(|e| {
                Error::metadata_at(
                    "root",
                    next,
                    match e {
                        MetadataError::Threshold(t) => MetadataError::RotationNotSignedByNewRoot(t),
                        other => other,
                    },
                )
            })?;
            // §5.3.8: persist the new trusted root (verify-then-persist).
            self.store.write("root", &raw)?;
            self.root = Trusted { signed: new, raw };
        }
        // §5.3.10: the final root must not be expired (freeze attack).
        self.expired(
            "root",
            self.root.signed.common.version,
            self.root.signed.common.expires,
        )?;
        // §5.3.11: if the timestamp and/or snapshot keys were rotated, delete
        // the trusted timestamp and snapshot metadata (fast-forward recovery).
        let rotated = |role: &str| start.role(role) != self.root.signed.role(role);
        if rotated("timestamp") || rotated("snapshot") {
            self.store.remove("timestamp")?;
            self.store.remove("snapshot")?;
            self.timestamp = None;
            self.snapshot = None;
        }
        Ok(())
    }

    /// Parse and signature-check a top-level role against the trusted root.
    fn verify_top_level<T: RoleMetadata>(&self, role: &str, raw: &[u8]) -> Result<T, Error> {
        let env = parse_envelope(role, raw)?;
        let signed: T = env.parse_signed().map_err(|e| Error::metadata(role, e))?;
        let keys = self.root.signed.role(role).ok_or_else(|| {
            Error::metadata(
                role,
                MetadataError::Malformed(format!("root has no {role} role")),
            )
        })?;
        verify_threshold(
            role,
            &env,
            &keys.keyids,
            keys.threshold,
            &self.root.signed.keys,
        )
        .map_err(|e| Error::metadata_at(role, signed.common().version, e))?;
        Ok(signed)
    }

    /// §5.4 "Update the timestamp role".
    fn update_timestamp(&mut self) -> Result<(), Error> {
        // The cached timestamp, if its signatures still verify, is the
        // baseline for rollback checks even when expired. One that does not
        // verify is ignored (never blocks an update).
        if self.timestamp.is_none() {
            if let Some(raw) = self.store.read("timestamp") {
                if let Ok(ts) = self.verify_top_level::<Timestamp>("timestamp", &raw) {
                    self.timestamp = Some(Trusted { signed: ts, raw });
                }
            }
        }
        // §5.4.1: download timestamp.json, never versioned, length-capped.
        let url = format!("{}/timestamp.json", self.metadata_url);
        let raw = self.fetch("timestamp", url, self.config.timestamp_max_length)?;
        // §5.4.2: signed by a threshold of the root's timestamp keys.
        let new: Timestamp = self.verify_top_level("timestamp", &raw)?;
        let new_snap = new
            .snapshot_meta()
            .map_err(|e| Error::metadata("timestamp", e))?
            .version;
        let mut replace = true;
        if let Some(old) = &self.timestamp {
            let (old_v, new_v) = (old.signed.common.version, new.common.version);
            // §5.4.3.1: no rollback of the timestamp version.
            if new_v < old_v {
                return Err(Error::metadata_at(
                    "timestamp",
                    new_v,
                    MetadataError::VersionRollback {
                        trusted: old_v,
                        new: new_v,
                    },
                ));
            }
            if new_v == old_v {
                // Same version: keep the trusted one, nothing new.
                replace = false;
            } else {
                // §5.4.3.2: no rollback of the snapshot version it lists.
                let old_snap = old
                    .signed
                    .snapshot_meta()
                    .map_err(|e| Error::metadata("timestamp", e))?
                    .version;
                if new_snap < old_snap {
                    return Err(Error::metadata_at(
                        "timestamp",
                        new_v,
                        MetadataError::SnapshotMetaRollback {
                            trusted: old_snap,
                            new: new_snap,
                        },
                    ));
                }
            }
        }
        if replace {
            // §5.4.4: not expired (freeze attack), then persist (§5.4.5).
            self.expired("timestamp", new.common.version, new.common.expires)?;
            self.store.write("timestamp", &raw)?;
            self.timestamp = Some(Trusted { signed: new, raw });
        } else if let Some(old) = &self.timestamp {
            self.expired(
                "timestamp",
                old.signed.common.version,
                old.signed.common.expires,
            )?;
        }
        Ok(())
    }

    /// §5.5 "Update the snapshot role".
    fn update_snapshot(&mut self) -> Result<(), Error> {
        let meta = self
            .timestamp
            .as_ref()
            .ok_or_else(|| Error::Config("timestamp must be loaded before snapshot".into()))?
            .signed
            .snapshot_meta()
            .map_err(|e| Error::metadata("timestamp", e))?
            .clone();
        // A cached snapshot that verifies is the rollback baseline; if it is
        // also the version the timestamp names and unexpired, it is current.
        if self.snapshot.is_none() {
            if let Some(raw) = self.store.read("snapshot") {
                if let Ok(s) = self.verify_top_level::<Snapshot>("snapshot", &raw) {
                    self.snapshot = Some(Trusted { signed: s, raw });
                }
            }
        }
        if let Some(s) = &self.snapshot {
            if s.signed.common.version == meta.version
                && !s.signed.common.expires.is_expired(self.now)
            {
                return Ok(());
            }
        }
        // §5.5.1: download VERSION.snapshot.json (consistent snapshots) or
        // snapshot.json, capped at the length the timestamp gives.
        let name = if self.root.signed.consistent_snapshot {
            format!("{}.snapshot.json", meta.version)
        } else {
            "snapshot.json".to_string()
        };
        let url = format!("{}/{name}", self.metadata_url);
        let max = meta.length.unwrap_or(self.config.snapshot_max_length);
        let raw = self.fetch("snapshot", url, max)?;
        // §5.5.2: hashes and length from the timestamp.
        check_meta_hashes("snapshot", &raw, &meta)?;
        // §5.5.3: signed by a threshold of the root's snapshot keys.
        let new: Snapshot = self.verify_top_level("snapshot", &raw)?;
        // §5.5.5: no targets role removed or rolled back versus the trusted snapshot.
        if let Some(old) = &self.snapshot {
            for (file, old_meta) in &old.signed.meta {
                let new_meta = new.meta.get(file).ok_or_else(|| {
                    Error::metadata_at(
                        "snapshot",
                        new.common.version,
                        MetadataError::TargetsMetaRemoved { file: file.clone() },
                    )
                })?;
                if new_meta.version < old_meta.version {
                    return Err(Error::metadata_at(
                        "snapshot",
                        new.common.version,
                        MetadataError::TargetsMetaRollback {
                            file: file.clone(),
                            trusted: old_meta.version,
                            new: new_meta.version,
                        },
                    ));
                }
            }
        }
        // §5.5.4: the version the timestamp names.
        if new.common.version != meta.version {
            return Err(Error::metadata_at(
                "snapshot",
                new.common.version,
                MetadataError::VersionMismatch {
                    expected: meta.version,
                    found: new.common.version,
                },
            ));
        }
        // §5.5.6: not expired.
        self.expired("snapshot", new.common.version, new.common.expires)?;
        // §5.5.7: persist.
        self.store.write("snapshot", &raw)?;
        self.snapshot = Some(Trusted { signed: new, raw });
        // Targets roles listed by an older snapshot must be reloaded.
        self.targets.clear();
        self.verified_under.clear();
        Ok(())
    }

    /// The root's delegation of a top-level role.
    fn top_level_delegation(&self, role: &str) -> Result<Delegation, Error> {
        let r = self.root.signed.role(role).ok_or_else(|| {
            Error::metadata(
                role,
                MetadataError::Malformed(format!("root has no {role} role")),
            )
        })?;
        Ok(Delegation::new(
            &r.keyids,
            r.threshold,
            &self.root.signed.keys,
        ))
    }

    /// §5.6 "Update the targets role" (also for delegated roles, §5.6.7.2):
    /// version, hashes and length from the snapshot; threshold of the
    /// delegator's keys; version match; expiry; persist.
    ///
    /// A role already in memory is reused only if it was verified under
    /// the same delegation `d`; reached through a delegator with other keys
    /// or another threshold, its signatures are checked again against `d`
    /// (a role trusted via delegator A is not thereby trusted via B).
    fn load_targets(&mut self, role: &str, d: &Delegation) -> Result<(), Error> {
        if let Some(t) = self.targets.get(role) {
            if self.verified_under.get(role) == Some(d) {
                return Ok(());
            }
            let env = parse_envelope(role, &t.raw)?;
            verify_threshold(role, &env, &d.keyids, d.threshold, &d.keys)
                .map_err(|e| Error::metadata_at(role, t.signed.common.version, e))?;
            return Ok(());
        }
        let snapshot = self
            .snapshot
            .as_ref()
            .ok_or_else(|| Error::Config("snapshot must be loaded before targets".into()))?;
        let file = format!("{role}.json");
        let meta = snapshot
            .signed
            .meta
            .get(&file)
            .ok_or_else(|| {
                Error::metadata(
                    role,
                    MetadataError::MetaMissing {
                        file: file.clone(),
                        listed_in: "snapshot".into(),
                    },
                )
            })?
            .clone();
        let verify = |raw: &[u8]| -> Result<Targets, Error> {
            let env = parse_envelope(role, raw)?;
            let t: Targets = env.parse_signed().map_err(|e| Error::metadata(role, e))?;
            verify_threshold(role, &env, &d.keyids, d.threshold, &d.keys)
                .map_err(|e| Error::metadata_at(role, t.common.version, e))?;
            Ok(t)
        };
        // A cached copy is used only if it verifies, is the current version
        // and is unexpired. Online, any other cached copy is ignored and the
        // role downloaded; offline, the reason it cannot be used is the error.
        let cached = self.store.read(role).map(|raw| {
            let t = verify(&raw)?;
            if t.common.version != meta.version {
                return Err(Error::metadata_at(
                    role,
                    t.common.version,
                    MetadataError::VersionMismatch {
                        expected: meta.version,
                        found: t.common.version,
                    },
                ));
            }
            self.expired(role, t.common.version, t.common.expires)?;
            Ok(Trusted { signed: t, raw })
        });
        match cached {
            Some(Ok(t)) => {
                self.targets.insert(role.to_string(), t);
                self.verified_under.insert(role.to_string(), d.clone());
                return Ok(());
            }
            Some(Err(e)) if self.offline => return Err(e),
            None if self.offline => {
                return Err(Error::Config(format!(
                    "no cached {role} metadata to use offline"
                )))
            }
            _ => {}
        }
        // §5.6.1: download VERSION.ROLE.json or ROLE.json.
        let enc = encode_role_name(role);
        let name = if self.root.signed.consistent_snapshot {
            format!("{}.{enc}.json", meta.version)
        } else {
            format!("{enc}.json")
        };
        let url = format!("{}/{name}", self.metadata_url);
        let max = meta.length.unwrap_or(self.config.targets_max_length);
        let raw = self.fetch(role, url, max)?;
        // §5.6.2: hashes and length from the snapshot.
        check_meta_hashes(role, &raw, &meta)?;
        // §5.6.3: threshold of the delegator's keys for this role.
        let new = verify(&raw)?;
        // §5.6.4: the version the snapshot names.
        if new.common.version != meta.version {
            return Err(Error::metadata_at(
                role,
                new.common.version,
                MetadataError::VersionMismatch {
                    expected: meta.version,
                    found: new.common.version,
                },
            ));
        }
        // §5.6.5: not expired.
        self.expired(role, new.common.version, new.common.expires)?;
        // §5.6.6: persist.
        self.store.write(role, &raw)?;
        self.targets
            .insert(role.to_string(), Trusted { signed: new, raw });
        self.verified_under.insert(role.to_string(), d.clone());
        Ok(())
    }

    /// Offline use of the cache, for when the mirror cannot be reached:
    /// load timestamp, snapshot and top-level targets from the metadata
    /// directory with every signature, threshold and version-consistency
    /// check of §5.4–§5.6, and never touch the network.
    ///
    /// Expired metadata is never used, offline or not (§5.3.10, §5.4.4,
    /// §5.5.6, §5.6.4: the client must not use expired root, timestamp,
    /// snapshot or targets): an expired cached file is an error here, so
    /// that a mirror that stops answering cannot freeze the client on old
    /// metadata. An unexpired cache is usable; the caller must still tell
    /// the user that it was not updated.
    ///
    /// Returns warnings for the user; today always empty (kept for callers
    /// that print them).
    pub fn load_offline(&mut self) -> Result<Vec<String>, Error> {
        self.now = self
            .config
            .reference_time
            .unwrap_or_else(OffsetDateTime::now_utc);
        self.offline = true;
        let result = self.load_cached();
        self.offline = false;
        if result.is_err() {
            // Nothing half-loaded stays trusted in memory.
            self.timestamp = None;
            self.snapshot = None;
            self.targets.clear();
            self.verified_under.clear();
            self.refreshed = false;
        }
        result.map(|()| Vec::new())
    }

    fn load_cached(&mut self) -> Result<(), Error> {
        self.expired(
            "root",
            self.root.signed.common.version,
            self.root.signed.common.expires,
        )?;
        let missing =
            |role: &str| Error::Config(format!("no cached {role} metadata to use offline"));
        let raw = self
            .store
            .read("timestamp")
            .ok_or_else(|| missing("timestamp"))?;
        let ts: Timestamp = self.verify_top_level("timestamp", &raw)?;
        self.expired("timestamp", ts.common.version, ts.common.expires)?;
        let meta = ts
            .snapshot_meta()
            .map_err(|e| Error::metadata("timestamp", e))?
            .clone();
        self.timestamp = Some(Trusted { signed: ts, raw });
        let raw = self
            .store
            .read("snapshot")
            .ok_or_else(|| missing("snapshot"))?;
        check_meta_hashes("snapshot", &raw, &meta)?;
        let snap: Snapshot = self.verify_top_level("snapshot", &raw)?;
        if snap.common.version != meta.version {
            return Err(Error::metadata_at(
                "snapshot",
                snap.common.version,
                MetadataError::VersionMismatch {
                    expected: meta.version,
                    found: snap.common.version,
                },
            ));
        }
        self.expired("snapshot", snap.common.version, snap.common.expires)?;
        self.snapshot = Some(Trusted { signed: snap, raw });
        self.targets.clear();
        self.verified_under.clear();
        let d = self.top_level_delegation("targets")?;
        // With `offline` set, load_targets uses the cache only if it is the
        // version the snapshot names, verifies and is unexpired.
        self.load_targets("targets", &d)?;
        self.refreshed = true;
        Ok(())
    }

    /// The delegation `parent` gives `child`, from `parent`'s trusted metadata.
    fn delegation_from(&self, parent: &str, child: &str) -> Result<Delegation, Error> {
        let t = self
            .targets
            .get(parent)
            .ok_or_else(|| Error::metadata(child, MetadataError::UnknownRole(child.into())))?;
        let d = t
            .signed
            .delegations
            .as_ref()
            .ok_or_else(|| Error::metadata(child, MetadataError::UnknownRole(child.into())))?;
        if let Some(roles) = &d.roles {
            if let Some(r) = roles.iter().find(|r| r.name == child) {
                return Ok(Delegation::new(&r.keyids, r.threshold, &d.keys));
            }
        }
        if let Some(s) = &d.succinct_roles {
            if delegation::is_succinct_role(s, child) {
                return Ok(Delegation::new(&s.keyids, s.threshold, &d.keys));
            }
        }
        Err(Error::metadata(
            child,
            MetadataError::UnknownRole(child.into()),
        ))
    }

    /// §5.6.7 "Perform a pre-order depth-first search for metadata about the
    /// desired target": visit `targets`, then the roles it delegates the path
    /// to, in order, stopping after a terminating delegation, never visiting a
    /// role twice and at most `max_delegations` roles.
    ///
    /// Refreshes first if [`Self::refresh`] has not run.
    pub fn get_target_info(&mut self, target: &str) -> Result<TargetFile, Error> {
        if !self.refreshed {
            self.refresh()?;
        }
        let mut stack: Vec<(String, Option<String>)> = vec![("targets".into(), None)];
        let mut visited: BTreeSet<String> = BTreeSet::new();
        while let Some((role, parent)) = stack.pop() {
            if visited.len() as u32 >= self.config.max_delegations {
                break;
            }
            if !visited.insert(role.clone()) {
                continue;
            }
            let d = match &parent {
                None => self.top_level_delegation("targets")?,
                Some(p) => self.delegation_from(p, &role)?,
            };
            self.load_targets(&role, &d)?;
            let Some(t) = self.targets.get(&role) else {
                continue;
            };
            if let Some(info) = t.signed.targets.get(target) {
                return Ok(info.clone());
            }
            let Some(dels) = &t.signed.delegations else {
                continue;
            };
            let mut children = Vec::new();
            if let Some(roles) = &dels.roles {
                for child in roles {
                    if delegation::is_delegated_path(child, target) {
                        children.push((child.name.clone(), Some(role.clone())));
                        if child.terminating {
                            // §5.6.7.2.1: a terminating delegation ends the search
                            // after this subtree.
                            stack.clear();
                            break;
                        }
                    }
                }
            }
            if let Some(s) = &dels.succinct_roles {
                children.push((delegation::succinct_role_for(s, target), Some(role.clone())));
            }
            children.reverse();
            stack.extend(children);
        }
        Err(Error::Target {
            name: target.to_string(),
            source: TargetError::NotFound,
        })
    }

    /// The URL a target is fetched from (§5.7.3): with consistent
    /// snapshots, `DIR/HASH.NAME` using the target's SHA-256 (or first) hash.
    pub fn target_url(&self, target: &str, info: &TargetFile) -> Result<String, Error> {
        let base = self
            .targets_url
            .as_deref()
            .ok_or_else(|| Error::Config("no targets base URL configured".into()))?;
        let path = if self.root.signed.consistent_snapshot && self.config.prefix_targets_with_hash {
            let hash = info
                .hashes
                .get("sha256")
                .or_else(|| info.hashes.values().next())
                .ok_or_else(|| Error::Target {
                    name: target.into(),
                    source: TargetError::UnsupportedHash(String::new()),
                })?;
            match target.rsplit_once('/') {
                Some((dir, file)) => format!("{dir}/{hash}.{file}"),
                None => format!("{hash}.{target}"),
            }
        } else {
            target.to_string()
        };
        Ok(format!("{base}/{}", encode_target_path(&path)))
    }

    /// §5.7.3: download a target, reading at most its listed length, and
    /// check its length and hashes.
    pub fn download_target(&self, target: &str, info: &TargetFile) -> Result<Vec<u8>, Error> {
        let url = self.target_url(target, info)?;
        let bytes = self.fetch(target, url, info.length)?;
        verify_target(&bytes, info).map_err(|source| Error::Target {
            name: target.to_string(),
            source,
        })?;
        Ok(bytes)
    }
}
