//! Where the browser flow listens and which `redirect_uri` it sends
//! (cosign's `--oidc-redirect-url`).
//!
//! Without a URL: a loopback listener on a free port and
//! `http://localhost:<port>/auth/callback` (RFC 8252 §7.3). With a loopback
//! `http` URL: listen on its port (`0` or none: a free one, written into the
//! URL sent). With any other `http(s)` URL: that exact URL is the
//! `redirect_uri` (it must be registered with the provider), and the
//! listener is on a free loopback port that the redirect must reach through
//! something the user set up (a port forward, a reverse proxy); the flow
//! says so on the terminal. The callback is accepted only on the URL's path.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::OidcError;

/// Longest `--oidc-redirect-url` accepted.
const MAX_REDIRECT_URL_LEN: usize = 2048;

/// How the redirect reaches the local listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectPlan {
    /// Where to listen (always a loopback address).
    pub listen: SocketAddr,
    /// The path the callback must arrive on.
    pub path: String,
    uri: Uri,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Uri {
    /// A loopback URL whose port is the one actually bound.
    Loopback(url::Url),
    /// Sent exactly as given; the listener is reached by forwarding.
    Forwarded(String),
}

fn invalid(url: &str, problem: &str) -> OidcError {
    OidcError::RedirectUrl {
        url: url.chars().take(200).collect(),
        problem: problem.to_owned(),
    }
}

impl RedirectPlan {
    /// The plan for `--oidc-redirect-url` (`None`: the default loopback one).
    pub fn new(redirect_url: Option<&str>) -> Result<Self, OidcError> {
        let given = redirect_url
            .map(str::trim)
            .unwrap_or("http://localhost:0/auth/callback");
        if given.len() > MAX_REDIRECT_URL_LEN {
            return Err(invalid(given, "longer than 2048 bytes"));
        }
        let url = url::Url::parse(given).map_err(|_| invalid(given, "not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(given, "not an http or https URL"));
        }
        if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                given,
                "a redirect URL carries no fragment or credentials",
            ));
        }
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                Some(Ipv4Addr::LOCALHOST.into())
            }
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) if ip == Ipv6Addr::LOCALHOST => Some(ip.into()),
            Some(_) => None,
            None => return Err(invalid(given, "no host")),
        };
        let path = url.path().to_owned();
        match loopback {
            Some(ip) => {
                if url.scheme() != "http" {
                    return Err(invalid(
                        given,
                        "the local listener speaks plain HTTP: use http:// for a loopback redirect \
                         (or a non-loopback https URL forwarded to it)",
                    ));
                }
                let port = url.port().unwrap_or(80);
                Ok(Self {
                    listen: SocketAddr::new(ip, port),
                    path,
                    uri: Uri::Loopback(url),
                })
            }
            None => Ok(Self {
                listen: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
                path,
                uri: Uri::Forwarded(given.to_owned()),
            }),
        }
    }

    /// The `redirect_uri` to send, once the listener is bound to `bound`.
    pub fn redirect_uri(&self, bound: SocketAddr) -> String {
        match &self.uri {
            Uri::Loopback(url) => {
                let mut url = url.clone();
                if url.port() == Some(0) {
                    // Setting a port on an http URL with a host cannot fail.
                    let _ = url.set_port(Some(bound.port()));
                }
                url.to_string()
            }
            Uri::Forwarded(given) => given.clone(),
        }
    }

    /// What the person must know when the redirect is not loopback: it has
    /// to reach this listener.
    pub fn note(&self, bound: SocketAddr) -> Option<String> {
        match &self.uri {
            Uri::Loopback(_) => None,
            Uri::Forwarded(given) => Some(format!(
                "Note: the sign-in redirects to {given}, which is not this machine's loopback; \
                 it must reach the listener at http://{bound}{} (a port forward or reverse proxy), \
                 or the sign-in times out.",
                self.path
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(port: u16) -> SocketAddr {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)
    }

    #[test]
    fn default_is_a_free_loopback_port_on_auth_callback() {
        let p = RedirectPlan::new(None).unwrap();
        assert_eq!(p.listen, bound(0));
        assert_eq!(p.path, "/auth/callback");
        assert_eq!(
            p.redirect_uri(bound(4711)),
            "http://localhost:4711/auth/callback"
        );
        assert!(p.note(bound(4711)).is_none());
    }

    #[test]
    fn loopback_url_gives_the_port_and_path() {
        let p = RedirectPlan::new(Some("http://127.0.0.1:8123/cb")).unwrap();
        assert_eq!(p.listen, bound(8123));
        assert_eq!(p.path, "/cb");
        assert_eq!(p.redirect_uri(bound(8123)), "http://127.0.0.1:8123/cb");
        let p = RedirectPlan::new(Some("http://localhost:0/oauth2/done")).unwrap();
        assert_eq!(p.listen, bound(0));
        assert_eq!(
            p.redirect_uri(bound(999)),
            "http://localhost:999/oauth2/done"
        );
        let p = RedirectPlan::new(Some("http://[::1]:7000/auth/callback")).unwrap();
        assert_eq!(p.listen, SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 7000));
        let p = RedirectPlan::new(Some("http://LOCALHOST/auth/callback")).unwrap();
        assert_eq!(p.listen.port(), 80, "no port: the scheme's");
    }

    #[test]
    fn other_urls_are_sent_as_given_and_listened_for_locally() {
        let given = "https://sso.example.com/keyless/callback?team=a";
        let p = RedirectPlan::new(Some(given)).unwrap();
        assert_eq!(p.listen, bound(0));
        assert_eq!(p.path, "/keyless/callback");
        assert_eq!(p.redirect_uri(bound(5555)), given);
        let note = p.note(bound(5555)).unwrap();
        assert!(note.contains(given) && note.contains("http://127.0.0.1:5555/keyless/callback"));
        // An address that only looks local is not loopback.
        let p = RedirectPlan::new(Some("http://10.0.0.5:8080/cb")).unwrap();
        assert_eq!(p.listen, bound(0));
        assert_eq!(p.redirect_uri(bound(1)), "http://10.0.0.5:8080/cb");
    }

    #[test]
    fn unusable_urls_are_refused() {
        for bad in [
            "not a url",
            "ftp://localhost/cb",
            "urn:x",
            "https://localhost:8443/cb",
            "http://user:pw@localhost:1/cb",
            "http://localhost:1/cb#frag",
        ] {
            let e = RedirectPlan::new(Some(bad)).unwrap_err();
            assert!(e.to_string().contains("--oidc-redirect-url"), "{bad}: {e}");
        }
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert!(RedirectPlan::new(Some(&long)).is_err());
    }
}
