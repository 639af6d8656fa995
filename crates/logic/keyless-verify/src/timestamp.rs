//! Step 2 of the client specification: trusted times from RFC 3161
//! timestamps. A token counts only if it covers this bundle's signature,
//! was signed by a timestamp authority of the trusted root (by the leaf the
//! root lists for it, when it lists one, else by a leaf chaining to its
//! CAs), and its time lies inside that same authority's validity window
//! (TOB-SIGSTORE-11).

use keyless_tsp::TimestampToken;
use keyless_x509::TrustedChain;

use crate::error::{AuthorityFailure, TimestampError};
use crate::trust::TrustMaterial;

/// A time vouched for by a timestamp authority.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    pub time: i64,
    pub authority: String,
    /// Index of the authority in the trusted root, for de-duplication.
    pub(crate) authority_index: usize,
}

/// Verify every timestamp; any that fails is an error (a bundle carrying
/// evidence that does not check out is not one we half-trust).
///
/// A token counts for the first authority that both issued it and was
/// trusted at its time. An authority that issued it but whose `validFor`
/// does not contain the time (a retired TSA entry) does not end the search:
/// the same signing certificate may be listed again with another window,
/// as sigstore-go tries every authority. Only if none accepts it is the
/// token rejected, as outside validity if some authority issued it.
pub(crate) fn verify_timestamps(
    tokens: &[Vec<u8>],
    signature: &[u8],
    trust: &TrustMaterial,
    chains: &[TrustedChain],
) -> Result<Vec<VerifiedTimestamp>, TimestampError> {
    let mut verified = Vec::new();
    for (index, der) in tokens.iter().enumerate() {
        let token = TimestampToken::from_der(der)
            .map_err(|source| TimestampError::Invalid { index, source })?;
        let mut failures = Vec::new();
        let mut outside = None;
        let mut found = None;
        // `chains[i]` is `trust.tsas[i]`'s chain, its own links checked once.
        for (authority_index, (tsa, chain)) in trust.tsas.iter().zip(chains).enumerate() {
            match token.verify_trusted(signature, chain) {
                Ok(time) if tsa.valid_for.contains(time) => {
                    found = Some(VerifiedTimestamp {
                        time,
                        authority: tsa.uri.clone(),
                        authority_index,
                    });
                    break;
                }
                Ok(time) => {
                    outside.get_or_insert(TimestampError::OutsideAuthorityValidity {
                        index,
                        time,
                        tsa: tsa.uri.clone(),
                        window: tsa.valid_for,
                    });
                }
                // A token over other bytes fails the same way against every
                // authority; say so directly rather than "untrusted".
                Err(source @ keyless_tsp::TspError::ImprintMismatch { .. }) => {
                    return Err(TimestampError::Invalid { index, source })
                }
                Err(error) => failures.push(AuthorityFailure {
                    authority: tsa.uri.clone(),
                    error,
                }),
            }
        }
        match (found, outside) {
            (Some(v), _) => verified.push(v),
            (None, Some(outside)) => return Err(outside),
            (None, None) if trust.tsas.is_empty() => {
                return Err(TimestampError::NoAuthorities { index })
            }
            (None, None) => return Err(TimestampError::Untrusted { index, failures }),
        }
    }
    Ok(verified)
}

/// Count distinct authorities among verified timestamps.
pub(crate) fn distinct_authorities(ts: &[VerifiedTimestamp]) -> usize {
    let mut seen: Vec<usize> = ts.iter().map(|t| t.authority_index).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[cfg(test)]
mod tests;
