//! Image references: `host[:port]/repo[:tag][@sha256:…]`.
//!
//! The grammar follows the distribution reference grammar, and the Docker Hub
//! defaults follow go-containerregistry (which cosign uses), so that a name
//! typed for cosign means the same repository here:
//! - the first path component is a registry only if it contains `.` or `:` or
//!   is `localhost`; otherwise the registry is Docker Hub;
//! - Docker Hub is spelled `index.docker.io` (`docker.io` is an alias), and a
//!   one-component Hub repository gets the `library/` prefix;
//! - a reference with neither tag nor digest means tag `latest`.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

/// The registry name go-containerregistry uses for Docker Hub.
pub const DOCKER_HUB_REGISTRY: &str = "index.docker.io";
const DOCKER_HUB_ALIAS: &str = "docker.io";
const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A reference that could not be parsed, with the input and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {input:?}: {kind}")]
pub struct ReferenceError {
    /// The text as given.
    pub input: String,
    /// What was wrong with it.
    pub kind: ReferenceErrorKind,
}

/// The part of a reference that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    #[error("it is empty")]
    Empty,
    #[error("registry host {0:?} is not a valid host[:port]")]
    InvalidRegistry(String),
    #[error(
        "repository path component {0:?} is invalid (lowercase letters, digits and single \
         separators '.', '_', '__' or '-' between them)"
    )]
    InvalidRepository(String),
    #[error("repository name is longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("tag {0:?} is invalid (1-128 of [A-Za-z0-9_.-], not starting with '.' or '-')")]
    InvalidTag(String),
    #[error("{0}")]
    InvalidDigest(DigestError),
}

/// A repository in a registry: where manifests and blobs live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// The registry host (with port if any), e.g. `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry, e.g. `library/alpine`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A reference to `tag` in this repository.
    pub fn tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        validate_tag(tag).map_err(|kind| ReferenceError {
            input: format!("{self}:{tag}"),
            kind,
        })?;
        Ok(Reference {
            repository: self.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// A reference to the manifest `digest` in this repository.
    pub fn digest(&self, digest: Digest) -> Reference {
        Reference {
            repository: self.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// Is the registry on this machine? Such registries are the only ones where
    /// tests run plain HTTP; the client still only does so when allowed.
    pub fn is_loopback(&self) -> bool {
        let host = host_without_port(&self.registry);
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "[::1]"
            || host.split('.').next() == Some("127") && host.split('.').count() == 4
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// A parsed image reference. Invariant: the repository is valid, and at least
/// one of tag and digest is set (the implicit `latest` is filled in).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parse `host[:port]/repo[:tag][@sha256:…]` with Docker Hub defaults.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let err = |kind| ReferenceError {
            input: input.to_owned(),
            kind,
        };
        if input.is_empty() {
            return Err(err(ReferenceErrorKind::Empty));
        }
        let (rest, digest) = match input.rsplit_once('@') {
            Some((rest, d)) => (
                rest,
                Some(Digest::parse(d).map_err(|e| err(ReferenceErrorKind::InvalidDigest(e)))?),
            ),
            None => (input, None),
        };
        // A tag is the part after the last ':' that is not followed by '/',
        // so `host:5000/repo` keeps its port.
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag).map_err(err)?;
        }
        if name.is_empty() {
            return Err(err(ReferenceErrorKind::Empty));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                validate_registry(first).map_err(err)?;
                (first.to_owned(), path.to_owned())
            }
            _ => (DOCKER_HUB_REGISTRY.to_owned(), name.to_owned()),
        };
        let registry = if registry == DOCKER_HUB_ALIAS {
            DOCKER_HUB_REGISTRY.to_owned()
        } else {
            registry
        };
        let path = if registry == DOCKER_HUB_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        for component in path.split('/') {
            if !valid_path_component(component) {
                return Err(err(ReferenceErrorKind::InvalidRepository(
                    component.to_owned(),
                )));
            }
        }
        if registry.len() + 1 + path.len() > MAX_NAME_LEN {
            return Err(err(ReferenceErrorKind::NameTooLong));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_owned()),
        };
        Ok(Self {
            repository: Repository {
                registry,
                name: path,
            },
            tag,
            digest,
        })
    }

    /// The repository the reference points into.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The tag, if the reference names one (possibly the implicit `latest`).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to put after `/manifests/` in a URL: the digest when pinned (a
    /// digest cannot move, a tag can), else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            // Unreachable by construction; the tag default keeps it total.
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }

    /// The same repository pinned to `digest` (the tag is dropped).
    pub fn with_digest(&self, digest: Digest) -> Self {
        self.repository.digest(digest)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn host_without_port(registry: &str) -> &str {
    if registry.starts_with('[') {
        return match registry.find(']') {
            Some(i) => &registry[..=i],
            None => registry,
        };
    }
    registry.split(':').next().unwrap_or(registry)
}

fn validate_registry(registry: &str) -> Result<(), ReferenceErrorKind> {
    let bad = || ReferenceErrorKind::InvalidRegistry(registry.to_owned());
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(bad());
        }
        match after {
            "" => ("", None),
            p => ("", Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if port.parse::<u32>().map_err(|_| bad())? > 65535 {
            return Err(bad());
        }
    }
    if !registry.starts_with('[') {
        if host.is_empty() {
            return Err(bad());
        }
        for label in host.split('.') {
            let ok = !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__', or one or more '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn validate_tag(tag: &str) -> Result<(), ReferenceErrorKind> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_TAG_LEN
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceErrorKind::InvalidTag(tag.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn docker_hub_defaults() {
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.repository().registry(), "index.docker.io");
        assert_eq!(r.repository().name(), "library/alpine");
        assert_eq!(r.tag(), Some("latest"));
        let r = Reference::parse("docker.io/foo/bar:1.0").unwrap();
        assert_eq!(r.to_string(), "index.docker.io/foo/bar:1.0");
        let r = Reference::parse("user/app").unwrap();
        assert_eq!(r.repository().to_string(), "index.docker.io/user/app");
    }

    #[test]
    fn registries_ports_tags_digests() {
        let r = Reference::parse("127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(r.repository().registry(), "127.0.0.1:5000");
        assert_eq!(r.repository().name(), "a/b");
        assert_eq!(r.tag(), Some("v1"));
        assert!(r.repository().is_loopback());

        let r = Reference::parse(&format!("localhost:5000/app@{D}")).unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest().unwrap().to_string(), D);
        assert_eq!(r.manifest_reference(), D);
        assert!(r.repository().is_loopback());

        let r = Reference::parse(&format!("ghcr.io/o/app:v2@{D}")).unwrap();
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.manifest_reference(), D);
        assert_eq!(r.to_string(), format!("ghcr.io/o/app:v2@{D}"));
        assert!(!r.repository().is_loopback());

        let r = Reference::parse("localhost/app").unwrap();
        assert_eq!(r.repository().registry(), "localhost");
        let r = Reference::parse("[::1]:5000/app").unwrap();
        assert_eq!(r.repository().registry(), "[::1]:5000");
        assert!(r.repository().is_loopback());
    }

    #[test]
    fn malformed_references() {
        let cases = [
            "",
            "UPPER/case",
            "ghcr.io/Owner/app",
            "ghcr.io/app:",
            "ghcr.io/app:-bad",
            "ghcr.io/app@sha256:1234",
            "ghcr.io/app@md5:00",
            "host:99999/app",
            "host:port/app",
            "ghcr.io//app",
            "ghcr.io/app/",
            "ghcr.io/a..b",
            "-bad.io/app",
            ":tag",
        ];
        for case in cases {
            assert!(Reference::parse(case).is_err(), "{case:?} should not parse");
        }
        let long = format!("ghcr.io/{}", "a".repeat(300));
        assert_eq!(
            Reference::parse(&long).unwrap_err().kind,
            ReferenceErrorKind::NameTooLong
        );
        let e = Reference::parse("ghcr.io/app@sha256:xyz").unwrap_err();
        assert!(e.to_string().contains("ghcr.io/app@sha256:xyz"), "{e}");
    }

    #[test]
    fn path_components() {
        for ok in ["a", "a.b", "a_b", "a__b", "a---b", "a-b.c_d"] {
            assert!(valid_path_component(ok), "{ok}");
        }
        for bad in ["", "_a", "a_", "a___b", "a._b", "a.-b", "A"] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }
}
