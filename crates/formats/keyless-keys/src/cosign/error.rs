use thiserror::Error;

/// Why a cosign key file could not be read, decrypted or written. The
/// messages never contain key material or the password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CosignKeyError {
    /// The text is not one PEM block of a type we read.
    #[error("not a usable PEM key: {0}")]
    Pem(String),
    /// The PEM block's contents are not cosign's JSON envelope.
    #[error("malformed cosign key envelope: {0}")]
    Envelope(String),
    /// A KDF, cipher or parameter set that cosign does not write either
    /// (refused before running scrypt, so a tampered file cannot make us
    /// spend unbounded memory or time).
    #[error("unsupported cosign key encryption: {0}")]
    Unsupported(String),
    /// The secretbox did not open: the password is wrong or the file was
    /// altered (the two cannot be told apart, by design of the cipher).
    #[error("decrypt: wrong password? (or the key file is corrupt)")]
    WrongPassword,
    /// Not a private key we can use (after decryption, or on import).
    #[error("not a usable private key: {0}")]
    Key(String),
    /// The system's random source or the KDF failed.
    #[error("encrypting the key: {0}")]
    Encrypt(String),
}
