//! TUF client and repository writer.
