-- keyless-log on PostgreSQL, schema version 3: the Rekor v1 search index
-- (see src/search.rs and src/storage/pg_search.rs), in the database rather
-- than in the log's memory, which would otherwise grow by 16-40 bytes per
-- entry and be rebuilt by the first search after every start.
--
-- Derived data: it is rebuilt from the entry bodies if lost, cleared if it
-- claims more than the log holds, and written in batches after the
-- commits it covers, so it may lag the checkpoint.

-- Key prefix → entry index. key: the first 8 bytes of the SHA-256 the
-- search index files a key under, big-endian, as a signed BIGINT. Callers
-- confirm candidates against the entry bodies, so prefix collisions only
-- cost a read. No uniqueness: one signer has many entries.
CREATE TABLE keyless_log_search_index (
    key BIGINT NOT NULL,
    idx BIGINT NOT NULL CHECK (idx >= 0)
);
-- idx is in the key so lookups are index-only scans, already ascending.
CREATE INDEX keyless_log_search_index_key ON keyless_log_search_index (key, idx);

-- How many entries (0..size) the index covers (a single row).
CREATE TABLE keyless_log_search_index_size (
    id   SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT   NOT NULL CHECK (size >= 0)
);
INSERT INTO keyless_log_search_index_size (id, size) VALUES (0, 0);
