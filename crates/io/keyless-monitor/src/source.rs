//! Where a monitoring pass reads a run of entries from: a Rekor log's
//! tlog-tiles entry bundles, its Rekor v1 API ([`crate::v1`]), or a CT
//! log's data tiles ([`crate::ct`]). Each run is the rest of one tile
//! (at most 256 entries), scanned into leaf hashes and matches.

use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{Hash, TileId, TileKind};

use crate::ct::{CtError, CtHit, CtLayout};
use crate::fetch::{FetchError, Fetcher, MAX_BUNDLE, MAX_DATA_TILE};
use crate::matcher::Matcher;
use crate::read::ReadError;
use crate::scan::{scan_bundle, Hit, ScanError};

/// Why a run of entries could not be read (the pass's error wraps it).
#[derive(Debug)]
pub(crate) enum BatchError {
    Fetch(FetchError),
    Scan(ScanError),
    Ct(CtError),
    V1(ReadError),
}

impl From<FetchError> for BatchError {
    fn from(e: FetchError) -> Self {
        BatchError::Fetch(e)
    }
}

impl From<ScanError> for BatchError {
    fn from(e: ScanError) -> Self {
        BatchError::Scan(e)
    }
}

impl From<CtError> for BatchError {
    fn from(e: CtError) -> Self {
        BatchError::Ct(e)
    }
}

/// Where one pass reads entries from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Tiles,
    /// The Rekor v1 API, and whether it has answered a batch read.
    V1(crate::v1_batch::BatchRead),
    Ct(Option<CtLayout>),
}

/// Leaf hashes of a run of entries and the matches among them, in order.
pub(crate) struct Batch {
    pub leaves: Vec<Hash>,
    pub hits: Vec<Hit>,
    pub ct_hits: Vec<CtHit>,
    /// Entries whose body or certificate did not decode: never matched.
    pub undecodable: u64,
}

/// The entries from `start` to the end of its tile (at most 256, not
/// past `size`), scanned.
pub(crate) async fn read_batch(
    fetch: &Fetcher,
    matcher: &Matcher,
    source: &mut Source,
    start: u64,
    size: u64,
) -> Result<Batch, BatchError> {
    let bundle = start / TILE_WIDTH;
    let want = (size - bundle * TILE_WIDTH).min(TILE_WIDTH);
    let skip = (start - bundle * TILE_WIDTH) as usize;
    let id = TileId {
        kind: TileKind::Entries,
        index: bundle,
        width: want as u16,
    };
    match *source {
        Source::Tiles => {
            let bytes = fetch.get(&id.path(), MAX_BUNDLE).await?;
            let scanned = scan_bundle(&bytes, bundle, want as usize, skip, matcher)?;
            Ok(Batch {
                leaves: scanned.leaves,
                hits: scanned.hits,
                ct_hits: Vec::new(),
                undecodable: scanned.undecodable,
            })
        }
        Source::V1(mut batch) => {
            let end = (bundle * TILE_WIDTH + want).min(size);
            let scanned = crate::v1::scan_range(fetch, start, end, matcher, &mut batch)
                .await
                .map_err(BatchError::V1)?;
            *source = Source::V1(batch);
            Ok(Batch {
                leaves: scanned.leaves,
                hits: scanned.hits,
                ct_hits: Vec::new(),
                undecodable: scanned.undecodable,
            })
        }
        Source::Ct(layout) => {
            // tlog-tiles and static-ct-api name tiles alike below the prefix.
            let suffix = id.path();
            let suffix = suffix.trim_start_matches("tile/entries");
            let (layout, bytes) = match layout {
                Some(l) => (
                    l,
                    fetch
                        .get(&format!("{}{suffix}", l.prefix()), MAX_DATA_TILE)
                        .await?,
                ),
                None => {
                    let data = CtLayout::DataTiles;
                    match fetch
                        .get_opt(&format!("{}{suffix}", data.prefix()), MAX_DATA_TILE)
                        .await?
                    {
                        Some(b) => (data, b),
                        None => {
                            let l = CtLayout::LeafBundles;
                            (
                                l,
                                fetch
                                    .get(&format!("{}{suffix}", l.prefix()), MAX_DATA_TILE)
                                    .await?,
                            )
                        }
                    }
                }
            };
            *source = Source::Ct(Some(layout));
            let entries = match layout {
                CtLayout::DataTiles => crate::ct::parse_data_tile(&bytes, bundle, want as usize)?,
                CtLayout::LeafBundles => {
                    crate::ct::parse_leaf_bundle(&bytes, bundle, want as usize)?
                }
            };
            let scanned = crate::ct::scan(
                &entries,
                bundle,
                skip,
                matcher,
                &format!("{}{suffix}", layout.prefix()),
            );
            Ok(Batch {
                leaves: scanned.leaves,
                hits: Vec::new(),
                ct_hits: scanned.hits,
                undecodable: scanned.undecodable,
            })
        }
    }
}
