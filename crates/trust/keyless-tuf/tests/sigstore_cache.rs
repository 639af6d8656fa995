//! Sigstore integration: bootstrap from a root, fetch trusted_root.json and
//! signing_config.v0.2.json into `<cache>/<mirror>/`, refresh when stale,
//! and work offline from the cache with a warning.

use std::cell::Cell;
use std::rc::Rc;

use keyless_tuf::repo::RepositoryBuilder;
use keyless_tuf::sigstore::{
    Freshness, SigstoreTuf, SigstoreTufOptions, SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET,
};
use keyless_tuf::{DirectoryFetcher, Error, FetchError, Fetcher, UpdaterConfig};
use time::OffsetDateTime;

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
            return Err(FetchError::Transport("connection refused".into()));
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
    assert!(matches!(
        tuf.refresh(),
        Err(Error::Fetch {
            source: FetchError::Transport(_),
            ..
        })
    ));
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
