//! The dev stack's C2SP witness: one witness for both of the stack's
//! logs, the transparency log and the CA's CT log, and the 1-of-1 policy
//! file naming it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use keyless_log::witnessing::WitnessEndpoint;
use tokio::net::TcpListener;

/// The file in the data directory holding the dev witness policy.
pub const WITNESS_POLICY_FILE: &str = "witness_policy.txt";

/// Open the dev witness (key and state in `<data dir>/witness`) for the
/// checkpoints of `logs` and serve it on `listener`. Both logs sign with
/// ECDSA P-256 keys, which have no C2SP vkey, so the witness is handed
/// each log's origin and note verifier directly instead of a
/// configuration file.
pub(super) fn start(
    data_dir: &Path,
    logs: &[&keyless_log::Log],
    listener: TcpListener,
    url: &str,
    services: &super::serve::Services,
) -> Result<WitnessEndpoint> {
    let mut by_origin = BTreeMap::new();
    for log in logs {
        let origin = log.origin().to_string();
        if by_origin
            .insert(origin.clone(), vec![log.verifier().clone()])
            .is_some()
        {
            bail!("two of the dev stack's logs sign as {origin:?}");
        }
    }
    let name = url.trim_start_matches("http://");
    let witness =
        keyless_witness::Witness::open_for_logs(&data_dir.join("witness"), name, by_origin)
            .context("starting the dev witness")?;
    let endpoint = WitnessEndpoint {
        url: url.to_string(),
        vkey: witness.vkey(),
    };
    let app = keyless_serve::instrument(
        keyless_witness::router(Arc::new(witness)),
        "witness",
        super::serve::ready(),
    );
    services.spawn_serve(listener, app, &None);
    Ok(endpoint)
}

/// A C2SP tlog-policy that requires the dev witness's cosignature.
pub(super) fn policy(witness: &WitnessEndpoint) -> String {
    format!(
        "# keyless server --dev: checkpoints must be cosigned by its witness.\n\
         # Use with: keyless verify-blob --witness-policy {WITNESS_POLICY_FILE} ...\n\
         witness dev {} {}\n\
         quorum dev\n",
        witness.vkey, witness.url
    )
}
