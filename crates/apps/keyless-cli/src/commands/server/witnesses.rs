//! `--witness URL=VKEY`: one flag, one parser and one meaning for every
//! log `keyless server` runs (`log`, `ct`, and the CA's own CT log).

use keyless_log::witnessing::WitnessEndpoint;

/// The witnesses a log asks to cosign its checkpoints.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WitnessArgs {
    /// A C2SP tlog-witness asked to cosign each checkpoint, as URL=VKEY
    /// (submission prefix and cosignature/v1 vkey; repeatable); the log's
    /// checkpoint (/checkpoint, /ct/checkpoint for a CT log) then carries
    /// the cosignatures.
    #[arg(long = "witness", value_name = "URL=VKEY", value_parser = WitnessEndpoint::parse)]
    pub witnesses: Vec<WitnessEndpoint>,
}
