//! The HTTP client every adapter uses: reqwest over rustls (ring), timeouts, no redirects, answer
//! bodies capped, and errors made of status codes and fixed words only (never a URL, header or
//! body, so never a credential).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::config::Secret;
use crate::provider::ProviderError;

/// Time to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole request and its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer body read.
const MAX_BODY: usize = 1024 * 1024;

/// How the provider's TLS certificate is checked.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum TlsTrust {
    /// The public web PKI (webpki roots): hosted providers.
    #[default]
    WebPki,
    /// Exactly this certificate (DER), whatever its issuer and names: LND's self-signed
    /// `tls.cert`. The handshake signature is still checked against it.
    Pinned(Vec<u8>),
    /// This CA (DER) as the only root, names checked as usual: clnrest's generated `ca.pem`.
    ExtraRoot(Vec<u8>),
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WebPki => "WebPki",
            Self::Pinned(_) => "Pinned",
            Self::ExtraRoot(_) => "ExtraRoot",
        })
    }
}

/// Read a PEM (or DER) certificate file; the error names the variable, not the content.
pub fn read_cert(var: &'static str, path: &str) -> Result<Vec<u8>, crate::config::ConfigError> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|e| {
        crate::config::ConfigError::new(var, format!("cannot read {path:?}: {}", e.kind()))
    })?;
    if bytes.starts_with(b"-----") {
        CertificateDer::from_pem_slice(&bytes)
            .map(|c| c.as_ref().to_vec())
            .map_err(|_| {
                crate::config::ConfigError::new(var, format!("{path:?} holds no PEM certificate"))
            })
    } else {
        Ok(bytes)
    }
}

/// A configured client.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

/// One provider's HTTP API: its name for error texts, its base URL, a client with its TLS
/// trust, and the credential headers every request carries (never printed: [`Secret`]).
#[derive(Debug, Clone)]
pub struct Api {
    who: &'static str,
    base: String,
    http: HttpClient,
    auth: Vec<(&'static str, Secret)>,
}

impl Api {
    /// `who`'s API at `base` (no trailing slash), trusting `trust`, sending `auth` headers.
    pub fn new(
        who: &'static str,
        base: &str,
        trust: &TlsTrust,
        auth: Vec<(&'static str, Secret)>,
    ) -> Result<Self, String> {
        Ok(Self {
            who,
            base: base.to_owned(),
            http: HttpClient::new(trust)?,
            auth,
        })
    }

    /// The provider's name, as error texts give it.
    pub fn who(&self) -> &'static str {
        self.who
    }

    /// The client, for a URL outside the API (Kraken's JWKS).
    pub fn client(&self) -> &HttpClient {
        &self.http
    }

    /// The same API through another client (see [`HttpClient::streaming`]).
    pub fn with_client(&self, http: HttpClient) -> Self {
        Self {
            http,
            ..self.clone()
        }
    }

    /// A request to `{base}{path}` with the credential headers.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}{path}", self.base);
        self.auth
            .iter()
            .fold(self.http.request(method, &url), |r, (name, value)| {
                r.header(*name, value.expose())
            })
    }

    /// Send `req` (with `body` as JSON, if any); the answer whatever its status.
    pub async fn send(
        &self,
        req: RequestBuilder,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ProviderError> {
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => req,
        };
        self.http.send(req, self.who).await
    }

    /// `method {base}{path}` with `body` as JSON; the JSON of a 2xx answer, else the status's
    /// error ([`status_error`]).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ProviderError> {
        self.send(self.request(method, path), body)
            .await?
            .ok_json(self.who)
    }
}

/// An answer: status and (capped) body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of a 2xx answer as JSON; another status is [`status_error`].
    pub fn ok_json(&self, who: &str) -> Result<serde_json::Value, ProviderError> {
        if !self.ok() {
            return Err(status_error(who, self.status));
        }
        self.json(who)
    }

    /// The body as JSON.
    pub fn json(&self, who: &str) -> Result<serde_json::Value, ProviderError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| ProviderError::BadResponse(format!("{who} answered something not JSON")))
    }
}

impl HttpClient {
    /// A client trusting `trust`.
    pub fn new(trust: &TlsTrust) -> Result<Self, String> {
        Self::build(trust, reqwest::Client::builder().timeout(REQUEST_TIMEOUT))
    }

    /// A client for long-lived answers (a subscription's stream, a long poll): no limit on the
    /// whole answer; TCP keepalive finds a dead peer; `read_timeout`, if any, bounds a silence.
    pub fn streaming(trust: &TlsTrust, read_timeout: Option<Duration>) -> Result<Self, String> {
        let builder = reqwest::Client::builder().tcp_keepalive(Duration::from_secs(30));
        let builder = match read_timeout {
            Some(t) => builder.read_timeout(t),
            None => builder,
        };
        Self::build(trust, builder)
    }

    fn build(trust: &TlsTrust, builder: reqwest::ClientBuilder) -> Result<Self, String> {
        let builder = builder
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "lightning-checkout-backend/",
                env!("CARGO_PKG_VERSION")
            ));
        let builder = match trust {
            TlsTrust::WebPki => builder.use_rustls_tls(),
            TlsTrust::ExtraRoot(der) => {
                let cert = reqwest::Certificate::from_der(der)
                    .map_err(|_| "the CA certificate does not parse".to_owned())?;
                builder
                    .use_rustls_tls()
                    .tls_built_in_root_certs(false)
                    .add_root_certificate(cert)
            }
            TlsTrust::Pinned(der) => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .map_err(|_| "TLS setup failed".to_owned())?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Pinned {
                        cert: CertificateDer::from(der.clone()),
                        provider,
                    }))
                    .with_no_client_auth();
                builder.use_preconfigured_tls(config)
            }
        };
        let inner = builder
            .build()
            .map_err(|_| "the HTTP client could not be built".to_owned())?;
        Ok(Self { inner })
    }

    /// A request to `url`.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.inner.request(method, url)
    }

    /// Send and read the answer (at most 1 MiB). `who` names the provider in error texts.
    pub async fn send(&self, req: RequestBuilder, who: &str) -> Result<Reply, ProviderError> {
        let mut res = req.send().await.map_err(|e| transport_error(who, &e))?;
        let status = res.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| transport_error(who, &e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ProviderError::BadResponse(format!(
                    "{who} answered more than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { status, body })
    }
}

/// In the error of a TLS handshake that failed because the certificate names other hosts.
pub const NAME_MISMATCH: &str = "the server's certificate does not name the host in the URL";

/// What a failed TLS handshake says about the server's certificate, found in an error's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFailure {
    /// The certificate is valid but names other hosts than the URL's.
    NameMismatch,
    /// Any other refusal of the certificate (unknown issuer, expired…).
    Certificate,
}

fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    use rustls::CertificateError as C;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(mut err) = next {
        // io::Error hides what it wraps from `source()` (and may wrap another io::Error).
        while let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            err = inner;
        }
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(match c {
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::NameMismatch,
                _ => TlsFailure::Certificate,
            });
        }
        next = err.source();
    }
    None
}

fn transport_error(who: &str, e: &reqwest::Error) -> ProviderError {
    // reqwest's own text carries the URL: build ours from its kind only.
    match tls_failure(e) {
        Some(TlsFailure::NameMismatch) => {
            return ProviderError::Unavailable(format!(
            "{who}: TLS handshake failed: {NAME_MISMATCH} (use a host name the certificate lists)"
        ))
        }
        Some(TlsFailure::Certificate) => {
            return ProviderError::Unavailable(format!(
                "{who}: TLS handshake failed: the server's certificate is not trusted"
            ))
        }
        None => {}
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be connected to"
    } else if e.is_body() || e.is_decode() {
        "broke off its answer"
    } else {
        "could not be reached"
    };
    ProviderError::Unavailable(format!("{who} {what}"))
}

/// The error for a non-2xx status: 408/429/5xx may work later, other 4xx will not.
pub fn status_error(who: &str, status: u16) -> ProviderError {
    let text = format!("{who} answered HTTP {status}");
    if status == 408 || status == 429 || status >= 500 {
        ProviderError::Unavailable(text)
    } else {
        ProviderError::Rejected(text)
    }
}

/// Accepts exactly one certificate; the handshake is still verified with its key.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
