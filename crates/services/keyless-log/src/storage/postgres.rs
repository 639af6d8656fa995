//! PostgreSQL storage, for deployments that outgrow one disk or want
//! replicas.
//!
//! The schema lives in `migrations/NNNN_*.sql` (compiled in) and is
//! applied at open, recorded in `keyless_log_schema_version`. Every
//! [`Storage::commit`] is **one transaction** writing the batch's entry
//! metadata, the tiles and entry bundles it changed, and the checkpoint,
//! so a crash (of the log or of the database) never exposes half a
//! batch, and nothing past the checkpoint is ever stored. Durability is
//! PostgreSQL's: `COMMIT` returns once the WAL is flushed (with the
//! default `synchronous_commit = on`; with synchronous replication, once
//! the standbys have it too).
//!
//! The entry index ([`crate::index`]) lives in the same database
//! ([`super::pg_index`], schema version 2) rather than in memory, written
//! after each commit on a connection of its own; so does the Rekor v1
//! search index ([`super::pg_search`], schema version 3).
//!
//! Tiles are stored one row per tile at the width of the latest commit;
//! a narrower partial tile (a reader that loaded an older checkpoint) is
//! served as a prefix of the stored one, since the log only appends.
//!
//! # Failover
//!
//! Give a multi-host connection string, `host=a,b port=P1,P2 …
//! target_session_attrs=read-write`, for a primary with a synchronous
//! standby (`synchronous_commit = on`, `synchronous_standby_names`), so
//! that every commit the log acknowledges is on both. When the
//! connection drops, the commit in flight fails and its entries are not
//! acknowledged; every call (this driver's, the entry index's) first
//! reconnects a dropped connection, which finds whichever host accepts
//! writes, and [`Storage::reconnects`] lets the sequencer re-read the
//! committed state from there and check it against the published
//! checkpoint before it appends again (see `sequencer::resync`). Until the
//! standby is promoted, appends fail; reads keep serving the last
//! published checkpoint. The Rekor search index ([`super::pg_search`])
//! does not reconnect yet.
//!
//! The [`Storage`] trait is synchronous, so the connection is driven by a
//! small runtime on a dedicated thread and calls block the calling thread
//! on the reply, whether or not it runs inside another tokio runtime.

use std::sync::Mutex;

use keyless_tlog::tiles::{decode_entry_bundle, encode_entry_bundle};
use keyless_tlog::{TileId, TileKind};
use tokio_postgres::{Client, Statement};

use super::pg_conn::{block_on, db, spawn_client};
use super::pg_index::PgIndex;
use super::pg_search::PgSearch;
use super::search_index::SearchStore;
use super::{Commit, EntryMeta, Storage};
use crate::error::StorageError;
use crate::index::EntryIndex;

/// A schema migration that failed, by name.
#[derive(Debug, thiserror::Error)]
#[error("migration {name}")]
struct MigrationError {
    name: String,
    #[source]
    source: tokio_postgres::Error,
}

/// Schema migrations in order; the version of each is its position + 1.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_entry_index",
        include_str!("../../migrations/0002_entry_index.sql"),
    ),
    (
        "0003_search_index",
        include_str!("../../migrations/0003_search_index.sql"),
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Log storage in a PostgreSQL database.
pub struct PgStorage {
    /// The connection and its prepared statements, replaced by
    /// [`Self::conn`] when the connection has dropped (see "Failover" in
    /// the module docs).
    conn: Mutex<Conn>,
    /// Kept to open the entry and search indexes' own connections (it
    /// may hold a password: never printed).
    config: tokio_postgres::Config,
}

/// A live connection with its statements (prepared on that connection).
struct Conn {
    client: Client,
    st: Statements,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password; never print it.
        f.debug_struct("PgStorage").finish_non_exhaustive()
    }
}

struct Statements {
    insert_meta: Statement,
    upsert_tiles: Statement,
    upsert_checkpoint: Statement,
    read_checkpoint: Statement,
    read_tile: Statement,
    read_meta: Statement,
    delete_meta_from: Statement,
    meta_exists: Statement,
}

fn level_of(kind: TileKind) -> i16 {
    match kind {
        TileKind::Entries => -1,
        TileKind::Hashes { level } => i16::from(level),
    }
}

impl PgStorage {
    /// Connect to `url` (a libpq-style connection string or
    /// `postgresql://` URL; TLS is not supported, so use loopback, a Unix
    /// socket or a trusted network) and apply pending schema migrations.
    /// Blocking.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(db("parse the connection string"))?;
        Self::connect_config(config)
    }

    /// [`Self::connect`], with the log's tables in `schema` (created if
    /// missing; lowercase letters, digits and `_`) instead of the
    /// connection's default: one database can then hold several logs
    /// (the development stack's transparency log and its CA's CT log).
    /// Every connection of the log sets `search_path` to it. Blocking.
    pub fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StorageError> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StorageError::Malformed {
                what: "PostgreSQL schema name".into(),
                problem: format!("{schema:?} is not lowercase letters, digits and _"),
            });
        }
        let mut config: tokio_postgres::Config =
            url.parse().map_err(db("parse the connection string"))?;
        {
            let client = spawn_client(&config)?;
            // The name is checked above: plain letters, digits and _.
            block_on(client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
                .map_err(db("create the log's schema"))?;
        }
        let options = match config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -c search_path={schema}"),
            _ => format!("-c search_path={schema}"),
        };
        config.options(&options);
        Self::connect_config(config)
    }

    fn connect_config(config: tokio_postgres::Config) -> Result<Self, StorageError> {
        let client = spawn_client(&config)?;
        migrate(&client)?;
        let conn = Conn::prepare(client)?;
        Ok(Self {
            conn: Mutex::new(conn),
            config,
        })
    }
}

impl Conn {
    fn prepare(client: Client) -> Result<Self, StorageError> {
        let prep = |sql: &str| block_on(client.prepare(sql)).map_err(db("prepare a statement"));
        let st = Statements {
            insert_meta: prep(
                "INSERT INTO keyless_log_entry_meta (idx, integrated_time, artifact_sha256) \
                 SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[]) \
                 ON CONFLICT (idx) DO UPDATE SET integrated_time = EXCLUDED.integrated_time, \
                 artifact_sha256 = EXCLUDED.artifact_sha256",
            )?,
            upsert_tiles: prep(
                "INSERT INTO keyless_log_tiles (level, idx, width, data) \
                 SELECT * FROM UNNEST($1::SMALLINT[], $2::BIGINT[], $3::INTEGER[], $4::BYTEA[]) \
                 ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, data = EXCLUDED.data",
            )?,
            upsert_checkpoint: prep(
                "INSERT INTO keyless_log_checkpoint (id, note) VALUES (0, $1) \
                 ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note",
            )?,
            read_checkpoint: prep("SELECT note FROM keyless_log_checkpoint WHERE id = 0")?,
            read_tile: prep("SELECT width, data FROM keyless_log_tiles WHERE level = $1 AND idx = $2")?,
            read_meta: prep(
                "SELECT idx, integrated_time, artifact_sha256 FROM keyless_log_entry_meta \
                 WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )?,
            delete_meta_from: prep("DELETE FROM keyless_log_entry_meta WHERE idx >= $1")?,
            meta_exists: prep("SELECT EXISTS (SELECT 1 FROM keyless_log_entry_meta WHERE idx = $1)")?,
        };
        Ok(Self { client, st })
    }
}

impl PgStorage {
    /// The connection, reconnected first if it has dropped: the
    /// multi-host connection string then finds whichever server accepts
    /// writes now (`target_session_attrs=read-write`). A reconnect is not
    /// a recovery: the sequencer re-reads the committed state before it
    /// appends again ([`Storage::reconnects`]).
    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Conn>, StorageError> {
        // Statements leave no client-side state behind across a panic.
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if guard.client.is_closed() {
            tracing::warn!("the PostgreSQL connection dropped; reconnecting");
            let client = spawn_client(&self.config)?;
            *guard = Conn::prepare(client)?;
            tracing::info!("reconnected to PostgreSQL");
        }
        Ok(guard)
    }
}

/// Apply the migrations this database lacks, each in its own transaction,
/// serialized against concurrent openers by a table lock.
fn migrate(client: &Client) -> Result<(), StorageError> {
    block_on(client.batch_execute(
        "CREATE TABLE IF NOT EXISTS keyless_log_schema_version (\
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    ))
    .map_err(db("create keyless_log_schema_version"))?;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        let result: Result<i32, tokio_postgres::Error> = block_on(async {
            client.batch_execute("BEGIN").await?;
            client
                .batch_execute("LOCK TABLE keyless_log_schema_version IN EXCLUSIVE MODE")
                .await?;
            let current: i32 = client
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM keyless_log_schema_version",
                    &[],
                )
                .await?
                .get(0);
            if current >= version {
                client.batch_execute("COMMIT").await?;
                return Ok(current);
            }
            client.batch_execute(sql).await?;
            client
                .execute(
                    "INSERT INTO keyless_log_schema_version (version, name) VALUES ($1, $2)",
                    &[&version, name],
                )
                .await?;
            client.batch_execute("COMMIT").await?;
            tracing::info!(version, name, "applied PostgreSQL schema migration");
            Ok(current)
        });
        let current = match result {
            Ok(c) => c,
            Err(e) => {
                let _ = block_on(client.batch_execute("ROLLBACK"));
                return Err(StorageError::Database {
                    op: "apply schema migration",
                    source: Box::new(MigrationError {
                        name: name.to_string(),
                        source: e,
                    }),
                });
            }
        };
        if current > SCHEMA_VERSION {
            return Err(StorageError::Malformed {
                what: "PostgreSQL schema".into(),
                problem: format!(
                    "version {current} is newer than this build's {SCHEMA_VERSION}; upgrade keyless-log"
                ),
            });
        }
    }
    Ok(())
}

impl Storage for PgStorage {
    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let n = commit.meta.len();
        let mut idx = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        let mut hashes: Vec<Option<&[u8]>> = Vec::with_capacity(n);
        for (i, m) in commit.meta.iter().enumerate() {
            idx.push(i64::try_from(commit.first_index + i as u64).map_err(|_| {
                StorageError::Malformed {
                    what: "commit".into(),
                    problem: "index beyond i64".into(),
                }
            })?);
            times.push(m.sequenced_at);
            hashes.push(m.lookup_key.as_ref().map(|d| &d[..]));
        }
        let mut levels = Vec::with_capacity(commit.tiles.len());
        let mut tile_idx = Vec::with_capacity(commit.tiles.len());
        let mut widths = Vec::with_capacity(commit.tiles.len());
        let mut datas: Vec<&[u8]> = Vec::with_capacity(commit.tiles.len());
        for (id, data) in &commit.tiles {
            levels.push(level_of(id.kind));
            tile_idx.push(id.index as i64);
            widths.push(i32::from(id.width));
            datas.push(data);
        }
        let conn = self.conn()?;
        let (client, st) = (&conn.client, &conn.st);
        let result = block_on(async {
            client.batch_execute("BEGIN").await?;
            // Sent back to back; the server runs them in order.
            let meta = async {
                if n > 0 {
                    client
                        .execute(&st.insert_meta, &[&idx, &times, &hashes])
                        .await?;
                }
                Ok::<_, tokio_postgres::Error>(())
            };
            let tiles = async {
                if !levels.is_empty() {
                    client
                        .execute(&st.upsert_tiles, &[&levels, &tile_idx, &widths, &datas])
                        .await?;
                }
                Ok(())
            };
            let cp_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&commit.checkpoint];
            let cp = client.execute(&st.upsert_checkpoint, &cp_params);
            let (a, b, c) = tokio::join!(meta, tiles, cp);
            a?;
            b?;
            c?;
            client.batch_execute("COMMIT").await
        });
        if let Err(e) = result {
            let _ = block_on(client.batch_execute("ROLLBACK"));
            return Err(db("commit")(e));
        }
        Ok(())
    }

    fn read_checkpoint(&self) -> Result<Option<String>, StorageError> {
        let conn = self.conn()?;
        let row = block_on(conn.client.query_opt(&conn.st.read_checkpoint, &[]))
            .map_err(db("read the checkpoint"))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError> {
        let row = {
            let conn = self.conn()?;
            block_on(conn.client.query_opt(
                &conn.st.read_tile,
                &[&level_of(id.kind), &(id.index as i64)],
            ))
            .map_err(db("read a tile"))?
        };
        let Some(row) = row else { return Ok(None) };
        let width: i32 = row.get(0);
        let data: Vec<u8> = row.get(1);
        let want = i32::from(id.width);
        if width == want {
            return Ok(Some(data));
        }
        if width < want {
            return Ok(None);
        }
        let bad = |problem: String| StorageError::Malformed {
            what: format!("tile {}", id.path()),
            problem,
        };
        match id.kind {
            TileKind::Hashes { .. } => data
                .get(..usize::from(id.width) * 32)
                .map(|d| Some(d.to_vec()))
                .ok_or_else(|| bad(format!("{} bytes for width {width}", data.len()))),
            TileKind::Entries => {
                let corrupt = |source| StorageError::Tile {
                    path: id.path(),
                    source,
                };
                let entries = decode_entry_bundle(&data).map_err(corrupt)?;
                encode_entry_bundle(entries.into_iter().take(usize::from(id.width)))
                    .map(Some)
                    .map_err(corrupt)
            }
        }
    }

    fn read_meta(&self, start: u64, count: u64) -> Result<Vec<EntryMeta>, StorageError> {
        let range = |v: u64| {
            i64::try_from(v).map_err(|_| StorageError::Malformed {
                what: "meta".into(),
                problem: "range too large".into(),
            })
        };
        let (lo, hi) = (range(start)?, range(start.saturating_add(count))?);
        let rows = {
            let conn = self.conn()?;
            block_on(conn.client.query(&conn.st.read_meta, &[&lo, &hi]))
                .map_err(db("read metadata"))?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (k, r) in rows.iter().enumerate() {
            let i: i64 = r.get(0);
            if i != lo + k as i64 {
                break;
            }
            let hash: Option<Vec<u8>> = r.get(2);
            let lookup_key = match hash {
                None => None,
                Some(h) => Some(<[u8; 32]>::try_from(h.as_slice()).map_err(|_| {
                    StorageError::Malformed {
                        what: format!("meta record {i}"),
                        problem: "artifact hash is not 32 bytes".into(),
                    }
                })?),
            };
            out.push(EntryMeta {
                sequenced_at: r.get(1),
                lookup_key,
            });
        }
        if out.len() as u64 != count {
            return Err(StorageError::Malformed {
                what: "meta".into(),
                problem: format!(
                    "entries {start}..{} requested, metadata for {} found",
                    start.saturating_add(count),
                    out.len()
                ),
            });
        }
        Ok(out)
    }

    fn recover(&self, size: u64) -> Result<(), StorageError> {
        let size = i64::try_from(size).map_err(|_| StorageError::Malformed {
            what: "checkpoint".into(),
            problem: "size beyond i64".into(),
        })?;
        let conn = self.conn()?;
        let (client, st) = (&conn.client, &conn.st);
        // Commits are transactions, so nothing should lie past the
        // checkpoint; clear it anyway, as the file backend does.
        block_on(client.execute(&st.delete_meta_from, &[&size]))
            .map_err(db("drop metadata past the checkpoint"))?;
        if size > 0 {
            let present: bool = block_on(client.query_one(&st.meta_exists, &[&(size - 1)]))
                .map_err(db("check metadata"))?
                .get(0);
            if !present {
                return Err(StorageError::Malformed {
                    what: "meta".into(),
                    problem: format!(
                        "the checkpoint covers {size} entries, but entry {} has no metadata",
                        size - 1
                    ),
                });
            }
        }
        Ok(())
    }

    /// The index lives in the same database (`keyless_log_entry_index`),
    /// so the log's memory stays flat as it grows; it has its own
    /// connection, so lookups from request handlers do not queue behind
    /// commits (and never run inside a commit's transaction).
    fn open_index(&self) -> Result<Option<Box<dyn EntryIndex>>, StorageError> {
        Ok(Some(Box::new(PgIndex::connect(&self.config)?)))
    }

    /// The search index's keys live in the same database
    /// (`keyless_log_search_index`), so memory stays flat and the covered
    /// size survives a restart; on a connection of its own, so catching up
    /// does not hold up commits.
    fn open_search_index(&self) -> Result<Option<Box<dyn SearchStore>>, StorageError> {
        Ok(Some(Box::new(PgSearch::connect(&self.config)?)))
    }

    /// Every call reconnects a dropped connection first, and a commit is
    /// one transaction, so after a failover the state can be re-read.
    fn reconnects(&self) -> bool {
        true
    }
}
