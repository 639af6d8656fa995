//! Development-only OpenID Connect issuer.
