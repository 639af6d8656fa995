//! Sigstore integration: bootstrap from a root, fetch trusted_root.json and
//! signing_config.v0.2.json into `<cache>/<mirror>/`, refresh when stale,
//! and work offline from the cache with a warning.

mod support;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use keyless_tuf::repo::RepositoryBuilder;
use keyless_tuf::sigstore::{
    Freshness, SigstoreTuf, SigstoreTufOptions, SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET,
};
use keyless_tuf::{DirectoryFetcher, Error, FetchError, Fetcher, UpdaterConfig};
use support::chain_once;
use time::{Duration, OffsetDateTime};

const MIRROR: &str = "https://tuf.example.test/prod";

/// A mirror that can be switched off.
#[derive(Clone)]
struct Switchable {
    inner: Rc<DirectoryFetcher>,
    down: Rc<Cell<bool>>,
}

impl Fetcher for Switchable {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        if self.down.get() {
            return Err(FetchError::transport("connection refused"));
        }
        self.inner.fetch(url, max_len)
    }
}

fn options() -> SigstoreTufOptions {
    SigstoreTufOptions {
        updater: UpdaterConfig {
            reference_time: Some(OffsetDateTime::now_utc()),
            ..UpdaterConfig::default()
        },
        ..SigstoreTufOptions::default()
    }
}

#[test]
fn initialize_refresh_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror_dir = tmp.path().join("mirror");
    let cache = tmp.path().join("home/.sigstore/root");
    let mut repo = RepositoryBuilder::new().build().unwrap();
    repo.add_target(TRUSTED_ROOT_TARGET, b"{\"trust\":1}")
        .unwrap();
    repo.add_target(SIGNING_CONFIG_TARGET, b"{\"sc\":1}")
        .unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror_dir).unwrap();
    let root = repo.signed_bytes("root").unwrap().to_vec();

    let down = Rc::new(Cell::new(false));
    let fetcher = Switchable {
        inner: Rc::new(DirectoryFetcher::new(MIRROR, &mirror_dir)),
        down: down.clone(),
    };
    let mut tuf =
        SigstoreTuf::initialize_with(MIRROR, &root, &cache, fetcher.clone(), options()).unwrap();
    let dir = cache.join("tuf.example.test-prod");
    assert_eq!(tuf.cache_dir(), dir);
    for f in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert_eq!(
        std::fs::read(dir.join("targets/trusted_root.json")).unwrap(),
        b"{\"trust\":1}"
    );
    assert_eq!(tuf.signing_config().unwrap().unwrap(), b"{\"sc\":1}");

    // The repository updates trusted_root.json; a fresh cache is used as is…
    repo.add_target(TRUSTED_ROOT_TARGET, b"{\"trust\":2}")
        .unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror_dir).unwrap();
    let mut tuf = SigstoreTuf::open(MIRROR, &cache, fetcher.clone(), options()).unwrap();
    assert_eq!(tuf.refresh_if_stale().unwrap(), Freshness::Cached);
    assert_eq!(tuf.trusted_root().unwrap(), b"{\"trust\":1}");
    // …an explicit refresh sees the update.
    assert_eq!(tuf.refresh().unwrap(), Freshness::Updated);
    assert_eq!(tuf.trusted_root().unwrap(), b"{\"trust\":2}");

    // Mirror unreachable: the verified cache is used, with a warning.
    down.set(true);
    let mut tuf = SigstoreTuf::open(MIRROR, &cache, fetcher.clone(), options()).unwrap();
    match tuf.refresh().unwrap() {
        Freshness::Offline { warning } => {
            assert!(
                warning.contains("could not reach the TUF mirror"),
                "{warning}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(tuf.trusted_root().unwrap(), b"{\"trust\":2}");

    // Offline but the cache is tampered with: no fallback.
    std::fs::write(dir.join("targets.json"), b"{}").unwrap();
    let mut tuf = SigstoreTuf::open(MIRROR, &cache, fetcher, options()).unwrap();
    match tuf.refresh() {
        Err(Error::Offline { reason, .. }) => {
            assert!(reason.contains("connection refused"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn open_without_initialize_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let r = SigstoreTuf::open(
        MIRROR,
        tmp.path(),
        DirectoryFetcher::new(MIRROR, tmp.path()),
        options(),
    );
    match r {
        Err(Error::Config(msg)) => assert!(msg.contains("keyless initialize")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened without a root"),
    }
}

// ------------------------------------------------ mirror failures (freeze attacks)

/// 2026-01-01T00:00:00Z: the cache is initialized at this time; the
/// repository's timestamp expires a day later, its snapshot a week later,
/// root a year later.
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn options_at(t: OffsetDateTime) -> SigstoreTufOptions {
    SigstoreTufOptions {
        updater: UpdaterConfig {
            reference_time: Some(t),
            ..UpdaterConfig::default()
        },
        ..SigstoreTufOptions::default()
    }
}

/// A mirror that answers URLs ending with a chosen suffix ("" = every URL)
/// with a chosen failure.
#[derive(Clone)]
struct Faulty {
    inner: Rc<DirectoryFetcher>,
    fail: Rc<RefCell<Option<(String, FetchError)>>>,
}

impl Faulty {
    fn fail(&self, suffix: &str, e: FetchError) {
        *self.fail.borrow_mut() = Some((suffix.to_string(), e));
    }
}

impl Fetcher for Faulty {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        if let Some((suffix, e)) = &*self.fail.borrow() {
            if url.ends_with(suffix.as_str()) {
                return Err(e.clone());
            }
        }
        self.inner.fetch(url, max_len)
    }
}

struct Cache {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
    fetcher: Faulty,
}

/// A repository on a local mirror, and a cache initialized from it at t0.
fn initialized() -> Cache {
    let tmp = tempfile::tempdir().unwrap();
    let mirror_dir = tmp.path().join("mirror");
    let root = tmp.path().join("cache");
    let mut repo = RepositoryBuilder::new()
        .now(t0() - Duration::hours(1))
        .build()
        .unwrap();
    repo.add_target(TRUSTED_ROOT_TARGET, b"{\"trust\":1}")
        .unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror_dir).unwrap();
    let fetcher = Faulty {
        inner: Rc::new(DirectoryFetcher::new(MIRROR, &mirror_dir)),
        fail: Rc::new(RefCell::new(None)),
    };
    let root_json = repo.signed_bytes("root").unwrap().to_vec();
    let tuf =
        SigstoreTuf::initialize_with(MIRROR, &root_json, &root, fetcher.clone(), options_at(t0()))
            .unwrap();
    let dir = tuf.cache_dir().to_path_buf();
    Cache {
        _tmp: tmp,
        root,
        dir,
        fetcher,
    }
}

/// SHA-256 of every file under `dir`, by relative path.
fn dir_digests(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, keyless_crypto::sha256_hex(&std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A mirror that answers 503 (to timestamp.json, or to the next root) is a
/// failed update, not an unreachable mirror: refresh fails, whether the
/// cache is still valid or has expired, and no cached file changes.
#[test]
fn http_error_status_is_a_failed_update_never_offline() {
    for (suffix, what) in [("/timestamp.json", "timestamp"), ("/2.root.json", "root")] {
        for at in [t0(), t0() + Duration::days(2)] {
            let c = initialized();
            c.fetcher.fail(suffix, FetchError::HttpStatus(503));
            let before = dir_digests(&c.dir);
            let mut tuf =
                SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(at)).unwrap();
            let e = tuf.refresh().unwrap_err();
            match &e {
                Error::Fetch {
                    what: w,
                    source: FetchError::HttpStatus(503),
                    ..
                } => assert_eq!(w, what),
                other => panic!("{suffix} at {at}: {other:?}"),
            }
            assert!(!e.is_unreachable());
            assert_eq!(e.check(), "http-status");
            let msg = chain_once(&e);
            assert!(
                msg.starts_with(&format!("TUF: {what}: could not fetch {MIRROR}{suffix}: the mirror answered HTTP status 503")),
                "{msg}"
            );
            if at > t0() {
                // Expired cache: refresh_if_stale cannot use it and fails too.
                let mut tuf =
                    SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(at)).unwrap();
                assert!(matches!(
                    tuf.refresh_if_stale(),
                    Err(Error::Fetch {
                        source: FetchError::HttpStatus(503),
                        ..
                    })
                ));
            }
            assert_eq!(
                dir_digests(&c.dir),
                before,
                "{suffix} at {at}: cache changed"
            );
        }
    }
}

/// A mirror that answers 404 for timestamp.json fails the update, even with
/// a valid cache.
#[test]
fn missing_timestamp_is_an_error() {
    let c = initialized();
    c.fetcher.fail("/timestamp.json", FetchError::NotFound);
    let before = dir_digests(&c.dir);
    let mut tuf = SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(t0())).unwrap();
    match tuf.refresh() {
        Err(Error::Fetch {
            what,
            source: FetchError::NotFound,
            ..
        }) => assert_eq!(what, "timestamp"),
        other => panic!("{other:?}"),
    }
    assert_eq!(dir_digests(&c.dir), before);
}

/// Unreachable mirror and an expired cache: an error naming both, never
/// `Freshness::Offline` (TUF §5.4.4: expired metadata is never used).
#[test]
fn unreachable_mirror_with_expired_cache_is_an_error() {
    let c = initialized();
    c.fetcher
        .fail("", FetchError::transport("connection refused"));
    let before = dir_digests(&c.dir);
    for at in [t0() + Duration::days(2), t0() + Duration::days(8)] {
        let mut tuf =
            SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(at)).unwrap();
        let e = tuf.refresh().unwrap_err();
        assert!(matches!(e, Error::Offline { .. }), "{e:?}");
        assert!(
            matches!(
                e.metadata_error(),
                Some(keyless_tuf::MetadataError::Expired { .. })
            ),
            "{e:?}"
        );
        assert_eq!(e.check(), "expired");
        let msg = chain_once(&e);
        assert!(
            msg.starts_with(&format!("TUF: the mirror {MIRROR} could not be reached (TUF: root: could not fetch {MIRROR}/2.root.json: mirror unreachable: connection refused) and the cached metadata cannot be used offline: TUF: timestamp.json v2 rejected: expired at ")),
            "{msg}"
        );
        let mut tuf =
            SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(at)).unwrap();
        assert!(matches!(tuf.refresh_if_stale(), Err(Error::Offline { .. })));
    }
    assert_eq!(dir_digests(&c.dir), before);
}

/// Unreachable mirror and an unexpired cache: offline use, with a warning.
#[test]
fn unreachable_mirror_with_unexpired_cache_is_offline() {
    let c = initialized();
    c.fetcher
        .fail("", FetchError::transport("connection refused"));
    let at = t0() + Duration::hours(12);
    let mut tuf = SigstoreTuf::open(MIRROR, &c.root, c.fetcher.clone(), options_at(at)).unwrap();
    match tuf.refresh().unwrap() {
        Freshness::Offline { warning } => assert!(
            warning.contains("could not reach the TUF mirror")
                && warning.contains("mirror unreachable: connection refused"),
            "{warning}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(tuf.trusted_root().unwrap(), b"{\"trust\":1}");
}

/// Offline, an expired cached targets role is refused by name, even while
/// timestamp and snapshot are still valid.
#[test]
fn unreachable_mirror_with_expired_targets_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror_dir = tmp.path().join("mirror");
    let root = tmp.path().join("cache");
    let mut repo = RepositoryBuilder::new()
        .now(t0() - Duration::hours(1))
        .expiry("targets", Duration::hours(12))
        .build()
        .unwrap();
    repo.add_target(TRUSTED_ROOT_TARGET, b"{}").unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror_dir).unwrap();
    let fetcher = Faulty {
        inner: Rc::new(DirectoryFetcher::new(MIRROR, &mirror_dir)),
        fail: Rc::new(RefCell::new(None)),
    };
    let root_json = repo.signed_bytes("root").unwrap().to_vec();
    SigstoreTuf::initialize_with(MIRROR, &root_json, &root, fetcher.clone(), options_at(t0()))
        .unwrap();
    fetcher.fail("", FetchError::transport("connection refused"));
    // Timestamp (1 day) and snapshot (7 days) valid; targets (12 h) expired.
    let at = t0() + Duration::hours(18);
    let mut tuf = SigstoreTuf::open(MIRROR, &root, fetcher, options_at(at)).unwrap();
    let e = tuf.refresh().unwrap_err();
    assert_eq!(e.check(), "expired");
    let msg = chain_once(&e);
    assert!(
        msg.contains("cannot be used offline: TUF: targets.json v2 rejected: expired at "),
        "{msg}"
    );
}
