//! Transparency log: tiled RFC 6962 log core, storage backends, Rekor v1/v2 personalities.
