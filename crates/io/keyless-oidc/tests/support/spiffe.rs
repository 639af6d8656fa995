//! A loopback stand-in for the SPIFFE Workload API: gRPC on a Unix socket
//! in a temp dir, served by tonic's server with a hand-written service
//! (no codegen), behaving as SPIRE's agent does where the client can tell:
//!
//! - `SpiffeWorkloadAPI/FetchJWTSVID` without `workload.spiffe.io: true`
//!   → `InvalidArgument` "security header missing from request";
//! - no audience → `InvalidArgument`;
//! - audience `denied` → `PermissionDenied` "no identity issued" (what SPIRE
//!   says to a workload that no registration entry matches);
//! - audience `none` → an empty `svids` list;
//! - otherwise a JWT-SVID minted by the development issuer for
//!   [`SPIFFE_ID`] with the requested audience.
//!
//! The messages are declared again here from workload.proto rather than
//! shared with the crate, so a wrong field number on either side shows.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use keyless_oidc_dev::{DevIssuer, MintOptions};
use serde_json::json;

pub const SPIFFE_ID: &str = "spiffe://keyless.test/ns/ci/sa/signer";

#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvidRequest {
    #[prost(string, repeated, tag = "1")]
    pub audience: Vec<String>,
    #[prost(string, tag = "2")]
    pub spiffe_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvidResponse {
    #[prost(message, repeated, tag = "1")]
    pub svids: Vec<JwtSvid>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvid {
    #[prost(string, tag = "1")]
    pub spiffe_id: String,
    #[prost(string, tag = "2")]
    pub svid: String,
    #[prost(string, tag = "3")]
    pub hint: String,
}

/// What one call carried.
#[derive(Debug, Clone)]
pub struct SeenCall {
    pub path: String,
    pub security_header: Option<String>,
    pub audience: Vec<String>,
}

pub struct WorkloadApi {
    pub issuer: Arc<DevIssuer>,
    pub socket: PathBuf,
    /// The tokens handed out, in order.
    pub issued: Mutex<Vec<String>>,
    pub seen: Mutex<Vec<SeenCall>>,
}

impl WorkloadApi {
    /// Serve on `<temp dir>/agent.sock`.
    pub async fn start(issuer: Arc<DevIssuer>) -> Arc<WorkloadApi> {
        let socket = super::temp_dir("spiffe").join("agent.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let api = Arc::new(WorkloadApi {
            issuer,
            socket,
            issued: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        });
        let svc = Service(api.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .serve_with_incoming(
                    svc,
                    tokio_stream::wrappers::UnixListenerStream::new(listener),
                )
                .await
        });
        api
    }

    pub fn seen(&self) -> Vec<SeenCall> {
        self.seen.lock().unwrap().clone()
    }

    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }

    fn fetch_jwt_svid(
        &self,
        req: tonic::Request<JwtSvidRequest>,
    ) -> Result<JwtSvidResponse, tonic::Status> {
        let header = req
            .metadata()
            .get("workload.spiffe.io")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let audience = req.get_ref().audience.clone();
        self.seen.lock().unwrap().push(SeenCall {
            path: "/SpiffeWorkloadAPI/FetchJWTSVID".into(),
            security_header: header.clone(),
            audience: audience.clone(),
        });
        if header.as_deref() != Some("true") {
            return Err(tonic::Status::invalid_argument(
                "security header missing from request",
            ));
        }
        if audience.is_empty() {
            return Err(tonic::Status::invalid_argument(
                "audience must be specified",
            ));
        }
        match audience[0].as_str() {
            "denied" => return Err(tonic::Status::permission_denied("no identity issued")),
            "none" => return Ok(JwtSvidResponse { svids: vec![] }),
            _ => {}
        }
        let mut extra = serde_json::Map::new();
        extra.insert("sub".into(), json!(SPIFFE_ID));
        extra.insert("aud".into(), json!(audience));
        extra.insert("email".into(), json!(null));
        extra.insert("email_verified".into(), json!(null));
        let token = self
            .issuer
            .mint(&MintOptions {
                extra_claims: extra,
                ..Default::default()
            })
            .map_err(|e| tonic::Status::internal(e.to_string()))?;
        self.issued.lock().unwrap().push(token.clone());
        Ok(JwtSvidResponse {
            svids: vec![JwtSvid {
                spiffe_id: SPIFFE_ID.into(),
                svid: token,
                hint: "ci".into(),
            }],
        })
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The `SpiffeWorkloadAPI` service, routed by path as generated servers are.
#[derive(Clone)]
struct Service(Arc<WorkloadApi>);

struct FetchJwtSvid(Arc<WorkloadApi>);

impl tonic::server::UnaryService<JwtSvidRequest> for FetchJwtSvid {
    type Response = JwtSvidResponse;
    type Future = BoxFuture<Result<tonic::Response<JwtSvidResponse>, tonic::Status>>;

    fn call(&mut self, req: tonic::Request<JwtSvidRequest>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move { api.fetch_jwt_svid(req).map(tonic::Response::new) })
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for Service {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let api = self.0.clone();
        match req.uri().path() {
            "/SpiffeWorkloadAPI/FetchJWTSVID" => Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(FetchJwtSvid(api), req).await)
            }),
            other => {
                let status = tonic::Status::unimplemented(format!("{other} is not served here"));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
