//! The intermediate key on a PKCS#11 token: the key store's PKCS#11 keys
//! (`keyless_keys::pkcs11`, where the module, its docs and its unit tests
//! now live, so that any service can keep a key on a token), re-exported
//! under the CA's path for the CA's configuration and callers.

pub use keyless_keys::pkcs11::*;
