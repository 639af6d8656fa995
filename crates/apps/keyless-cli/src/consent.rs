//! The notice shown before anything is written to a public log, and the
//! question that `--yes` answers in advance.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};

const NOTICE: &str = "\
Signing records your identity in public:
  the certificate names the identity you sign in with (for example your email
  address), and the signature, certificate and identity are written to an
  append-only transparency log that anyone can read and no one can edit or
  delete later. Sign only with an identity you are willing to publish, and
  never on someone else's behalf.";

/// Ask for consent unless `yes`. Without a terminal there is nobody to ask:
/// the notice is printed and signing goes on, as in CI.
pub fn confirm(yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    eprintln!("{NOTICE}");
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Ok(());
    }
    eprint!("Are you sure you want to continue? (y/[N]): ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        bail!("signing cancelled")
    }
}
