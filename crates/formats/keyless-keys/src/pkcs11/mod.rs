//! A service key on a PKCS#11 token (an HSM, a cloud HSM's PKCS#11
//! library, or SoftHSM2 for tests), through the `cryptoki` crate. First
//! written for the CA's intermediate key; any service that signs through
//! [`keyless_crypto::Signer`] can use it.
//!
//! # What is configured
//!
//! [`Pkcs11Config`]: the module (the vendor's `.so`), the token's label,
//! the key's label (`CKA_LABEL`, shared by the private and public key
//! objects), and the *name* of the environment variable holding the user
//! PIN. The PIN itself is never a flag value or a config field (so it is
//! not in `ps`, shell history or `Debug` output), is read once at start-up
//! into a buffer wiped on drop, and is never logged or put in an error.
//!
//! # How signing works
//!
//! The token holds an ECDSA P-256 or P-384 key. We hash the TBS in software
//! (SHA-256 or SHA-384, the curve's hash as Fulcio uses), ask the token for
//! a raw `CKM_ECDSA` signature over the digest — the one ECDSA mechanism
//! every token implements, unlike `CKM_ECDSA_SHA384` — and convert the
//! token's fixed-size `r || s` into the DER `Ecdsa-Sig-Value` that X.509
//! carries, with the `der` crate's `INTEGER` encoder.
//!
//! # Sessions
//!
//! Opening a session and logging in costs round trips to the device, so
//! [`Pkcs11Key`] opens a small pool of sessions once ([`Pkcs11Config::sessions`],
//! default 2: the CA signs a precertificate and a certificate per request,
//! and concurrent requests should not queue behind one device call) and
//! keeps them for its lifetime. The first session logs in; PKCS#11 login
//! state belongs to the application and token, so the others are logged in
//! too. A `cryptoki` session is `Send` but not `Sync` (PKCS#11 forbids two
//! concurrent calls on one session), so each sits behind a mutex.
//!
//! The module is initialised (`C_Initialize`) once per process and never
//! finalised: two `Pkcs11` contexts over the same library would share its
//! global state, and dropping one would `C_Finalize` the other's sessions.
//!
//! # Why this is not behind a cargo feature
//!
//! `cryptoki` loads the module at run time with `dlopen`; nothing is
//! linked and no C headers are needed at build time (its bindings are
//! pre-generated). The dependency costs a few small crates of compile
//! time, while a feature would mean two configurations to build and test
//! and `--pkcs11-*` flags that exist but fail at run time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, PublicKey, SignatureAlgorithm};

use keyless_crypto::{CryptoError, Signer};

mod config;
mod ec;
mod error;
mod token;

pub use config::{Pkcs11Config, DEFAULT_PIN_ENV, SOFTHSM2_MODULE};
use ec::{curve_from_params, ec_point, public_key};
pub use ec::{raw_signature_to_der, EcError};
pub use error::Pkcs11Error;
use token::{find_slot, generate_key_pair, module_context, read_pin, GenerateError};

/// How well the token protects the private key (`CKA_SENSITIVE`,
/// `CKA_EXTRACTABLE`), as the token reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    pub sensitive: bool,
    pub extractable: bool,
}

/// An ECDSA key on a PKCS#11 token, with logged-in sessions to sign with.
pub struct Pkcs11Key {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    private: ObjectHandle,
    public: PublicKey,
    hash: HashAlgorithm,
    field_len: usize,
    protection: KeyProtection,
    token: String,
    label: String,
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("token", &self.token)
            .field("label", &self.label)
            .field("algorithm", &self.public.algorithm())
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// Fixed data signed and verified at start-up.
const SELF_TEST_MESSAGE: &[u8] = b"keyless-keys: PKCS#11 key self-test";

impl Pkcs11Key {
    /// Load the module, find the token, log in with the PIN from
    /// `config.pin_env`, find (or, if configured, generate on the curve
    /// `generate_algorithm`) the key pair labelled `config.key_label`,
    /// read its public key, and check with one signature that the private
    /// and public key objects belong together.
    pub fn open(
        config: &Pkcs11Config,
        generate_algorithm: KeyAlgorithm,
    ) -> Result<Self, Pkcs11Error> {
        let ctx = module_context(&config.module)?;
        let token = config.token_label.clone();
        let label = config.key_label.clone();
        let ck = |operation: &'static str| {
            let token = token.clone();
            move |source: CkError| Pkcs11Error::Token {
                operation,
                token,
                source,
            }
        };
        let slot = find_slot(&ctx, config)?;

        let first = ctx.open_ro_session(slot).map_err(ck("C_OpenSession"))?;
        {
            let pin = read_pin(&config.pin_env)?;
            match first.login_with_raw(UserType::User, &pin) {
                Ok(()) => {}
                // Login state is per application and token, not per
                // session: another key object in this process (a second
                // CA on the same token, a reload) is already logged in.
                Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                    return Err(Pkcs11Error::WrongPin {
                        token,
                        var: config.pin_env.clone(),
                    })
                }
                Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                    return Err(Pkcs11Error::PinLocked { token })
                }
                Err(source) => return Err(Pkcs11Error::Login { token, source }),
            }
        } // the PIN buffer is wiped here

        let label_attr = || Attribute::Label(label.as_bytes().to_vec());
        let mut private_keys = first
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), label_attr()])
            .map_err(ck("C_FindObjects"))?;
        if private_keys.is_empty() && config.generate_key {
            generate_key_pair(&ctx, slot, &label, generate_algorithm).map_err(|e| match e {
                GenerateError::Unsupported(reason) => Pkcs11Error::UnsupportedKey {
                    label: label.clone(),
                    token: token.clone(),
                    reason,
                },
                GenerateError::Curve(source) => Pkcs11Error::Curve {
                    label: label.clone(),
                    token: token.clone(),
                    source,
                },
                GenerateError::Token(op, source) => Pkcs11Error::Token {
                    operation: op,
                    token: token.clone(),
                    source,
                },
            })?;
            tracing::info!(token = %token, key = %label, algorithm = ?generate_algorithm, "generated the key pair on the PKCS#11 token");
            private_keys = first
                .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), label_attr()])
                .map_err(ck("C_FindObjects"))?;
        }
        let private = match private_keys.as_slice() {
            [] => return Err(Pkcs11Error::KeyNotFound { label, token }),
            [one] => *one,
            more => {
                return Err(Pkcs11Error::AmbiguousKey {
                    label,
                    token,
                    class: "private key",
                    count: more.len(),
                })
            }
        };
        let unsupported = |reason: String| Pkcs11Error::UnsupportedKey {
            label: label.clone(),
            token: token.clone(),
            reason,
        };

        let attrs = first
            .get_attributes(
                private,
                &[
                    AttributeType::KeyType,
                    AttributeType::Id,
                    AttributeType::EcParams,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                ],
            )
            .map_err(ck("C_GetAttributeValue"))?;
        let mut id = Vec::new();
        let mut private_params = None;
        let mut protection = KeyProtection {
            sensitive: false,
            extractable: true,
        };
        for a in attrs {
            match a {
                Attribute::KeyType(t) if t != KeyType::EC => {
                    return Err(unsupported(format!(
                        "key type {t}: only EC (ECDSA P-256 / P-384) keys are supported"
                    )))
                }
                Attribute::Id(v) => id = v,
                Attribute::EcParams(p) => private_params = Some(p),
                Attribute::Sensitive(b) => protection.sensitive = b,
                Attribute::Extractable(b) => protection.extractable = b,
                _ => {}
            }
        }

        let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY), label_attr()];
        if !id.is_empty() {
            template.push(Attribute::Id(id));
        }
        let public_object = match first
            .find_objects(&template)
            .map_err(ck("C_FindObjects"))?
            .as_slice()
        {
            [] => return Err(Pkcs11Error::PublicKeyNotFound { label, token }),
            [one] => *one,
            more => {
                return Err(Pkcs11Error::AmbiguousKey {
                    label,
                    token,
                    class: "public key",
                    count: more.len(),
                })
            }
        };
        let mut params = None;
        let mut point = None;
        for a in first
            .get_attributes(
                public_object,
                &[AttributeType::EcParams, AttributeType::EcPoint],
            )
            .map_err(ck("C_GetAttributeValue"))?
        {
            match a {
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let params =
            params.ok_or_else(|| unsupported("the public key has no CKA_EC_PARAMS".into()))?;
        let point =
            point.ok_or_else(|| unsupported("the public key has no CKA_EC_POINT".into()))?;
        if private_params.as_ref().is_some_and(|p| p != &params) {
            return Err(unsupported(
                "the private and public key objects are on different curves".into(),
            ));
        }
        let curve_err = |source: EcError| Pkcs11Error::Curve {
            label: label.clone(),
            token: token.clone(),
            source,
        };
        let (algorithm, curve, field_len, hash) = curve_from_params(&params).map_err(curve_err)?;
        let public = public_key(curve, &ec_point(&point, field_len).map_err(curve_err)?)
            .map_err(curve_err)?;

        if !protection.sensitive || protection.extractable {
            tracing::warn!(token = %token, key = %label, ?protection,
                "the key on the PKCS#11 token can be exported (CKA_SENSITIVE false or CKA_EXTRACTABLE true)");
        }

        let mut sessions = vec![Mutex::new(first)];
        for _ in 1..config.sessions.max(1) {
            // Logged in already: login state is shared by the application's sessions.
            sessions.push(Mutex::new(
                ctx.open_ro_session(slot).map_err(ck("C_OpenSession"))?,
            ));
        }
        let key = Self {
            sessions,
            next: AtomicUsize::new(0),
            private,
            public,
            hash,
            field_len,
            protection,
            token,
            label,
        };

        // The public key object might not belong to the private key (a
        // stale import, an ID clash): one signature proves they match
        // before a certificate is issued for the public one.
        let sig =
            Signer::sign(&key, SELF_TEST_MESSAGE).map_err(|source| Pkcs11Error::SelfTestSign {
                label: key.label.clone(),
                token: key.token.clone(),
                source,
            })?;
        key.public.verify(key.signature_algorithm(), SELF_TEST_MESSAGE, &sig).map_err(|_| Pkcs11Error::SelfTest {
            label: key.label.clone(),
            token: key.token.clone(),
            reason: "the signature does not verify with the public key object's CKA_EC_POINT: they are not one key pair".into(),
        })?;
        tracing::info!(token = %key.token, key = %key.label, algorithm = ?algorithm, sessions = key.sessions.len(),
            "signing key on PKCS#11 token");
        Ok(key)
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token
    }

    /// The key pair's label.
    pub fn key_label(&self) -> &str {
        &self.label
    }

    /// `CKA_SENSITIVE` / `CKA_EXTRACTABLE` of the private key as read at
    /// start-up (a warning is logged if the key can leave the token).
    pub fn protection(&self) -> KeyProtection {
        self.protection
    }

    /// A free session if there is one, else wait for the next in turn.
    fn session(&self) -> MutexGuard<'_, Session> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.sessions[(start + i) % n].try_lock() {
                Ok(guard) => return guard,
                // A panic while signing does not corrupt a PKCS#11 session.
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        self.sessions[start]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Signer for Pkcs11Key {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.public.default_signature_algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let digest = self.hash.digest(message);
        let raw = self
            .session()
            .sign(&Mechanism::Ecdsa, self.private, &digest)
            .map_err(|e| {
                let hint = match e {
                    CkError::Pkcs11(RvError::UserNotLoggedIn, _) => {
                        " (the token logged the service out; restart it)"
                    }
                    _ => "",
                };
                CryptoError::Signing(format!(
                    "PKCS#11 C_Sign with key {:?} on token {:?}: {e}{hint}",
                    self.label, self.token
                ))
            })?;
        // `CryptoError::Signing` carries text only (keyless-crypto has no
        // source-carrying variant): name the key, then the encoding problem.
        raw_signature_to_der(&raw, self.field_len).map_err(|e| {
            CryptoError::Signing(format!(
                "PKCS#11 key {:?} on token {:?}: {e}",
                self.label, self.token
            ))
        })
    }
}
