-- keyless-log on PostgreSQL, schema version 1.
--
-- One log per database (or per schema, via the connection's search_path).
-- Every Storage::commit is one transaction that writes the batch's entry
-- metadata, the tiles and entry bundles it changed, and the checkpoint, so
-- a crash never exposes half a batch.

-- The latest signed checkpoint (a single row).
CREATE TABLE keyless_log_checkpoint (
    id   SMALLINT PRIMARY KEY CHECK (id = 0),
    note TEXT NOT NULL
);

-- Merkle tree tiles (level >= 0) and entry bundles (level = -1), at the
-- width of the latest commit; narrower partial tiles are prefixes of it.
CREATE TABLE keyless_log_tiles (
    level SMALLINT NOT NULL CHECK (level >= -1),
    idx   BIGINT   NOT NULL CHECK (idx >= 0),
    width INTEGER  NOT NULL CHECK (width BETWEEN 1 AND 256),
    data  BYTEA    NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Per-entry metadata: integrated time (Unix seconds) and the artifact
-- SHA-256 used by Rekor v1's search.
CREATE TABLE keyless_log_entry_meta (
    idx             BIGINT PRIMARY KEY CHECK (idx >= 0),
    integrated_time BIGINT NOT NULL,
    artifact_sha256 BYTEA CHECK (artifact_sha256 IS NULL OR length(artifact_sha256) = 32)
);
