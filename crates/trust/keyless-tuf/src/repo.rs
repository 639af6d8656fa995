//! A TUF repository writer for private Sigstore deployments.
//!
//! [`RepositoryBuilder`] creates keys and the four top-level roles;
//! [`Repository`] adds targets and delegations, re-signs (bumping versions
//! as the specification's §6 "Usage" expects: a changed targets role gets a
//! new version, which changes snapshot, which changes timestamp), rotates
//! keys, and publishes a static directory a [`crate::Updater`] can read:
//!
//! ```text
//! OUT/1.root.json … N.root.json, root.json
//! OUT/timestamp.json
//! OUT/V.snapshot.json, snapshot.json
//! OUT/V.targets.json, targets.json, V.ROLE.json, ROLE.json (delegated)
//! OUT/targets/[DIR/]HASH.NAME        (consistent snapshots, §5.7.3)
//! ```
//!
//! State (metadata, target files, and private keys stored 0600) can be
//! saved to a directory and reopened, for `keyless tuf init / add-target /
//! sign / publish`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::client::cache::{encode_role_name, write_atomic};
use crate::error::{Error, RepositoryError};
use crate::keys::{key_id, sign_envelope, tuf_key_for};
use crate::metadata::{
    Common, DelegatedRole, Delegations, Envelope, Expires, MetaFile, RoleKeys, Root, Snapshot,
    TargetFile, Targets, Timestamp, SPEC_VERSION,
};

const TOP_LEVEL: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

fn repo_err(s: impl Into<String>) -> Error {
    Error::Repository(RepositoryError::State(s.into()))
}

/// Creates a new repository: keys for each top-level role, version 1 of
/// every role.
#[derive(Debug, Clone)]
pub struct RepositoryBuilder {
    now: OffsetDateTime,
    key_algorithm: KeyAlgorithm,
    consistent_snapshot: bool,
    expiry: BTreeMap<String, Duration>,
    keys: BTreeMap<String, (usize, u64)>,
}

impl Default for RepositoryBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RepositoryBuilder {
    /// Ed25519 keys, one per role with threshold 1, consistent snapshots,
    /// expiry root 365 days, targets 90, snapshot 7, timestamp 1.
    pub fn new() -> Self {
        let expiry = [
            ("root", Duration::days(365)),
            ("targets", Duration::days(90)),
            ("snapshot", Duration::days(7)),
            ("timestamp", Duration::days(1)),
        ]
        .into_iter()
        .map(|(r, d)| (r.to_string(), d))
        .collect();
        Self {
            now: OffsetDateTime::now_utc(),
            key_algorithm: KeyAlgorithm::Ed25519,
            consistent_snapshot: true,
            expiry,
            keys: TOP_LEVEL.iter().map(|r| (r.to_string(), (1, 1))).collect(),
        }
    }

    /// The time expiry periods count from (tests use a fixed time).
    pub fn now(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self
    }

    /// Key algorithm for generated keys (Ed25519, ECDSA P-256 or P-384).
    pub fn key_algorithm(mut self, alg: KeyAlgorithm) -> Self {
        self.key_algorithm = alg;
        self
    }

    pub fn consistent_snapshot(mut self, on: bool) -> Self {
        self.consistent_snapshot = on;
        self
    }

    /// How long metadata of `role` stays valid after each signing.
    pub fn expiry(mut self, role: &str, d: Duration) -> Self {
        self.expiry.insert(role.to_string(), d);
        self
    }

    /// Number of keys to generate for a top-level role and its threshold.
    pub fn keys(mut self, role: &str, count: usize, threshold: u64) -> Self {
        self.keys.insert(role.to_string(), (count, threshold));
        self
    }

    /// Generate keys and sign version 1 of every role.
    pub fn build(self) -> Result<Repository, Error> {
        let mut signers: BTreeMap<String, Vec<SigningKey>> = BTreeMap::new();
        let mut keys = BTreeMap::new();
        let mut roles = BTreeMap::new();
        for role in TOP_LEVEL {
            let (count, threshold) = self.keys.get(role).copied().unwrap_or((1, 1));
            if count == 0 || threshold == 0 || threshold as usize > count {
                return Err(repo_err(format!(
                    "{role}: threshold {threshold} with {count} keys"
                )));
            }
            let mut ids = Vec::new();
            for _ in 0..count {
                let k = SigningKey::generate(self.key_algorithm).map_err(RepositoryError::from)?;
                let tk = tuf_key_for(&k).map_err(|e| Error::Repository(e.into()))?;
                let id = key_id(&tk);
                keys.insert(id.clone(), tk);
                ids.push(id);
                signers.entry(role.to_string()).or_default().push(k);
            }
            roles.insert(role.to_string(), RoleKeys::new(ids, threshold));
        }
        let exp = |role: &str| {
            Expires(self.now + self.expiry.get(role).copied().unwrap_or(Duration::days(1)))
        };
        let common = |role: &str| Common {
            spec_version: SPEC_VERSION.into(),
            version: 1,
            expires: exp(role),
        };
        let root = Root {
            type_: "root".into(),
            common: common("root"),
            consistent_snapshot: self.consistent_snapshot,
            keys,
            roles,
            extra: BTreeMap::new(),
        };
        let targets = Targets::new(1, exp("targets").0);
        let snapshot = Snapshot {
            type_: "snapshot".into(),
            common: common("snapshot"),
            meta: BTreeMap::new(),
            extra: BTreeMap::new(),
        };
        let timestamp = Timestamp {
            type_: "timestamp".into(),
            common: common("timestamp"),
            meta: BTreeMap::new(),
            extra: BTreeMap::new(),
        };
        let mut repo = Repository {
            now: self.now,
            expiry: self.expiry,
            root,
            targets: BTreeMap::from([("targets".to_string(), targets)]),
            snapshot,
            timestamp,
            signers,
            target_data: BTreeMap::new(),
            root_history: Vec::new(),
            signed: BTreeMap::new(),
            dirty: BTreeSet::new(),
            key_algorithm: self.key_algorithm,
        };
        repo.sign_root(&[])?;
        repo.dirty.insert("targets".into());
        repo.sign()?;
        Ok(repo)
    }
}

/// A repository being edited. Metadata fields are public so tests and tools
/// can adjust them before [`Repository::sign`].
pub struct Repository {
    now: OffsetDateTime,
    expiry: BTreeMap<String, Duration>,
    key_algorithm: KeyAlgorithm,
    /// The current root (signed versions are in the root history).
    pub root: Root,
    /// Top-level `targets` and every delegated role, by role name.
    pub targets: BTreeMap<String, Targets>,
    pub snapshot: Snapshot,
    pub timestamp: Timestamp,
    signers: BTreeMap<String, Vec<SigningKey>>,
    target_data: BTreeMap<String, Vec<u8>>,
    root_history: Vec<Vec<u8>>,
    /// Latest signed bytes of each non-root role.
    signed: BTreeMap<String, Vec<u8>>,
    /// Targets roles changed since they were last signed.
    dirty: BTreeSet<String>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("root_version", &self.root.common.version)
            .field("roles", &self.targets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Wrap `signed` in an envelope signed by each of `signers`.
pub fn sign_value(signed: &Value, signers: &[&SigningKey]) -> Result<Vec<u8>, Error> {
    let mut env = Envelope {
        signatures: Vec::new(),
        signed: signed.clone(),
    };
    for s in signers {
        sign_envelope(&mut env, s).map_err(|e| Error::Repository(e.into()))?;
    }
    serde_json::to_vec_pretty(&env).map_err(|e| Error::Repository(e.into()))
}

fn to_value<T: Serialize>(t: &T) -> Result<Value, Error> {
    serde_json::to_value(t).map_err(|e| Error::Repository(e.into()))
}

impl Repository {
    /// Signing keys held for `role` (top-level or delegated).
    pub fn signers(&self, role: &str) -> &[SigningKey] {
        self.signers.get(role).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The time expiry periods count from.
    pub fn set_now(&mut self, now: OffsetDateTime) {
        self.now = now;
    }

    fn expires_for(&self, role: &str) -> Expires {
        let d = self
            .expiry
            .get(role)
            .or_else(|| self.expiry.get("targets"))
            .copied()
            .unwrap_or(Duration::days(1));
        Expires(self.now + d)
    }

    /// Sign `signed` with every key held for `role`.
    pub fn sign_json(&self, role: &str, signed: &Value) -> Result<Vec<u8>, Error> {
        let signers: Vec<&SigningKey> = self.signers(role).iter().collect();
        sign_value(signed, &signers)
    }

    /// Add or replace a target of `targets`.
    pub fn add_target(&mut self, name: &str, data: &[u8]) -> Result<(), Error> {
        self.add_target_to("targets", name, data, None)
    }

    /// Add or replace a target of a targets role, with optional `custom` data.
    pub fn add_target_to(
        &mut self,
        role: &str,
        name: &str,
        data: &[u8],
        custom: Option<Value>,
    ) -> Result<(), Error> {
        if name.is_empty()
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(repo_err(format!("invalid target name {name:?}")));
        }
        let t = self
            .targets
            .get_mut(role)
            .ok_or_else(|| RepositoryError::UnknownRole(role.into()))?;
        let hashes = BTreeMap::from([("sha256".to_string(), keyless_crypto::sha256_hex(data))]);
        t.targets.insert(
            name.to_string(),
            TargetFile {
                length: data.len() as u64,
                hashes,
                custom,
                extra: BTreeMap::new(),
            },
        );
        self.target_data.insert(name.to_string(), data.to_vec());
        self.dirty.insert(role.to_string());
        Ok(())
    }

    /// Remove a target from a role.
    pub fn remove_target(&mut self, role: &str, name: &str) -> Result<bool, Error> {
        let t = self
            .targets
            .get_mut(role)
            .ok_or_else(|| RepositoryError::UnknownRole(role.into()))?;
        let removed = t.targets.remove(name).is_some();
        if removed {
            self.dirty.insert(role.to_string());
        }
        Ok(removed)
    }

    /// The bytes of a target added through this repository.
    pub fn target_data(&self, name: &str) -> Option<&[u8]> {
        self.target_data.get(name).map(Vec::as_slice)
    }

    /// Delegate `paths` from `parent` to a new role `name` with one fresh key.
    pub fn add_delegation(
        &mut self,
        parent: &str,
        name: &str,
        paths: Vec<String>,
        terminating: bool,
    ) -> Result<(), Error> {
        if name.is_empty()
            || name.contains('\\')
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(repo_err(format!("invalid role name {name:?}")));
        }
        if TOP_LEVEL.contains(&name) || self.targets.contains_key(name) {
            return Err(repo_err(format!("role {name:?} already exists")));
        }
        let k = SigningKey::generate(self.key_algorithm).map_err(RepositoryError::from)?;
        let tk = tuf_key_for(&k).map_err(|e| Error::Repository(e.into()))?;
        let id = key_id(&tk);
        let p = self
            .targets
            .get_mut(parent)
            .ok_or_else(|| RepositoryError::UnknownRole(parent.into()))?;
        let d = p.delegations.get_or_insert_with(|| Delegations {
            keys: BTreeMap::new(),
            roles: Some(Vec::new()),
            succinct_roles: None,
            extra: BTreeMap::new(),
        });
        d.keys.insert(id.clone(), tk);
        d.roles.get_or_insert_with(Vec::new).push(DelegatedRole {
            name: name.to_string(),
            keyids: vec![id],
            threshold: 1,
            terminating,
            paths: Some(paths),
            path_hash_prefixes: None,
            extra: BTreeMap::new(),
        });
        self.signers.insert(name.to_string(), vec![k]);
        let exp = self.expires_for(name);
        self.targets
            .insert(name.to_string(), Targets::new(1, exp.0));
        self.dirty.insert(parent.to_string());
        self.dirty.insert(name.to_string());
        Ok(())
    }

    /// Replace the keys of a top-level role with `count` fresh keys and the
    /// given threshold. The root must then be re-signed with
    /// [`Self::sign_root`] (keeping the old root keys as extra signers when
    /// rotating root itself).
    pub fn rotate_keys(
        &mut self,
        role: &str,
        count: usize,
        threshold: u64,
    ) -> Result<Vec<SigningKey>, Error> {
        if !TOP_LEVEL.contains(&role) {
            return Err(RepositoryError::UnknownRole(role.into()).into());
        }
        if count == 0 || threshold == 0 || threshold as usize > count {
            return Err(repo_err(format!("threshold {threshold} with {count} keys")));
        }
        let mut ids = Vec::new();
        let mut new = Vec::new();
        for _ in 0..count {
            let k = SigningKey::generate(self.key_algorithm).map_err(RepositoryError::from)?;
            let tk = tuf_key_for(&k).map_err(|e| Error::Repository(e.into()))?;
            let id = key_id(&tk);
            self.root.keys.insert(id.clone(), tk);
            ids.push(id);
            new.push(k);
        }
        self.root
            .roles
            .insert(role.to_string(), RoleKeys::new(ids, threshold));
        // Drop keys no role uses any more.
        let used: BTreeSet<String> = self
            .root
            .roles
            .values()
            .flat_map(|r| r.keyids.iter().cloned())
            .collect();
        self.root.keys.retain(|id, _| used.contains(id));
        let old = self
            .signers
            .insert(role.to_string(), new)
            .unwrap_or_default();
        if role != "root" {
            self.dirty.insert(role.to_string());
        }
        Ok(old)
    }

    /// Sign the current root as the next version (version 1 the first
    /// time), with the current root keys plus `extra` signers (the previous
    /// root keys after a root key rotation: §5.3.5 requires both).
    pub fn sign_root(&mut self, extra: &[&SigningKey]) -> Result<(), Error> {
        self.root.common.version = self.root_history.len() as u64 + 1;
        self.root.common.expires = self.expires_for("root");
        let value = to_value(&self.root)?;
        let mut signers: Vec<&SigningKey> = self.signers("root").iter().collect();
        signers.extend_from_slice(extra);
        let bytes = sign_value(&value, &signers)?;
        self.root_history.push(bytes);
        Ok(())
    }

    /// Re-sign: every changed targets role gets version+1 (§6.1), then
    /// snapshot (if any role changed) and always a new timestamp.
    pub fn sign(&mut self) -> Result<(), Error> {
        let dirty: Vec<String> = std::mem::take(&mut self.dirty).into_iter().collect();
        let mut snapshot_changed = dirty.iter().any(|r| r == "snapshot");
        // Children before parents does not matter: snapshot lists every role.
        let roles: Vec<String> = dirty
            .iter()
            .filter(|r| self.targets.contains_key(*r))
            .cloned()
            .collect();
        for role in &roles {
            let exp = self.expires_for(role);
            let first = !self.signed.contains_key(role);
            let t = self
                .targets
                .get_mut(role)
                .ok_or_else(|| RepositoryError::UnknownRole(role.clone()))?;
            if !first {
                t.common.version += 1;
            }
            t.common.expires = exp;
            let version = t.common.version;
            let value = to_value(&*t)?;
            let bytes = self.sign_json(role, &value)?;
            self.signed.insert(role.clone(), bytes);
            self.snapshot
                .meta
                .insert(format!("{role}.json"), MetaFile::new(version));
            snapshot_changed = true;
        }
        if snapshot_changed || !self.signed.contains_key("snapshot") {
            if self.signed.contains_key("snapshot") {
                self.snapshot.common.version += 1;
            }
            self.snapshot.common.expires = self.expires_for("snapshot");
            let bytes = self.sign_json("snapshot", &to_value(&self.snapshot)?)?;
            self.signed.insert("snapshot".into(), bytes);
            self.timestamp.meta.insert(
                "snapshot.json".into(),
                MetaFile::new(self.snapshot.common.version),
            );
        }
        if self.signed.contains_key("timestamp") {
            self.timestamp.common.version += 1;
        }
        self.timestamp.common.expires = self.expires_for("timestamp");
        let bytes = self.sign_json("timestamp", &to_value(&self.timestamp)?)?;
        self.signed.insert("timestamp".into(), bytes);
        Ok(())
    }

    /// Mark a role (targets role, or "snapshot") for re-signing.
    pub fn touch(&mut self, role: &str) {
        self.dirty.insert(role.to_string());
    }

    /// The latest signed bytes of a role (for root: the latest version).
    pub fn signed_bytes(&self, role: &str) -> Option<&[u8]> {
        if role == "root" {
            return self.root_history.last().map(Vec::as_slice);
        }
        self.signed.get(role).map(Vec::as_slice)
    }

    /// Signed root version `v` (1-based).
    pub fn root_version_bytes(&self, v: u64) -> Option<&[u8]> {
        let i = usize::try_from(v.checked_sub(1)?).ok()?;
        self.root_history.get(i).map(Vec::as_slice)
    }

    /// Write the repository as a static directory (see the module docs).
    /// Files already in `out` from earlier versions are kept, so older
    /// consistent-snapshot versions stay available.
    pub fn publish(&self, out: &Path) -> Result<(), Error> {
        for (i, bytes) in self.root_history.iter().enumerate() {
            write_atomic(&out.join(format!("{}.root.json", i + 1)), bytes)?;
        }
        if let Some(last) = self.root_history.last() {
            write_atomic(&out.join("root.json"), last)?;
        }
        for (role, bytes) in &self.signed {
            // File names as a static web server maps the client's
            // percent-encoded URLs back: the plain role name (a `/` in it
            // is a directory).
            write_atomic(&out.join(format!("{role}.json")), bytes)?;
            let version = match role.as_str() {
                "timestamp" => continue,
                "snapshot" => self.snapshot.common.version,
                r => match self.targets.get(r) {
                    Some(t) => t.common.version,
                    None => continue,
                },
            };
            write_atomic(&out.join(format!("{version}.{role}.json")), bytes)?;
        }
        for t in self.targets.values() {
            for (name, info) in &t.targets {
                let Some(data) = self.target_data.get(name) else {
                    continue;
                };
                let (dir, file) = match name.rsplit_once('/') {
                    Some((d, f)) => (Some(d), f),
                    None => (None, name.as_str()),
                };
                let mut base = out.join("targets");
                if let Some(d) = dir {
                    base = base.join(d);
                }
                write_atomic(&base.join(file), data)?;
                for h in info.hashes.values() {
                    write_atomic(&base.join(format!("{h}.{file}")), data)?;
                }
            }
        }
        Ok(())
    }

    /// Save metadata, targets and keys under `dir` (keys 0600 in `dir/keys`).
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let state = SavedState {
            root_history: self
                .root_history
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
            root: to_value(&self.root)?,
            targets: self
                .targets
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_value(v)?)))
                .collect::<Result<_, Error>>()?,
            snapshot: to_value(&self.snapshot)?,
            timestamp: to_value(&self.timestamp)?,
            signed: self
                .signed
                .iter()
                .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect(),
            expiry_seconds: self
                .expiry
                .iter()
                .map(|(k, d)| (k.clone(), d.whole_seconds()))
                .collect(),
            target_files: self
                .target_data
                .keys()
                .map(|n| (n.clone(), encode_role_name(n)))
                .collect(),
            dirty: self.dirty.iter().cloned().collect(),
        };
        let json = serde_json::to_vec_pretty(&state).map_err(|e| Error::Repository(e.into()))?;
        write_atomic(&dir.join("state.json"), &json)?;
        for (name, data) in &self.target_data {
            write_atomic(&dir.join("targets").join(encode_role_name(name)), data)?;
        }
        let keys = dir.join("keys");
        for (role, ks) in &self.signers {
            for (i, k) in ks.iter().enumerate() {
                let p = keys.join(format!("{}-{i}.pem", encode_role_name(role)));
                write_secret(&p, k.to_pkcs8_pem().as_bytes())?;
            }
        }
        Ok(())
    }

    /// Reopen a repository saved with [`Self::save`].
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let p = dir.join("state.json");
        let bytes = std::fs::read(&p).map_err(|e| Error::storage(&p, e))?;
        let s: SavedState =
            serde_json::from_slice(&bytes).map_err(|e| Error::Repository(e.into()))?;
        fn from<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, Error> {
            serde_json::from_value(v).map_err(|e| Error::Repository(e.into()))
        }
        let root: Root = from(s.root)?;
        let mut targets = BTreeMap::new();
        for (k, v) in s.targets {
            targets.insert(k, from(v)?);
        }
        let mut target_data = BTreeMap::new();
        for (name, file) in s.target_files {
            let p = dir.join("targets").join(file);
            target_data.insert(name, std::fs::read(&p).map_err(|e| Error::storage(&p, e))?);
        }
        let mut signers: BTreeMap<String, Vec<SigningKey>> = BTreeMap::new();
        let keys_dir = dir.join("keys");
        let roles: Vec<String> = TOP_LEVEL
            .iter()
            .map(|r| r.to_string())
            .chain(targets.keys().filter(|k| k.as_str() != "targets").cloned())
            .collect();
        for role in roles {
            for i in 0.. {
                let p = keys_dir.join(format!("{}-{i}.pem", encode_role_name(&role)));
                let Ok(pem) = std::fs::read_to_string(&p) else {
                    break;
                };
                let k = SigningKey::from_pkcs8_pem(&pem).map_err(RepositoryError::from)?;
                signers.entry(role.clone()).or_default().push(k);
            }
        }
        let key_algorithm = signers
            .get("root")
            .and_then(|v| v.first())
            .map(|k| k.public_key().algorithm())
            .unwrap_or(KeyAlgorithm::Ed25519);
        Ok(Self {
            now: OffsetDateTime::now_utc(),
            expiry: s
                .expiry_seconds
                .into_iter()
                .map(|(k, v)| (k, Duration::seconds(v)))
                .collect(),
            key_algorithm,
            root,
            targets,
            snapshot: from(s.snapshot)?,
            timestamp: from(s.timestamp)?,
            signers,
            target_data,
            root_history: s.root_history.into_iter().map(String::into_bytes).collect(),
            signed: s
                .signed
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect(),
            dirty: s.dirty.into_iter().collect(),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    root_history: Vec<String>,
    root: Value,
    targets: BTreeMap<String, Value>,
    snapshot: Value,
    timestamp: Value,
    signed: BTreeMap<String, String>,
    expiry_seconds: BTreeMap<String, i64>,
    target_files: BTreeMap<String, String>,
    dirty: Vec<String>,
}

/// Write a secret file readable only by its owner.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::storage(parent, e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| Error::storage(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::storage(path, e))?;
    }
    f.write_all(bytes).map_err(|e| Error::storage(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_open_roundtrip_and_key_permissions() {
        let d = tempfile::tempdir().unwrap();
        let mut repo = RepositoryBuilder::new().build().unwrap();
        repo.add_target("trusted_root.json", b"{}").unwrap();
        repo.sign().unwrap();
        repo.save(d.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(d.path().join("keys/root-0.pem")).unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
        }
        let mut again = Repository::open(d.path()).unwrap();
        assert_eq!(again.targets["targets"].common.version, 2);
        again
            .add_target("signing_config.v0.2.json", b"{\"a\":1}")
            .unwrap();
        again.sign().unwrap();
        assert_eq!(again.targets["targets"].common.version, 3);
        assert_eq!(again.snapshot.common.version, 3);
        assert_eq!(again.timestamp.common.version, 3);
        assert_eq!(again.signers("timestamp").len(), 1);
    }
}
