//! The stand-in's storage: blobs, upload sessions, manifests (kept in push
//! order, by exact bytes) and tags, per repository. The referrers listing is
//! computed from the stored manifests' `subject` fields, as a registry with
//! the referrers API indexes them itself on push.

use std::collections::HashMap;

use keyless_oci::Digest;
use serde_json::{json, Map, Value};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A manifest exactly as pushed.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub media_type: String,
    pub digest: Digest,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
struct Repository {
    blobs: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, Vec<u8>>,
    /// Push order, so referrers listings are stable (and pages well defined).
    manifests: Vec<StoredManifest>,
    tags: HashMap<String, Digest>,
}

/// Why a manifest PUT was refused; the stand-in answers these as 400s with
/// the distribution error code.
#[derive(Debug)]
pub struct Rejected {
    pub code: &'static str,
    pub message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejected {
    Rejected {
        code,
        message: message.into(),
    }
}

#[derive(Debug, Default)]
pub struct Store {
    repositories: HashMap<String, Repository>,
    next_upload: u64,
}

impl Store {
    fn repo(&mut self, name: &str) -> &mut Repository {
        self.repositories.entry(name.to_owned()).or_default()
    }

    pub fn blob(&self, name: &str, digest: &str) -> Option<&[u8]> {
        self.repositories
            .get(name)?
            .blobs
            .get(digest)
            .map(Vec::as_slice)
    }

    /// Open an upload session; returns its id.
    pub fn start_upload(&mut self, name: &str) -> String {
        self.next_upload += 1;
        let id = format!("upload-{}", self.next_upload);
        self.repo(name).uploads.insert(id.clone(), Vec::new());
        id
    }

    /// Append a chunk; returns the session's size so far, `None` if unknown.
    pub fn append_upload(&mut self, name: &str, id: &str, chunk: &[u8]) -> Option<usize> {
        let upload = self.repo(name).uploads.get_mut(id)?;
        upload.extend_from_slice(chunk);
        Some(upload.len())
    }

    /// Close a session with its last chunk, checking the whole blob's digest.
    pub fn finish_upload(
        &mut self,
        name: &str,
        id: &str,
        last_chunk: &[u8],
        digest: &str,
    ) -> Result<(), Rejected> {
        let repo = self.repo(name);
        let mut content = repo
            .uploads
            .remove(id)
            .ok_or_else(|| reject("BLOB_UPLOAD_UNKNOWN", format!("no upload {id}")))?;
        content.extend_from_slice(last_chunk);
        let actual = Digest::of(&content).to_string();
        if actual != digest {
            return Err(reject(
                "DIGEST_INVALID",
                format!("upload hashes to {actual}, not {digest}"),
            ));
        }
        repo.blobs.insert(actual, content);
        Ok(())
    }

    /// A manifest by tag or digest.
    pub fn manifest(&self, name: &str, reference: &str) -> Option<&StoredManifest> {
        let repo = self.repositories.get(name)?;
        let digest = match Digest::parse(reference) {
            Ok(d) => d,
            Err(_) => repo.tags.get(reference)?.clone(),
        };
        repo.manifests.iter().find(|m| m.digest == digest)
    }

    /// Store a manifest under `reference` after the checks a registry makes:
    /// the content type matches `mediaType`, a digest reference matches the
    /// bytes, and the blobs and child manifests it points at exist (the
    /// `subject` need not: the spec allows pushing referrers first).
    /// Returns the stored digest and the subject's digest, if any.
    pub fn put_manifest(
        &mut self,
        name: &str,
        reference: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(Digest, Option<Digest>), Rejected> {
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| reject("MANIFEST_INVALID", format!("not JSON: {e}")))?;
        if let Some(declared) = doc.get("mediaType").and_then(Value::as_str) {
            if declared != content_type {
                return Err(reject(
                    "MANIFEST_INVALID",
                    format!("Content-Type {content_type} but mediaType {declared}"),
                ));
            }
        }
        let digest = Digest::of(&bytes);
        let is_digest = Digest::parse(reference).is_ok();
        if is_digest && reference != digest.to_string() {
            return Err(reject(
                "DIGEST_INVALID",
                format!("manifest hashes to {digest}, not {reference}"),
            ));
        }
        self.check_references(name, &doc)?;
        let subject = doc
            .pointer("/subject/digest")
            .and_then(Value::as_str)
            .map(|s| Digest::parse(s).map_err(|e| reject("MANIFEST_INVALID", e.to_string())))
            .transpose()?;
        let repo = self.repo(name);
        if !repo.manifests.iter().any(|m| m.digest == digest) {
            repo.manifests.push(StoredManifest {
                media_type: content_type.to_owned(),
                digest: digest.clone(),
                bytes,
            });
        }
        if !is_digest {
            repo.tags.insert(reference.to_owned(), digest.clone());
        }
        Ok((digest, subject))
    }

    fn check_references(&self, name: &str, doc: &Value) -> Result<(), Rejected> {
        let digests = |pointer: &str| -> Vec<String> {
            match doc.pointer(pointer) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|d| d.get("digest")?.as_str().map(str::to_owned))
                    .collect(),
                Some(d) => d
                    .get("digest")
                    .and_then(Value::as_str)
                    .map(|s| vec![s.to_owned()])
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        };
        for blob in digests("/config").into_iter().chain(digests("/layers")) {
            if self.blob(name, &blob).is_none() {
                return Err(reject("MANIFEST_BLOB_UNKNOWN", blob));
            }
        }
        for child in digests("/manifests") {
            if self.manifest(name, &child).is_none() {
                return Err(reject("MANIFEST_UNKNOWN", child));
            }
        }
        Ok(())
    }

    /// Tags in `name` (for checking which tags a client wrote).
    pub fn tags(&self, name: &str) -> Vec<String> {
        let mut tags: Vec<String> = self
            .repositories
            .get(name)
            .map(|r| r.tags.keys().cloned().collect())
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// Descriptors of the manifests in `name` whose subject is `subject`, in
    /// push order, shaped as the spec requires: `artifactType` from the
    /// manifest (or its config's media type for image manifests) and the
    /// manifest's annotations.
    pub fn referrers(&self, name: &str, subject: &Digest) -> Vec<Value> {
        let Some(repo) = self.repositories.get(name) else {
            return Vec::new();
        };
        let subject = subject.to_string();
        repo.manifests
            .iter()
            .filter_map(|m| {
                let doc: Value = serde_json::from_slice(&m.bytes).ok()?;
                if doc.pointer("/subject/digest")?.as_str()? != subject {
                    return None;
                }
                let mut d = Map::new();
                d.insert("mediaType".into(), json!(m.media_type));
                d.insert("digest".into(), json!(m.digest.to_string()));
                d.insert("size".into(), json!(m.bytes.len()));
                let artifact_type = doc
                    .get("artifactType")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .or_else(|| {
                        (m.media_type == OCI_MANIFEST)
                            .then(|| doc.pointer("/config/mediaType")?.as_str())
                            .flatten()
                    });
                if let Some(t) = artifact_type {
                    d.insert("artifactType".into(), json!(t));
                }
                if let Some(a) = doc.get("annotations").filter(|a| a.is_object()) {
                    d.insert("annotations".into(), a.clone());
                }
                Some(Value::Object(d))
            })
            .collect()
    }
}

/// An OCI image index listing `manifests`, the referrers response body.
pub fn index_of(manifests: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap_or_default()
}
