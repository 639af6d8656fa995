//! The CA certificates of a private PKI that every HTTPS client of the
//! workspace trusts, on top of the system's roots.
//!
//! The clients are built deep in the libraries (signing, OIDC, TUF,
//! registry), so `keyless --ca-bundle FILE` reads and checks the file once
//! and hands the PEM text to all of them through one process variable,
//! [`ENV`]; each library passes its client builder through [`trust`]
//! (`tls_certs_merge`: the platform's roots stay). One implementation here,
//! in the trust layer, so the TUF client (trust), the signing flow (logic)
//! and the OIDC and registry clients (io) all depend downwards on it.
//!
//! The same clients read untrusted answers, so the capped body read they
//! share, [`read_capped`], lives here too.

mod body;

pub use body::{read_capped, BodyError};

/// The variable the libraries read: PEM certificates, concatenated.
pub const ENV: &str = "KEYLESS_CA_BUNDLE_PEM";

/// A reqwest client builder that can take extra trusted roots: the async
/// builder always, the blocking one with the `blocking` feature.
pub trait MergeRoots: Sized {
    /// `self` trusting `certs` as well as the roots it already trusts.
    fn merge_roots(self, certs: Vec<reqwest::Certificate>) -> Self;
}

impl MergeRoots for reqwest::ClientBuilder {
    fn merge_roots(self, certs: Vec<reqwest::Certificate>) -> Self {
        self.tls_certs_merge(certs)
    }
}

#[cfg(feature = "blocking")]
impl MergeRoots for reqwest::blocking::ClientBuilder {
    fn merge_roots(self, certs: Vec<reqwest::Certificate>) -> Self {
        self.tls_certs_merge(certs)
    }
}

/// `builder` trusting, on top of the system's roots, the CA certificates
/// in `KEYLESS_CA_BUNDLE_PEM` (PEM text; `keyless --ca-bundle FILE` sets it
/// for a private PKI). A bundle that does not parse is an error, never a
/// client that silently trusts less than it was told to.
pub fn trust<B: MergeRoots>(builder: B) -> Result<B, reqwest::Error> {
    match std::env::var_os(ENV) {
        Some(pem) => Ok(builder.merge_roots(reqwest::Certificate::from_pem_bundle(
            &pem.into_encoded_bytes(),
        )?)),
        None => Ok(builder),
    }
}

/// An async client trusting the system's roots and the bundle's, with
/// these timeouts: the one client the log readers (`keyless log`, the
/// monitor) build, each with timeouts of its own choosing.
pub fn client(
    connect_timeout: std::time::Duration,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, ClientError> {
    trust(
        reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout),
    )
    .and_then(reqwest::ClientBuilder::build)
    .map_err(ClientError)
}

/// [`client`] could not be built: in practice the CA bundle does not
/// parse. An error rather than a client that trusts fewer roots than it
/// was told to; the readers pass it on as it is.
#[derive(Debug, thiserror::Error)]
#[error("the CA bundle ({ENV}, from --ca-bundle) could not be used for the HTTP client")]
pub struct ClientError(#[source] reqwest::Error);

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).expect("self-signed").pem()
    }

    /// The total timeout of [`client`] holds against a server that takes
    /// the connection and never answers: the readers' guard against a
    /// stalled log (they use 10 s and 60 s; 200 ms here).
    #[tokio::test]
    async fn client_gives_up_on_a_server_that_never_answers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Accepts and holds each connection, reading nothing, writing nothing.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let http = {
            // The bundle is read here, while no other test changes it.
            let _env = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            client(
                std::time::Duration::from_secs(5),
                std::time::Duration::from_millis(200),
            )
            .expect("client")
        };
        // Bounded here too, so a client without the timeout fails the
        // test instead of hanging it.
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            http.get(format!("http://{addr}/checkpoint")).send(),
        )
        .await
        .expect("the client's own timeout should have ended the request");
        let err = answer.expect_err("a server that never answers");
        assert!(err.is_timeout(), "{err}");
    }

    /// Held by every test that sets or reads [`ENV`], a process variable.
    static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// One test, because the variable is process-wide.
    #[test]
    fn reads_the_variable_and_refuses_a_bad_bundle() {
        let _env = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        std::env::remove_var(ENV);
        assert!(trust(reqwest::Client::builder()).is_ok());

        std::env::set_var(ENV, ca_pem());
        let client = trust(reqwest::Client::builder()).and_then(|b| b.build());
        assert!(client.is_ok(), "{client:?}");
        #[cfg(feature = "blocking")]
        {
            let client = trust(reqwest::blocking::Client::builder()).and_then(|b| b.build());
            assert!(client.is_ok(), "{client:?}");
        }

        // Not base64 (refused when read), then base64 of something that
        // is not a certificate (refused when the client is built): either
        // way no client, rather than one trusting less than it was told.
        for bad in ["!!!!", "bm90IGEgY2VydGlmaWNhdGU="] {
            let pem = format!("-----BEGIN CERTIFICATE-----\n{bad}\n-----END CERTIFICATE-----\n");
            std::env::set_var(ENV, pem);
            let client = trust(reqwest::Client::builder()).and_then(|b| b.build());
            assert!(client.is_err(), "{bad}");
            #[cfg(feature = "blocking")]
            {
                let client = trust(reqwest::blocking::Client::builder()).and_then(|b| b.build());
                assert!(client.is_err(), "{bad}");
            }
        }
        std::env::remove_var(ENV);
    }
}
