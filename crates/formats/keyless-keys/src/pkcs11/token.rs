//! Talking to the module and the token: one initialised context per
//! module, the PIN from the environment, the slot by token label, and key
//! generation on the token.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use der::Encode;
use keyless_crypto::KeyAlgorithm;

use super::config::Pkcs11Config;
use super::ec::curve_oid;
use super::error::Pkcs11Error;

/// One initialised context per module path for the whole process (see the
/// module docs for why it is never finalised).
pub(super) fn module_context(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let shown = path.display().to_string();
    let canonical = std::fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Pkcs11Error::ModuleMissing {
            path: shown.clone(),
        },
        _ => Pkcs11Error::ModuleLoad {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(ctx) = modules.get(&canonical) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| Pkcs11Error::ModuleLoad {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        // Someone else in this process initialised the library: its state
        // is shared, so use it (and keep this context alive, see above).
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => {
            return Err(Pkcs11Error::Initialize {
                path: shown,
                source,
            })
        }
    }
    modules.insert(canonical, ctx.clone());
    Ok(ctx)
}

/// The user PIN from the environment, in a buffer wiped on drop.
pub(super) fn read_pin(var: &str) -> Result<RawAuthPin, Pkcs11Error> {
    match std::env::var_os(var) {
        None => Err(Pkcs11Error::PinNotSet { var: var.into() }),
        Some(v) if v.is_empty() => Err(Pkcs11Error::PinEmpty { var: var.into() }),
        Some(v) => {
            #[cfg(unix)]
            let bytes = std::os::unix::ffi::OsStringExt::into_vec(v);
            #[cfg(not(unix))]
            let bytes = v.to_string_lossy().into_owned().into_bytes();
            Ok(RawAuthPin::new(bytes))
        }
    }
}

pub(super) fn find_slot(ctx: &Pkcs11, config: &Pkcs11Config) -> Result<Slot, Pkcs11Error> {
    let module = config.module.display().to_string();
    let ck = |operation: &'static str| {
        let token = config.token_label.clone();
        move |source: CkError| Pkcs11Error::Token {
            operation,
            token,
            source,
        }
    };
    let mut found = Vec::new();
    let mut matching = Vec::new();
    for slot in ctx
        .get_slots_with_initialized_token()
        .map_err(ck("C_GetSlotList"))?
    {
        let info = ctx.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        if info.label() == config.token_label {
            matching.push(slot);
        }
        found.push(info.label().to_string());
    }
    match matching.as_slice() {
        [] => Err(Pkcs11Error::TokenNotFound {
            label: config.token_label.clone(),
            module,
            found,
        }),
        [one] => Ok(*one),
        more => Err(Pkcs11Error::AmbiguousToken {
            label: config.token_label.clone(),
            module,
            count: more.len(),
        }),
    }
}

pub(super) enum GenerateError {
    Unsupported(String),
    Curve(super::ec::EcError),
    Token(&'static str, CkError),
}

/// `C_GenerateKeyPair` on the token: both objects persistent
/// (`CKA_TOKEN`), the private key `CKA_SENSITIVE` and not
/// `CKA_EXTRACTABLE`, so that it never leaves the device; a random
/// `CKA_ID` pairs the two objects. Needs a read-write session, opened
/// only for this (the signing sessions are read-only).
pub(super) fn generate_key_pair(
    ctx: &Pkcs11,
    slot: Slot,
    label: &str,
    algorithm: KeyAlgorithm,
) -> Result<(), GenerateError> {
    let curve = curve_oid(algorithm).ok_or_else(|| {
        GenerateError::Unsupported(format!(
            "cannot generate a {algorithm:?} key on a PKCS#11 token: P-256 or P-384 only"
        ))
    })?;
    let params = curve
        .to_der()
        .map_err(|e| GenerateError::Curve(super::ec::EcError::CurveParams(e)))?;
    let mut id = vec![0u8; 16];
    aws_lc_rs::rand::fill(&mut id)
        .map_err(|_| GenerateError::Unsupported("random CKA_ID".into()))?;
    let public = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(params),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id),
    ];
    let rw = ctx
        .open_rw_session(slot)
        .map_err(|e| GenerateError::Token("C_OpenSession (read-write)", e))?;
    rw.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        .map_err(|e| GenerateError::Token("C_GenerateKeyPair", e))?;
    Ok(())
}
