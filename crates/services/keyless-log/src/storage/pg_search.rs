//! The PostgreSQL backend's Rekor v1 search index ([`super::search_index`]):
//! two tables in the log's database (migration `0003_search_index.sql`),
//! so the log's memory does not grow with the number of entries as
//! [`super::search_index::MemorySearch`] would, and the covered size
//! survives a restart.
//!
//! ```text
//! keyless_log_search_index       (key, idx), B-tree on (key, idx)
//! keyless_log_search_index_size  the covered size (one row)
//! ```
//!
//! Keys are the first 8 bytes of each key's SHA-256; the caller confirms
//! candidates against the entry bodies.
//!
//! `add` is called once per entry while a search catches up, so a round
//! trip each would make the first search over a million entries take
//! minutes. Adds are buffered instead and written every [`FLUSH_ENTRIES`]
//! entries as one statement: the rows (as `UNNEST` arrays) and the new
//! size, guarded by the old size (as in [`super::pg_index`]), so the
//! recorded size never claims rows that are missing. The covered size
//! this store reports includes the buffer, and [`SearchStore::candidates`]
//! answers from the table *and* the buffer, so what it says it covers is
//! always what it can find. The buffer is written on drop; what a crash
//! loses is re-indexed by the next search.
//!
//! One writer: the connection holds a session advisory lock keyed by the
//! size table's OID (so per schema, and not the entry index's key). A
//! second store on the same index (a log serving two routers, or a
//! lingering backend of a killed log) gets [`StorageError::Locked`] at
//! once, and its user keeps its keys in memory instead: waiting would
//! hold up a search, and the search index is only an optimization.

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::pg_conn::{block_on, db, spawn_client};
use super::pg_index::{guarded_add, key, to_i64, to_u64};
use super::search_index::SearchStore;
use crate::error::StorageError;
use crate::index::check_next;

/// Entries buffered before they are written: at ~2 keys per entry, one
/// statement of ~8k rows (about 130 KiB of parameters).
pub const FLUSH_ENTRIES: u64 = 4096;

/// Takes (and [`UNLOCK`] releases) the session advisory lock.
const LOCK: &str =
    "SELECT pg_try_advisory_lock('keyless_log_search_index_size'::regclass::oid::bigint)";
const UNLOCK: &str =
    "SELECT pg_advisory_unlock('keyless_log_search_index_size'::regclass::oid::bigint)";

/// The search index in `keyless_log_search_index`.
pub struct PgSearch {
    client: Client,
    /// Entries `0..stored` are in the table (as its size row says).
    stored: u64,
    /// Entries `stored..size` are in `keys`/`indices`.
    size: u64,
    /// Buffered rows, as the `UNNEST` arrays of the next flush.
    keys: Vec<i64>,
    indices: Vec<i64>,
    add: Statement,
    lookup: Statement,
}

impl std::fmt::Debug for PgSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSearch")
            .field("stored", &self.stored)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

const TABLE: &str = "search index";

impl PgSearch {
    /// Open a connection of its own to the database `config` names (whose
    /// schema [`super::postgres::PgStorage::connect`] has migrated); an
    /// error [`StorageError::Locked`] if another store holds the index.
    pub fn connect(config: &tokio_postgres::Config) -> Result<Self, StorageError> {
        let client = spawn_client(config)?;
        let locked: bool = block_on(client.query_one(LOCK, &[]))
            .map_err(db("lock the search index"))?
            .try_get(0)
            .map_err(db("lock the search index"))?;
        if !locked {
            return Err(StorageError::Locked {
                dir: "PostgreSQL table keyless_log_search_index".into(),
                lock: "advisory lock on keyless_log_search_index_size".into(),
            });
        }
        let prep = |sql: &str| {
            block_on(client.prepare(sql)).map_err(db("prepare a search index statement"))
        };
        // One statement, so the rows and the size commit together; the
        // insert happens only if the size was still `$3`.
        let add = prep(
            "WITH s AS (\
                 UPDATE keyless_log_search_index_size SET size = $4 \
                 WHERE id = 0 AND size = $3 RETURNING size\
             ), ins AS (\
                 INSERT INTO keyless_log_search_index (key, idx) \
                 SELECT u.key, u.idx FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS u(key, idx) \
                 WHERE EXISTS (SELECT 1 FROM s)\
             ) SELECT count(*) FROM s",
        )?;
        let lookup = prep("SELECT idx FROM keyless_log_search_index WHERE key = $1 ORDER BY idx")?;
        let row = block_on(client.query_opt(
            "SELECT size FROM keyless_log_search_index_size WHERE id = 0",
            &[],
        ))
        .map_err(db("read the search index size"))?;
        let mut store = Self {
            client,
            stored: 0,
            size: 0,
            keys: Vec::new(),
            indices: Vec::new(),
            add,
            lookup,
        };
        match row {
            Some(row) => {
                let size: i64 = row.try_get(0).map_err(db("read the search index size"))?;
                store.stored = to_u64(TABLE, size, "size")?;
                store.size = store.stored;
            }
            // The migration inserts the row; without it the rows cannot be
            // trusted, and the index is derived: start over.
            None => store.clear()?,
        }
        Ok(store)
    }

    /// Write the buffered entries, if any.
    fn flush(&mut self) -> Result<(), StorageError> {
        if self.size == self.stored {
            return Ok(());
        }
        let old = to_i64(TABLE, self.stored, "size")?;
        let new = to_i64(TABLE, self.size, "size")?;
        let params: [&(dyn ToSql + Sync); 4] = [&self.keys, &self.indices, &old, &new];
        if !guarded_add(&self.client, &self.add, &params, "write the search index")? {
            // Only a writer that ignored the lock can cause this; keep the
            // buffer (still answered from) and say so.
            return Err(StorageError::Malformed {
                what: "search index".into(),
                problem: format!(
                    "entries {}..{} written, but the table no longer covers {} entries",
                    self.stored, self.size, self.stored
                ),
            });
        }
        self.stored = self.size;
        self.keys.clear();
        self.indices.clear();
        Ok(())
    }
}

impl SearchStore for PgSearch {
    fn indexed_size(&self) -> u64 {
        self.size
    }

    fn add(&mut self, index: u64, keys: &[[u8; 32]]) -> Result<(), StorageError> {
        check_next("search index", index, self.size)?;
        let i = to_i64(TABLE, index, "index")?;
        for k in keys {
            self.keys.push(key(k));
            self.indices.push(i);
        }
        self.size = index + 1;
        if self.size - self.stored >= FLUSH_ENTRIES {
            self.flush()?;
        }
        Ok(())
    }

    fn candidates(&self, k: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        let k = key(k);
        let rows = block_on(self.client.query(&self.lookup, &[&k]))
            .map_err(db("look up the search index"))?;
        let mut out = rows
            .iter()
            .map(|r| {
                let i: i64 = r.try_get(0).map_err(db("read the search index"))?;
                to_u64(TABLE, i, "index")
            })
            .collect::<Result<Vec<u64>, _>>()?;
        // Buffered entries all come after the table's, in order.
        for (_, &i) in self
            .keys
            .iter()
            .zip(&self.indices)
            .filter(|(b, _)| **b == k)
        {
            out.push(to_u64(TABLE, i, "index")?);
        }
        Ok(out)
    }

    fn clear(&mut self) -> Result<(), StorageError> {
        // One simple query: PostgreSQL runs its statements as a single
        // transaction, so the size never outlives the rows it describes.
        block_on(self.client.batch_execute(
            "TRUNCATE keyless_log_search_index; \
             INSERT INTO keyless_log_search_index_size (id, size) VALUES (0, 0) \
             ON CONFLICT (id) DO UPDATE SET size = 0",
        ))
        .map_err(db("clear the search index"))?;
        self.stored = 0;
        self.size = 0;
        self.keys.clear();
        self.indices.clear();
        Ok(())
    }
}

/// Keep what was indexed since the last flush, so the next open need not
/// read those bodies again; then release the lock before the connection
/// closes, so a store opened right after this one is dropped gets it
/// (the server would release it only once its backend has exited).
impl Drop for PgSearch {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "could not write the search index on close");
        }
        if let Err(e) = block_on(self.client.query_one(UNLOCK, &[])) {
            tracing::warn!(error = %e, "could not unlock the search index on close");
        }
    }
}
