//! Witness policies in the C2SP tlog-policy format
//! (<https://c2sp.org/tlog-policy>): which witnesses must have cosigned a
//! log's checkpoint before an inclusion proof against it counts.
//!
//! ```text
//! # comments and blank lines are ignored
//! log <vkey> [<url>]                  optional: the log must be one of these
//! witness <name> <vkey> [<url>]       a cosignature/v1 (type 0x04) vkey
//! group <name> <all|any|k> <name>...  k of these witnesses/groups
//! quorum <name>|none                  exactly one
//! ```
//!
//! Names are defined before they are used (so groups cannot loop), a name
//! appears at most once in a group, and two witnesses (or two logs) with
//! the same key are refused, so no witness counts twice. Whitespace is
//! ASCII space and tab only. The file is capped at [`MAX_POLICY_SIZE`]
//! bytes and [`MAX_ITEMS`] logs, witnesses and groups each (the spec
//! recommends supporting at least 32). Anything else, an unknown keyword
//! included, is an error: a policy that is read differently than it was
//! meant would be a weaker one.
//!
//! Log lines take Ed25519 vkeys (type 0x01), the only log key type C2SP
//! vkeys define; a policy for a log with another key type (the dev stack's
//! ECDSA log, Rekor v1) lists no `log` line and relies on the trusted root
//! for the log, as the spec allows.

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::PublicKey;
use keyless_tlog::{CosignatureError, CosignatureVerifier, NoteVerifier, SignedNote};
use thiserror::Error;

/// Largest policy file read.
pub const MAX_POLICY_SIZE: usize = 64 * 1024;
/// At most this many logs, witnesses and groups (each).
pub const MAX_ITEMS: usize = 64;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a policy file could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyFileError {
    #[error("the policy is {0} bytes, more than the {MAX_POLICY_SIZE}-byte limit")]
    TooLarge(usize),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("line {line}: witness vkey")]
    WitnessKey {
        line: usize,
        #[source]
        source: CosignatureError,
    },
    #[error("the policy has no quorum line")]
    NoQuorum,
}

/// A group member or the quorum: a witness or an earlier group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Node>,
}

/// One witness of the policy.
#[derive(Debug, Clone)]
pub struct PolicyWitness {
    /// The name in the policy file (not the vkey's name).
    pub name: String,
    pub key: CosignatureVerifier,
    /// The vkey as the policy writes it.
    pub vkey: String,
    /// Its submission prefix, where the policy gives one: a log asks the
    /// witness there (`keyless server log --witness-policy`).
    pub url: Option<String>,
}

/// A parsed witness policy.
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    source: String,
    logs: Vec<NoteVerifier>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` is `quorum none`.
    quorum: Option<Node>,
}

fn vkey_parts(vkey: &str) -> Option<(&str, &str, Vec<u8>)> {
    let mut parts = vkey.splitn(3, '+');
    let (name, id, key) = (parts.next()?, parts.next()?, parts.next()?);
    Some((name, id, B64.decode(key).ok()?))
}

/// A log line's vkey: Ed25519 (type 0x01), named as the log's origin.
fn log_verifier(vkey: &str) -> Result<NoteVerifier, String> {
    let (name, id, material) =
        vkey_parts(vkey).ok_or("log vkey is not <name>+<hex key ID>+<base64 key>")?;
    match material.split_first() {
        Some((0x01, raw)) if raw.len() == 32 => {
            let mut spki = ED25519_SPKI_PREFIX.to_vec();
            spki.extend_from_slice(raw);
            let key = PublicKey::from_spki_der(&spki).map_err(|e| format!("log vkey: {e}"))?;
            let verifier = NoteVerifier::new(name, key).map_err(|e| format!("log vkey: {e}"))?;
            if !id.eq_ignore_ascii_case(&hex::encode(verifier.key_hint())) {
                return Err("log vkey key ID does not match its name and key".into());
            }
            Ok(verifier)
        }
        Some((t, _)) => Err(format!(
            "log vkey has signature type {t:#04x}; only Ed25519 (0x01) log keys are supported"
        )),
        None => Err("log vkey has no key".into()),
    }
}

impl WitnessPolicy {
    /// Parse a policy; `source` names it in errors (e.g. its file path).
    pub fn parse(text: &str, source: &str) -> Result<Self, PolicyFileError> {
        if text.len() > MAX_POLICY_SIZE {
            return Err(PolicyFileError::TooLarge(text.len()));
        }
        let mut policy = Self {
            source: source.to_string(),
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut has_quorum = false;
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            let err = |reason: String| PolicyFileError::Line { line: n, reason };
            if let Some(c) = line
                .chars()
                .find(|&c| (c < ' ' && c != '\t') || c == '\x7f')
            {
                return Err(err(format!("control character U+{:04X}", c as u32)));
            }
            let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            match words.as_slice() {
                [] => {}
                [first, ..] if first.starts_with('#') => {}
                ["log", vkey, rest @ ..] if rest.len() <= 1 => {
                    let v = log_verifier(vkey).map_err(err)?;
                    if policy.logs.iter().any(|l| l.key() == v.key()) {
                        return Err(err("a log with this key is already listed".into()));
                    }
                    policy.push_log(v).map_err(err)?;
                }
                ["witness", name, vkey, rest @ ..] if rest.len() <= 1 => {
                    policy.check_new_name(name).map_err(err)?;
                    let key = CosignatureVerifier::from_vkey(vkey)
                        .map_err(|source| PolicyFileError::WitnessKey { line: n, source })?;
                    if policy
                        .witnesses
                        .iter()
                        .any(|w| w.key.raw_key() == key.raw_key())
                    {
                        return Err(err("a witness with this key is already listed".into()));
                    }
                    if policy.witnesses.len() == MAX_ITEMS {
                        return Err(err(format!("more than {MAX_ITEMS} witnesses")));
                    }
                    policy.witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        key,
                        vkey: vkey.to_string(),
                        url: rest.first().map(|u| u.to_string()),
                    });
                }
                ["group", name, threshold, members @ ..] if !members.is_empty() => {
                    policy.check_new_name(name).map_err(err)?;
                    let group = policy.group(name, threshold, members).map_err(err)?;
                    if policy.groups.len() == MAX_ITEMS {
                        return Err(err(format!("more than {MAX_ITEMS} groups")));
                    }
                    policy.groups.push(group);
                }
                ["quorum", name] => {
                    if has_quorum {
                        return Err(err("a second quorum line".into()));
                    }
                    has_quorum = true;
                    policy.quorum = if *name == "none" {
                        None
                    } else {
                        Some(policy.lookup(name).map_err(err)?)
                    };
                }
                [keyword, ..] => {
                    return Err(err(format!(
                        "{keyword:?} is not a policy line (log, witness, group, quorum) with the right number of items"
                    )))
                }
            }
        }
        if !has_quorum {
            return Err(PolicyFileError::NoQuorum);
        }
        Ok(policy)
    }

    fn push_log(&mut self, v: NoteVerifier) -> Result<(), String> {
        if self.logs.len() == MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} logs"));
        }
        self.logs.push(v);
        Ok(())
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" {
            return Err("\"none\" is reserved".into());
        }
        if self.lookup(name).is_ok() {
            return Err(format!("{name:?} is already defined"));
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Result<Node, String> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Ok(Node::Witness(i));
        }
        if let Some(i) = self.groups.iter().position(|g| g.name == name) {
            return Ok(Node::Group(i));
        }
        Err(format!("{name:?} is not defined on an earlier line"))
    }

    fn group(&self, name: &str, threshold: &str, members: &[&str]) -> Result<Group, String> {
        let mut nodes = Vec::with_capacity(members.len());
        for m in members {
            let node = self.lookup(m)?;
            if nodes.contains(&node) {
                return Err(format!("{m:?} is listed twice in group {name:?}"));
            }
            nodes.push(node);
        }
        let threshold = match threshold {
            "all" => nodes.len(),
            "any" => 1,
            k if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => k
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=nodes.len()).contains(k))
                .ok_or_else(|| format!("threshold {k} is not between 1 and {}", nodes.len()))?,
            other => return Err(format!("threshold {other:?} is not all, any or a number")),
        };
        Ok(Group {
            name: name.to_string(),
            threshold,
            members: nodes,
        })
    }

    /// Where the policy came from, as given to [`WitnessPolicy::parse`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The logs the policy lists (empty: the trusted root decides).
    pub fn logs(&self) -> &[NoteVerifier] {
        &self.logs
    }

    /// The witnesses, in file order.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// The witnesses (by index) whose cosignature on `note` verifies.
    /// Lines from anyone else are ignored, as C2SP asks.
    pub fn cosigners(&self, note: &SignedNote) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for (i, w) in self.witnesses.iter().enumerate() {
            if note
                .signatures()
                .iter()
                .filter(|s| w.key.attributes(s))
                .any(|s| w.key.verify(note.body(), s).is_ok())
            {
                out.insert(i);
            }
        }
        out
    }

    /// Whether the witnesses in `cosigned` satisfy the quorum.
    pub fn satisfied(&self, cosigned: &BTreeSet<usize>) -> bool {
        // Groups only name earlier groups, so one pass in order decides all.
        let mut groups = Vec::with_capacity(self.groups.len());
        let holds = |node: &Node, groups: &[bool]| match *node {
            Node::Witness(i) => cosigned.contains(&i),
            Node::Group(g) => groups.get(g).copied().unwrap_or(false),
        };
        for g in &self.groups {
            let count = g.members.iter().filter(|m| holds(m, &groups)).count();
            groups.push(count >= g.threshold);
        }
        match &self.quorum {
            None => true,
            Some(node) => holds(node, &groups),
        }
    }

    /// The quorum in words, for error messages.
    pub fn quorum_text(&self) -> String {
        fn describe(p: &WitnessPolicy, node: Node, depth: usize) -> String {
            match node {
                Node::Witness(i) => p.witnesses[i].name.clone(),
                Node::Group(g) if depth > 3 => p.groups[g].name.clone(),
                Node::Group(g) => {
                    let group = &p.groups[g];
                    let members: Vec<String> = group
                        .members
                        .iter()
                        .map(|m| describe(p, *m, depth + 1))
                        .collect();
                    format!("{} of [{}]", group.threshold, members.join(", "))
                }
            }
        }
        match self.quorum {
            None => "none".into(),
            Some(node) => describe(self, node, 0),
        }
    }
}

#[cfg(test)]
#[path = "witness_policy_tests.rs"]
pub(crate) mod tests;
