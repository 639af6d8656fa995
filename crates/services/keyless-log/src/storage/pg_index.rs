//! The PostgreSQL backend's entry index (see [`crate::index`]): two
//! tables in the log's database (migration `0002_entry_index.sql`), so
//! the log's memory does not grow with the number of entries as
//! [`crate::index::MemoryIndex`] would.
//!
//! ```text
//! keyless_log_entry_index       (kind, key, idx), B-tree on (kind, key, idx)
//! keyless_log_entry_index_size  the indexed size (one row)
//! ```
//!
//! As in the file backend's [`crate::storage::run_index`], keys are the
//! first 8 bytes of the leaf hash or artifact digest and callers confirm
//! candidates against the full value. Each [`EntryIndex::add`] is one
//! statement: the rows (as `UNNEST` arrays) and the new size, guarded by
//! the old size, so a batch is indexed entirely or not at all and the
//! recorded size never claims entries that are missing. It is written
//! after the batch's own commit (a separate transaction), so after a crash
//! it may lag the checkpoint and [`crate::Log::open`] re-indexes the tail.
//!
//! The index has its own connection: lookups come from the sequencer
//! (one query per batch, [`EntryIndex::leaf_candidates_many`]; the index
//! says it [is remote](EntryIndex::is_remote), so submitters do not each
//! make a round trip) and from Rekor v1 reads, and on the storage
//! connection they would queue behind commits (and be sent inside a
//! commit's `BEGIN`…`COMMIT`).
//! Every operation is a single statement (or one multi-statement simple
//! query, which PostgreSQL runs as one transaction), so concurrent callers
//! can share the connection without a lock.
//!
//! One writer: the connection holds a session advisory lock keyed by the
//! size table's OID (so per schema) for its lifetime. When a log process
//! is killed, its server backend may still be running the last `add` and
//! commit it *after* a restarted log has read the indexed size; that
//! restarted log's re-indexing would then find the size moved under it.
//! The lock makes the new log wait until the old backend has gone (it
//! exits once it sees the dead client), and refuses a second live log on
//! the same index after [`LOCK_WAIT`].

use std::time::{Duration, Instant};

use keyless_tlog::Hash;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::pg_conn::{block_on, db, spawn_client, Dialed, Redial};
use crate::error::StorageError;
use crate::index::EntryIndex;

/// How long [`PgIndex::connect`] waits for a previous holder of the
/// index (a log being shut down, or a killed one's lingering backend).
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// `kind` of leaf-hash rows.
const LEAF: i16 = 0;
/// `kind` of artifact-digest rows.
const ARTIFACT: i16 = 1;

/// The entry index in `keyless_log_entry_index`, on a connection that is
/// reopened (taking the lock again) if it drops.
pub struct PgIndex {
    conn: Redial<IndexConn>,
}

/// [`PgIndex`]'s connection and statements.
struct IndexConn {
    client: Client,
    size: Statement,
    add: Statement,
    lookup: Statement,
    lookup_many: Statement,
}

impl std::fmt::Debug for PgIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgIndex").finish_non_exhaustive()
    }
}

/// The key of a hash: its first 8 bytes, big-endian, reinterpreted as the
/// signed BIGINT PostgreSQL stores (only equality matters). Shared with
/// the search index's table ([`super::pg_search`]).
pub(super) fn key(h: &[u8; 32]) -> i64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&h[..8]);
    i64::from_be_bytes(p)
}

/// `v` (an index or a size) as a BIGINT column of `table`.
pub(super) fn to_i64(table: &str, v: u64, what: &str) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Malformed {
        what: table.into(),
        problem: format!("{what} {v} is beyond i64"),
    })
}

/// A BIGINT column of `table` as an index or a size.
pub(super) fn to_u64(table: &str, v: i64, what: &str) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| StorageError::Malformed {
        what: table.into(),
        problem: format!("negative {what} {v}"),
    })
}

/// Run `add`: one statement that inserts rows and moves the table's size
/// row from an old value to a new one, doing either only if the row still
/// holds the old value (its last parameters), and selecting how many size
/// rows it updated. Whether the guard held, so the rows went in.
pub(super) fn guarded_add(
    client: &Client,
    add: &Statement,
    params: &[&(dyn ToSql + Sync)],
    op: &'static str,
) -> Result<bool, StorageError> {
    let updated: i64 = block_on(client.query_one(add, params))
        .map_err(db(op))?
        .try_get(0)
        .map_err(db(op))?;
    Ok(updated == 1)
}

const TABLE: &str = "entry index";

impl PgIndex {
    /// Open a connection of its own to the database `config` names (whose
    /// schema [`super::postgres::PgStorage::connect`] has migrated).
    pub fn connect(config: &tokio_postgres::Config) -> Result<Self, StorageError> {
        Ok(Self {
            conn: Redial::connect(config)?,
        })
    }

    fn candidates(&self, kind: i16, h: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        let c = self.conn.get()?;
        let rows = block_on(c.client.query(&c.lookup, &[&kind, &key(h)]))
            .map_err(db("look up the entry index"))?;
        rows.iter().map(|r| index_at(r, 0)).collect()
    }
}

impl Dialed for IndexConn {
    fn client(&self) -> &Client {
        &self.client
    }

    fn open(config: &tokio_postgres::Config) -> Result<Self, StorageError> {
        let client = spawn_client(config)?;
        let lock = block_on(client.prepare(
            "SELECT pg_try_advisory_lock('keyless_log_entry_index_size'::regclass::oid::bigint)",
        ))
        .map_err(db("prepare the entry index lock"))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let locked: bool = block_on(client.query_one(&lock, &[]))
                .map_err(db("lock the entry index"))?
                .try_get(0)
                .map_err(db("lock the entry index"))?;
            if locked {
                break;
            }
            if Instant::now() >= deadline {
                return Err(StorageError::Database {
                    op: "lock the entry index",
                    source: format!(
                        "another keyless log has held it for {}s; stop that log first",
                        LOCK_WAIT.as_secs()
                    )
                    .into(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let prep = |sql: &str| {
            block_on(client.prepare(sql)).map_err(db("prepare an entry index statement"))
        };
        let size = prep("SELECT size FROM keyless_log_entry_index_size WHERE id = 0")?;
        // The size update and the insert are one statement, so they commit
        // together; the insert happens only if the size was still `$4`
        // (the row lock serializes racing writers), and the result says
        // whether it was.
        let add = prep(
            "WITH s AS (\
                 UPDATE keyless_log_entry_index_size SET size = $5 \
                 WHERE id = 0 AND size = $4 RETURNING size\
             ), ins AS (\
                 INSERT INTO keyless_log_entry_index (kind, key, idx) \
                 SELECT u.kind, u.key, u.idx \
                 FROM UNNEST($1::SMALLINT[], $2::BIGINT[], $3::BIGINT[]) AS u(kind, key, idx) \
                 WHERE EXISTS (SELECT 1 FROM s)\
             ) SELECT count(*) FROM s",
        )?;
        let lookup = prep(
            "SELECT idx FROM keyless_log_entry_index WHERE kind = $1 AND key = $2 ORDER BY idx",
        )?;
        let lookup_many = prep(
            "SELECT key, idx FROM keyless_log_entry_index \
             WHERE kind = $1 AND key = ANY($2::BIGINT[]) ORDER BY idx",
        )?;
        Ok(Self {
            client,
            size,
            add,
            lookup,
            lookup_many,
        })
    }
}

fn index_at(row: &tokio_postgres::Row, column: usize) -> Result<u64, StorageError> {
    let i: i64 = row.try_get(column).map_err(db("read the entry index"))?;
    to_u64(TABLE, i, "index")
}

impl EntryIndex for PgIndex {
    fn indexed_size(&self) -> Result<u64, StorageError> {
        let c = self.conn.get()?;
        let row =
            block_on(c.client.query_opt(&c.size, &[])).map_err(db("read the entry index size"))?;
        // The migration inserts the row; without it nothing is indexed
        // and the first add (guarded by size = 0) fails loudly.
        let Some(row) = row else { return Ok(0) };
        let size: i64 = row.try_get(0).map_err(db("read the entry index size"))?;
        to_u64(TABLE, size, "size")
    }

    fn add(
        &self,
        first: u64,
        leaves: &[Hash],
        artifacts: &[Option<[u8; 32]>],
    ) -> Result<(), StorageError> {
        let n = leaves.len() + artifacts.iter().flatten().count();
        let mut kinds = Vec::with_capacity(n);
        let mut keys = Vec::with_capacity(n);
        let mut idx = Vec::with_capacity(n);
        for (k, l) in leaves.iter().enumerate() {
            kinds.push(LEAF);
            keys.push(key(l));
            idx.push(to_i64(TABLE, first + k as u64, "index")?);
        }
        for (k, d) in artifacts.iter().enumerate() {
            if let Some(d) = d {
                kinds.push(ARTIFACT);
                keys.push(key(d));
                idx.push(to_i64(TABLE, first + k as u64, "index")?);
            }
        }
        let old = to_i64(TABLE, first, "size")?;
        let new = to_i64(TABLE, first + leaves.len() as u64, "size")?;
        let params: [&(dyn ToSql + Sync); 5] = [&kinds, &keys, &idx, &old, &new];
        let c = self.conn.get()?;
        if !guarded_add(&c.client, &c.add, &params, "write the entry index")? {
            return Err(StorageError::Malformed {
                what: "entry index".into(),
                problem: format!(
                    "entries from {first} added, but the index covers {} entries",
                    self.indexed_size()?
                ),
            });
        }
        Ok(())
    }

    fn leaf_candidates(&self, leaf: &Hash) -> Result<Vec<u64>, StorageError> {
        self.candidates(LEAF, leaf)
    }

    fn leaf_candidates_many(&self, leaves: &[Hash]) -> Result<Vec<Vec<u64>>, StorageError> {
        if leaves.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<i64> = leaves.iter().map(key).collect();
        let c = self.conn.get()?;
        let rows = block_on(c.client.query(&c.lookup_many, &[&LEAF, &keys]))
            .map_err(db("look up the entry index"))?;
        let mut by_key: std::collections::HashMap<i64, Vec<u64>> = std::collections::HashMap::new();
        for r in &rows {
            let k: i64 = r.try_get(0).map_err(db("read the entry index"))?;
            by_key.entry(k).or_default().push(index_at(r, 1)?);
        }
        Ok(keys
            .iter()
            .map(|k| by_key.get(k).cloned().unwrap_or_default())
            .collect())
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn lookup_candidates(&self, digest: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        self.candidates(ARTIFACT, digest)
    }

    fn clear(&self) -> Result<(), StorageError> {
        // One simple query: PostgreSQL runs its statements as a single
        // transaction, so the size never outlives the rows it describes.
        block_on(self.conn.get()?.client.batch_execute(
            "TRUNCATE keyless_log_entry_index; \
             INSERT INTO keyless_log_entry_index_size (id, size) VALUES (0, 0) \
             ON CONFLICT (id) DO UPDATE SET size = 0",
        ))
        .map_err(db("clear the entry index"))
    }
}
