//! Fulcio-compatible certificate authority and the CT log it submits
//! precertificates to.
//!
//! ```text
//! config    issuer allow-list (OIDCIssuers, MetaIssuers, CIIssuerMetadata)
//! token     size/shape → issuer → discovery+JWKS → signature → claims
//! identity  claims → SAN, challenge, Fulcio extensions (templates for CI)
//! pop       challenge signature or CSR self-signature; key policy
//! profile   the certificate profile (SPEC-CHECKS §3.2)
//! ct        the CtSubmitter trait, an in-memory RFC 6962 log
//! sct       the SCT type and its TLS encodings
//! ct_front  chain checks + SCT signing shared by both logs
//! ct_durable the CA's CT log on the durable log core (keyless-log):
//!           SCT only after the entry is committed
//! ct_leaf   the static-ct-api TileLeaf the durable log stores
//! ct_issuers the issuers its entries name (files, /ct/issuer/<fp>)
//! ct_note   the RFC 6962 tree head as a checkpoint note signature
//! ct_origin the checkpoint origin (static-ct-api), fixed when the log is made
//! ct_serving CtHttp (what the /ct routes serve) and their error answers
//! ct_http   /ct/v1/add-pre-chain, add-chain, get-sth, get-roots
//! ct_tiles  /ct/checkpoint, /ct/tile/*, /ct/tile/data/*: static-ct-api reads
//! ct_remote a remote RFC 6962 log (URL + key): SCTs verified, fail-closed
//! ca        precert → SCT → final certificate, fail-closed
//! pki       root / intermediate / CT keys in the data dir, self-check
//! signer    CaSigner / CaKey: the issuing key, in software or on a token
//! pkcs11    the issuing key on a PKCS#11 token (HSM, SoftHSM2)
//! trust     the CA's part of trusted_root.json
//! api       Fulcio v2 / v1 HTTP, /ct/v1/*, /trusted_root.json
//! state     CaConfig, CaState: the request pipeline
//! server    serve / serve_with_shutdown
//! ```
//!
//! The CLI calls [`CaConfig`] + [`serve`]; tests and embedders use
//! [`CaState::new`] + [`router`].
//!
//! # CA keys on a PKCS#11 token
//!
//! By default the root and intermediate keys are files in the data
//! directory (0600, optionally encrypted PKCS#8). With
//! [`KeyOptions::pkcs11`] set to a [`Pkcs11Config`] (module path, token
//! label, key label, and the *name* of the environment variable holding
//! the user PIN), the issuing intermediate key stays on the token instead:
//! an ECDSA P-256 or P-384 key used through `CKM_ECDSA` over a digest
//! computed in software, in a small pool of sessions logged in once at
//! start-up ([`pkcs11`]). On first start the root (still a software key in
//! the data directory: it signs nothing after that) issues the
//! intermediate certificate for the public key read from the token
//! (`CKA_EC_POINT`, `CKA_EC_PARAMS`); later starts check that the token key
//! matches that certificate. [`Pkcs11Config::generate_key`] creates the
//! key pair on the token (sensitive, non-extractable) when the label is
//! not found. Issuance does not know where the key is: it signs through
//! [`CaSigner`] / [`CaKey`]. Tested against SoftHSM2
//! (`tests/pkcs11.rs`; `scripts/ci/install-softhsm.sh` installs it).

pub mod api;
pub mod ca;
pub mod config;
pub mod ct;
pub mod ct_durable;
mod ct_front;
pub mod ct_http;
mod ct_issuers;
pub mod ct_leaf;
pub mod ct_note;
pub mod ct_origin;
pub mod ct_remote;
mod ct_serving;
mod ct_tiles;
pub mod error;
pub mod identity;
pub mod pkcs11;
pub mod pki;
pub mod pop;
pub mod profile;
mod sct;
mod server;
pub mod signer;
mod state;
pub mod template;
pub mod token;
pub mod trust;

pub use api::router;
pub use config::{IssuerConfig, IssuerType, Issuers, IssuersConfig};
pub use ct::{CtLog, CtSubmitter, SignedCertificateTimestamp};
pub use ct_durable::{CtLogOptions, DurableCtLog};
pub use ct_http::{ct_router, CtHttp};
pub use ct_remote::RemoteCtLog;
pub use error::{
    error_chain, CaError, ConfigError, CtError, FetchError, IdentityError, IssueError, PopError,
    RequestError, SetupError, TokenError,
};
pub use keyless_crypto::KeyAlgorithm;
pub use pkcs11::{Pkcs11Config, Pkcs11Error};
pub use pki::{CaMaterial, KeyOptions};
pub use server::{serve, serve_with_shutdown};
pub use signer::{CaKey, CaSigner};
pub use state::{CaConfig, CaState, IssuersSource};
pub use token::{TokenPolicy, TokenVerifier};
pub use trust::{trusted_root, trusted_root_json, write_trusted_root};
