//! Running a Docker credential helper: `docker-credential-<name> get`, the
//! server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout
//! (docker-credential-helpers' protocol). A `Username` of `<token>` means the
//! secret is an identity (refresh) token.
//!
//! The helper is found on `PATH` like any program. Its output is capped and
//! it is killed after [`HELPER_TIMEOUT`]: a hung keychain prompt must not
//! hang a signing pipeline forever.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::credential::{Credential, Credentials};
use crate::auth::AuthError;

/// How long a credential helper may take before it is killed.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes read from a credential helper's stdout (cloud helpers answer
/// with tokens of a few KiB).
pub const MAX_HELPER_OUTPUT: u64 = 64 * 1024;

/// What docker-credential-helpers print when there is nothing stored.
const NOT_FOUND: &str = "credentials not found in native keychain";

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Run `program` (`docker-credential-<helper>`) `get` for `server_url`. `Ok(None)` when
/// the helper has no credentials for it; every other failure is an error,
/// never silent anonymous access.
pub(crate) async fn get(
    helper: &str,
    program: &Path,
    server_url: &str,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Credential>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: helper.to_owned(),
        registry: registry.to_owned(),
        reason,
    };
    // The name comes from a config file and becomes part of a program name:
    // no path separators or other surprises.
    if helper.is_empty()
        || !helper
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(fail(
            "the helper name is not a plain program-name suffix".into(),
        ));
    }
    let shown_program = format!("docker-credential-{helper}");
    let mut child = tokio::process::Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            fail(if e.kind() == std::io::ErrorKind::NotFound {
                format!("{shown_program} is not on PATH")
            } else {
                format!("starting {shown_program}: {e}")
            })
        })?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading stdin is judged by its
            // exit status and output, so a write error is not fatal here.
            let _ = stdin.write_all(server_url.as_bytes()).await;
            drop(stdin);
        }
        let mut out = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            stdout
                .take(MAX_HELPER_OUTPUT + 1)
                .read_to_end(&mut out)
                .await
                .map_err(|e| fail(format!("reading its output: {e}")))?;
        }
        if out.len() as u64 > MAX_HELPER_OUTPUT {
            // It may be blocked writing more: stop it rather than wait.
            let _ = child.start_kill();
            return Err(fail(format!(
                "its output is over {MAX_HELPER_OUTPUT} bytes"
            )));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| fail(format!("waiting for it: {e}")))?;
        Ok::<_, AuthError>((status, out))
    };
    let (status, out) = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| fail(format!("it did not answer within {timeout:?}")))??;
    if !status.success() {
        let text = String::from_utf8_lossy(&out);
        let text = text.trim();
        if text == NOT_FOUND {
            return Ok(None);
        }
        // Helpers print their error message on stdout. Only a short,
        // non-JSON message is repeated, so a secret printed before a
        // failure is not echoed.
        let shown = if text.len() <= 200 && !text.starts_with('{') {
            format!(": {text}")
        } else {
            String::new()
        };
        return Err(fail(format!("it exited with {status}{shown}")));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out).map_err(|_| {
        fail("its output is not the JSON object {\"ServerURL\",\"Username\",\"Secret\"}".into())
    })?;
    if answer.secret.is_empty() {
        return Err(fail("it answered with an empty Secret".into()));
    }
    Ok(Some(if answer.username == "<token>" {
        Credential::IdentityToken(answer.secret)
    } else {
        Credential::Basic(Credentials::new(answer.username, answer.secret))
    }))
}
