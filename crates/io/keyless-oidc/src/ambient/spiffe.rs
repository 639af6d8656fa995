//! The SPIFFE Workload API as an ambient token source, as cosign's `spiffe`
//! provider does: a workload attested by a SPIRE agent (or any Workload API
//! implementation) asks the agent, over the Unix socket named by
//! `SPIFFE_ENDPOINT_SOCKET`, for a JWT-SVID with the Sigstore audience, and
//! uses it as its OIDC identity token (Fulcio's SPIFFE issuer type).
//!
//! The Workload API is gRPC (`SpiffeWorkloadAPI/FetchJWTSVID`, unary). The
//! three messages it needs are written out below with prost's derive rather
//! than generated, so that building this crate needs no `protoc` and no
//! build script; the field numbers are those of the SPIFFE `workload.proto`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;

pub(crate) mod error;

pub use error::{SpiffeError, SPIFFE_ENDPOINT_SOCKET};

/// How long the whole fetch (connect, HTTP/2 handshake, call) may take. A
/// live agent answers in milliseconds; a wedged one must not hang signing.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The gRPC method: the proto has no package, so the service name is bare.
const FETCH_JWT_SVID: &str = "/SpiffeWorkloadAPI/FetchJWTSVID";

/// The header every Workload API call must carry; agents refuse calls
/// without it (SPIRE with `InvalidArgument`) so that a browser or another
/// HTTP client tricked into reaching the socket cannot obtain SVIDs.
const SECURITY_HEADER: &str = "workload.spiffe.io";

/// The socket path in `SPIFFE_ENDPOINT_SOCKET`. The Workload Endpoint
/// spec's form is a `unix:` URI with an absolute path and nothing else
/// (`unix:///p` or `unix:/p`); cosign passes the variable on as a bare
/// path, so a value with no `unix:` prefix and no `://` is taken as a path
/// too (a path may contain colons). The spec's `tcp://` endpoints are not
/// supported: they are rare, and unauthenticated TCP is what the Unix
/// socket's peer attestation exists to avoid.
pub(crate) fn socket_path(addr: &str) -> Result<PathBuf, SpiffeError> {
    let bad = |why: &str| SpiffeError::BadAddress(format!("{addr:?}: {why}"));
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(bad("empty"));
    }
    if !addr
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("unix:"))
    {
        return match addr.split_once("://") {
            Some((scheme, _)) => Err(bad(&format!(
                "the {scheme}: scheme is not supported, only unix:"
            ))),
            None => Ok(PathBuf::from(addr)),
        };
    }
    let u = url::Url::parse(addr).map_err(|e| bad(&e.to_string()))?;
    if u.cannot_be_a_base() {
        return Err(bad("the path must be absolute (unix:///path)"));
    }
    if !u.username().is_empty()
        || u.password().is_some()
        || u.host_str().is_some_and(|h| !h.is_empty())
        || u.port().is_some()
    {
        return Err(bad(
            "a unix: URI must not name a host (unix:///path, three slashes)",
        ));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("a unix: URI must not have a query or fragment"));
    }
    // Percent-decoded, as the spec's URIs are.
    u.to_file_path().map_err(|()| bad("not a usable path"))
}

/// `JWTSVIDRequest` (workload.proto).
#[derive(Clone, PartialEq, prost::Message)]
struct JwtSvidRequest {
    #[prost(string, repeated, tag = "1")]
    audience: Vec<String>,
    /// Empty: the agent returns an SVID for each identity of the workload.
    #[prost(string, tag = "2")]
    spiffe_id: String,
}

/// `JWTSVIDResponse` (workload.proto).
#[derive(Clone, PartialEq, prost::Message)]
struct JwtSvidResponse {
    #[prost(message, repeated, tag = "1")]
    svids: Vec<JwtSvid>,
}

/// `JWTSVID` (workload.proto); later fields (`hint`) are not needed and
/// prost skips them.
#[derive(Clone, PartialEq, prost::Message)]
struct JwtSvid {
    #[prost(string, tag = "1")]
    spiffe_id: String,
    /// The JWT, in JWS compact serialization.
    #[prost(string, tag = "2")]
    svid: String,
}

/// Fetch a JWT-SVID for `audience` from the agent at `addr` (the raw
/// `SPIFFE_ENDPOINT_SOCKET` value) and return the first SVID's token, as
/// cosign and go-spiffe's `FetchJWTSVID` do when several identities match.
pub(crate) async fn fetch_jwt_svid(
    addr: &str,
    audience: &str,
    timeout: Duration,
) -> Result<String, crate::OidcError> {
    let path = socket_path(addr).map_err(|problem| crate::OidcError::Spiffe {
        socket: addr.to_string(),
        problem,
    })?;
    let fail = |problem| crate::OidcError::Spiffe {
        socket: path.display().to_string(),
        problem,
    };
    match tokio::time::timeout(timeout, call(path.clone(), audience)).await {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(problem)) => Err(fail(problem)),
        Err(_) => Err(fail(SpiffeError::Timeout(timeout))),
    }
}

async fn call(path: PathBuf, audience: &str) -> Result<String, SpiffeError> {
    // Connect first, ourselves, so that a missing socket or a dead agent is
    // reported as such rather than as a wrapped transport error; the
    // channel's connector then hands over this one stream.
    let stream = tokio::net::UnixStream::connect(&path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SpiffeError::NoSocket,
            _ => SpiffeError::Connect(e),
        })?;
    let slot = Arc::new(Mutex::new(Some(stream)));
    let connector = tower::service_fn(move |_: http::Uri| {
        let stream = slot.lock().ok().and_then(|mut s| s.take());
        async move {
            stream.map(TokioIo::new).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    "the Workload API connection was closed",
                )
            })
        }
    });
    // The URI only supplies the HTTP/2 :authority; gRPC uses `localhost`
    // for Unix sockets, and the connector ignores it.
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
        .map_err(|e| SpiffeError::Transport(error_chain(&e)))?;

    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| SpiffeError::Transport(error_chain(&e)))?;
    let mut request = tonic::Request::new(JwtSvidRequest {
        audience: vec![audience.to_string()],
        spiffe_id: String::new(),
    });
    request
        .metadata_mut()
        .insert(SECURITY_HEADER, MetadataValue::from_static("true"));
    let path_and_query = http::uri::PathAndQuery::from_static(FETCH_JWT_SVID);
    let response = grpc
        .unary::<_, JwtSvidResponse, _>(request, path_and_query, tonic_prost::ProstCodec::default())
        .await
        .map_err(|s| SpiffeError::Status {
            code: format!("{:?}", s.code()),
            message: s.message().to_string(),
        })?;
    response
        .into_inner()
        .svids
        .into_iter()
        .next()
        .map(|s| s.svid)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SpiffeError::NoSvid {
            audience: audience.to_string(),
        })
}

/// An error and its sources on one line: tonic's transport errors say
/// little at the top level ("transport error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        next = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_forms() {
        let p = |s: &str| socket_path(s).map(|p| p.display().to_string());
        assert_eq!(
            p("unix:///run/spire/sockets/agent.sock").unwrap(),
            "/run/spire/sockets/agent.sock"
        );
        assert_eq!(
            p("unix:/run/spire/agent.sock").unwrap(),
            "/run/spire/agent.sock"
        );
        assert_eq!(p("UNIX:///a%20b/agent.sock").unwrap(), "/a b/agent.sock");
        assert_eq!(
            p("/tmp/spire-agent/public/api.sock").unwrap(),
            "/tmp/spire-agent/public/api.sock"
        );
        assert_eq!(p(" /tmp/a:b.sock ").unwrap(), "/tmp/a:b.sock");
        assert_eq!(p("relative/api.sock").unwrap(), "relative/api.sock");
        for bad in [
            "",
            "unix:relative.sock",
            "unix://host/agent.sock",
            "unix://user@/agent.sock",
            "unix:///agent.sock?x=1",
            "unix:///agent.sock#f",
            "tcp://127.0.0.1:8081",
            "http://localhost/agent.sock",
        ] {
            assert!(
                matches!(socket_path(bad), Err(SpiffeError::BadAddress(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn messages_use_the_proto_field_numbers() {
        use prost::Message;
        let req = JwtSvidRequest {
            audience: vec!["sigstore".into()],
            spiffe_id: "spiffe://td/w".into(),
        };
        // field 1, length-delimited (0x0a); field 2, length-delimited (0x12)
        let mut want = vec![0x0a, 8];
        want.extend_from_slice(b"sigstore");
        want.extend_from_slice(&[0x12, 13]);
        want.extend_from_slice(b"spiffe://td/w");
        assert_eq!(req.encode_to_vec(), want);

        // svids = 1 { spiffe_id = 1, svid = 2, hint = 3 (unknown, skipped) }
        let mut inner = vec![0x0a, 1, b'i', 0x12, 3];
        inner.extend_from_slice(b"a.b");
        inner.extend_from_slice(&[0x1a, 1, b'h']);
        let mut resp = vec![0x0a, inner.len() as u8];
        resp.extend_from_slice(&inner);
        let r = JwtSvidResponse::decode(resp.as_slice()).unwrap();
        assert_eq!(
            r.svids,
            vec![JwtSvid {
                spiffe_id: "i".into(),
                svid: "a.b".into()
            }]
        );
    }
}
