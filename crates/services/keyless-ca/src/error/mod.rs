//! Error types. Every rejection names the check that failed, so that a
//! client (and its operator) can tell an expired token from a wrong
//! audience from a bad proof of possession without reading server logs.
//! Tokens and keys never appear in these messages.
//!
//! Each message says what failed; the lower error it carries as its
//! `source` says why, and no message repeats its source's text. What a
//! client reads (and the CLI prints) is the whole chain, joined by ": "
//! ([`error_chain`]): the same text these errors had when each message
//! embedded its cause.

use std::sync::Arc;

use keyless_crypto::CryptoError;
use thiserror::Error;

mod ct;
mod issue;
mod setup;
pub use ct::CtError;
pub use issue::IssueError;
pub use setup::{ConfigError, SetupError};

/// An error and its causes, joined by ": ": the message an HTTP client
/// gets and the log line. A cause whose text already ends the line so far
/// (a lower error whose `Display` repeats its own source) is not repeated.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// Why a request for a certificate was refused or could not be served.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaError {
    /// The HTTP request itself is malformed (JSON shape, base64, size).
    #[error("bad request")]
    Request(#[from] RequestError),
    /// The OIDC identity token failed a check.
    #[error("identity token rejected")]
    Token(#[from] TokenError),
    /// The token's claims do not yield an identity for this issuer type.
    #[error("identity")]
    Identity(#[from] IdentityError),
    /// The submitted key or its proof of possession was refused.
    #[error("proof of possession")]
    Pop(#[from] PopError),
    /// Building or signing the certificate failed (a server fault).
    #[error("issuing the certificate failed")]
    Issue(#[from] IssueError),
    /// The CT log did not return an SCT, so no certificate is issued.
    #[error("error entering certificate in CT log")]
    Ct(#[from] CtError),
}

impl CaError {
    /// The HTTP status the Fulcio API answers with: 400 for bad input, 401
    /// for an unacceptable token, 500 for our own faults.
    pub fn http_status(&self) -> u16 {
        match self {
            CaError::Request(RequestError::TooLarge { .. }) => 413,
            CaError::Request(_) | CaError::Pop(_) | CaError::Identity(_) => 400,
            CaError::Token(TokenError::Discovery { .. }) => 503,
            CaError::Token(_) => 401,
            CaError::Issue(_) | CaError::Ct(_) => 500,
        }
    }
}

/// The request does not have the shape of a Fulcio request.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum RequestError {
    #[error("request body is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("request body is not valid JSON for this endpoint")]
    Json(#[source] Arc<serde_json::Error>),
    #[error("no OIDC identity token: expected credentials.oidcIdentityToken or an Authorization: Bearer header")]
    MissingToken,
    #[error("both credentials.oidcIdentityToken and an Authorization header were given, and they differ")]
    ConflictingTokens,
    #[error("exactly one of publicKeyRequest and certificateSigningRequest is required")]
    KeyRequestShape,
    #[error("field {field} is not valid base64")]
    Base64 { field: &'static str },
    #[error("field {field} is missing")]
    MissingField { field: &'static str },
}

/// A failed check on the OIDC identity token (SPEC-CHECKS §3.1 steps 1–5).
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum TokenError {
    #[error("token is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("token is not a compact JWS with exactly three parts")]
    Malformed,
    #[error("token {part} is not valid base64url JSON")]
    BadEncoding { part: &'static str },
    #[error("token has no string iss claim")]
    MissingIssuer,
    #[error("unsupported issuer {issuer:?}: not in the CA's issuer allow-list")]
    UnknownIssuer { issuer: String },
    #[error("token alg \"none\" (unsigned) is never accepted")]
    AlgNone,
    #[error("token alg {alg} is a MAC; only asymmetric signatures are accepted")]
    SymmetricAlg { alg: String },
    #[error("token alg {alg:?} is not in the allow-list")]
    UnsupportedAlg { alg: String },
    #[error("token alg {alg} is not advertised by the issuer")]
    AlgNotAdvertised { alg: String },
    #[error("OIDC discovery or JWKS fetch for {issuer} failed")]
    Discovery {
        issuer: String,
        #[source]
        source: FetchError,
    },
    #[error("token key id {kid:?} is not in the issuer's JWKS")]
    UnknownKid { kid: String },
    #[error("token has no kid and the issuer's JWKS has {keys} usable keys")]
    AmbiguousKey { keys: usize },
    #[error("token signature does not verify with the issuer's key")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid (nbf in the future)")]
    NotYetValid,
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    #[error("token is missing the required {claim} claim")]
    MissingClaim { claim: String },
    #[error("token audience does not contain {expected:?}")]
    WrongAudience { expected: String },
    #[error("token iss does not equal the configured issuer {expected:?}")]
    WrongIssuer { expected: String },
    #[error("token claims are invalid: {0}")]
    Claims(String),
}

/// The claims do not describe an identity the issuer type allows
/// (SPEC-CHECKS §3.1 step 6).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    #[error("claim {claim} is missing or not a string")]
    MissingClaim { claim: String },
    #[error("email_verified is not true")]
    EmailNotVerified,
    #[error("email {0:?} is not a valid address")]
    InvalidEmail(String),
    #[error("template for {field} needs claim {claim}, which the token does not have")]
    TemplateClaim { field: String, claim: String },
    #[error("template for {field} is malformed")]
    Template {
        field: String,
        #[source]
        source: crate::template::TemplateError,
    },
    #[error("template for {field} is malformed: unknown extension name")]
    UnknownExtension { field: String },
    #[error("no CI issuer metadata named {0:?} is configured")]
    UnknownCiProvider(String),
    #[error("subject {subject:?} is not a SPIFFE ID in trust domain {trust_domain:?}")]
    Spiffe {
        subject: String,
        trust_domain: String,
    },
    #[error("kubernetes.io claim lacks a non-empty {0}")]
    Kubernetes(&'static str),
    #[error("subject {subject:?} does not match subject domain {domain:?}")]
    SubjectDomain { subject: String, domain: String },
    #[error("issuer type {0:?} is not supported")]
    UnsupportedType(String),
}

/// The submitted key or its proof of possession was refused (SPEC-CHECKS §3.1 step 7).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopError {
    #[error("public key is malformed")]
    MalformedKey(#[source] CryptoError),
    #[error("public key is malformed")]
    MalformedKeyDer(#[source] der::Error),
    #[error("public key is malformed: RSA key bit string")]
    RsaBitString,
    #[error("key type not allowed: {0}")]
    UnsupportedKey(String),
    #[error("publicKey.algorithm {declared:?} does not match the key ({actual})")]
    AlgorithmMismatch { declared: String, actual: String },
    #[error("CSR is malformed")]
    MalformedCsr(#[source] der::Error),
    #[error("CSR is malformed")]
    CsrPem(#[source] CryptoError),
    #[error("CSR is malformed: PEM label {0:?}")]
    CsrPemLabel(String),
    #[error("CSR signature algorithm {0} is not supported")]
    CsrAlgorithm(String),
    #[error("CSR self-signature does not verify")]
    CsrSignature,
    #[error(
        "proofOfPossession does not verify over the token's {claim} claim with the submitted key"
    )]
    Signature { claim: String },
}

/// Why an issuer's discovery document or JWKS could not be had. `Clone`
/// (lower errors behind `Arc`): a failure is remembered for a while and
/// answered to every token of that issuer.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum FetchError {
    #[error("invalid URL {url:?}")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("scheme {scheme} not allowed for {url:?} (https only, http only on loopback)")]
    Scheme { scheme: String, url: String },
    #[error("GET {url}")]
    Http {
        url: String,
        #[source]
        source: Arc<reqwest::Error>,
    },
    #[error("GET {url}: HTTP {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("GET {url}: response larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("GET {url}: not JSON")]
    Json {
        url: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
    #[error("discovery document names a different issuer")]
    IssuerMismatch,
    #[error("discovery document has no jwks_uri")]
    NoJwksUri,
    #[error("JWKS has no keys array")]
    NoKeys,
    #[error("verifier state poisoned")]
    Poisoned,
    #[error("{max} OIDC fetches are already in flight, the most allowed; try again shortly")]
    Busy { max: usize },
    #[error("no answer within {ms} ms")]
    Timeout { ms: u128 },
}
