//! HTTPS for the fakes: certificates made with rcgen, served with tokio-rustls + hyper.

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Which certificate layout a TLS fake presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// One self-signed certificate flagged as a CA, as LND's `tls.cert`.
    SelfSigned,
    /// A certificate for `cln` and `localhost` (no IP address) issued by a private CA, as
    /// cln-grpc makes them and clnrest reuses them.
    CaSigned,
}

/// The acceptor and the PEM a client must trust.
pub fn acceptor(mode: TlsMode) -> (TlsAcceptor, String) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let (chain, key, trust_pem) = match mode {
        TlsMode::SelfSigned => {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(names).expect("params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).expect("self-signed");
            (vec![cert.der().clone()], key, cert.pem())
        }
        TlsMode::CaSigned => {
            let ca_key = KeyPair::generate().expect("key");
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca = ca_params.self_signed(&ca_key).expect("CA");
            let key = KeyPair::generate().expect("key");
            // As cln-grpc makes them (clnrest reuses them): `cln` and `localhost`, no IP.
            let leaf = CertificateParams::new(vec!["cln".to_owned(), "localhost".to_owned()])
                .expect("params")
                .signed_by(&key, &ca, &ca_key)
                .expect("leaf");
            (vec![leaf.der().clone(), ca.der().clone()], key, ca.pem())
        }
    };
    let chain: Vec<CertificateDer<'static>> = chain;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    (TlsAcceptor::from(Arc::new(config)), trust_pem)
}

/// Serve `app` over TLS until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, acceptor: TlsAcceptor, app: Router) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A client that refuses our certificate just closes: nothing to serve.
            if let Ok(stream) = acceptor.accept(tcp).await {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                    .await;
            }
        });
    }
}
