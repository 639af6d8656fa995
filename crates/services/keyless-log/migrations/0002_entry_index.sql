-- keyless-log on PostgreSQL, schema version 2: the entry index
-- (see src/index.rs and src/storage/pg_index.rs), in the database rather
-- than in the log's memory, which would otherwise grow by ~40 bytes per
-- entry forever.
--
-- Derived data: it is rebuilt from the tiles and metadata if lost, and
-- written after the commit it covers, so it may lag the checkpoint.

-- Key prefix → entry index. kind 0: leaf hash, 1: artifact SHA-256; key:
-- the first 8 bytes of the hash, big-endian, as a signed BIGINT. Callers
-- confirm candidates against the full value, so prefix collisions only
-- cost a comparison. No uniqueness: one artifact has many entries.
CREATE TABLE keyless_log_entry_index (
    kind SMALLINT NOT NULL CHECK (kind IN (0, 1)),
    key  BIGINT   NOT NULL,
    idx  BIGINT   NOT NULL CHECK (idx >= 0)
);
-- idx is in the key so lookups are index-only scans, already ascending.
CREATE INDEX keyless_log_entry_index_key ON keyless_log_entry_index (kind, key, idx);

-- How many entries (0..size) the index covers (a single row).
CREATE TABLE keyless_log_entry_index_size (
    id   SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT   NOT NULL CHECK (size >= 0)
);
INSERT INTO keyless_log_entry_index_size (id, size) VALUES (0, 0);
