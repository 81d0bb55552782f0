//! The embedded demo provider: real, signed BOLT 11 invoices and no Lightning node.
//!
//! A secp256k1 node key is generated at first start into `DATA_DIR/node_key` (hex, mode 0600)
//! and reused afterwards, so invoices keep one payee across restarts. Each invoice gets a random
//! preimage (kept in the store), `payment_hash = sha256(preimage)`, a random payment secret,
//! `min_final_cltv_expiry_delta` 18, the payee node key in the `n` field (so decoders that do
//! not recover keys can still check the signature against it), and the configured network's
//! currency. Nothing ever pays
//! these invoices on a real network: they settle only through `POST /api/dev/invoices/{id}/pay`.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{All, PublicKey, Secp256k1, SecretKey};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use rand::RngCore;

use crate::config::Network;
use crate::fsutil;
use crate::provider::{Adapter, CreatedInvoice, NewInvoice, OnchainAddress, ProviderError};

/// The key file inside `DATA_DIR`.
pub const NODE_KEY_FILE: &str = "node_key";
/// BOLT 11 `c`: the CLTV delta a payer must leave for the last hop (LDK's and BOLT 11's default).
pub const MIN_FINAL_CLTV_EXPIRY_DELTA: u64 = 18;

/// The node key could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    /// Reading or writing the file failed.
    #[error("node key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file exists but does not hold a valid key (its content is never printed).
    #[error("node key file {0} does not hold a 64-hex-digit secp256k1 secret key; move it away to generate a new one")]
    Invalid(String),
}

/// The demo provider. `Debug` does not show the key.
pub struct DemoProvider {
    secp: Secp256k1<All>,
    key: SecretKey,
    node_id: PublicKey,
    currency: Currency,
    network: bitcoin::Network,
}

impl fmt::Debug for DemoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoProvider")
            .field("node_id", &self.node_id.to_string())
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

impl DemoProvider {
    /// Read `data_dir/node_key`, generating it first if it does not exist.
    pub fn load_or_create(data_dir: &Path, network: Network) -> Result<Self, NodeKeyError> {
        let path = data_dir.join(NODE_KEY_FILE);
        let io = |source| NodeKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        fsutil::ensure_private_dir(data_dir).map_err(io)?;
        if !path.exists() {
            let fresh = SecretKey::new(&mut rand::rngs::OsRng);
            let text = format!("{}\n", hex::encode(fresh.secret_bytes()));
            if fsutil::write_private_once(&path, text.as_bytes()).map_err(io)? {
                tracing::info!(path = %path.display(), "generated a new demo node key");
            }
        }
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes)
            .map_err(|_| NodeKeyError::Invalid(path.display().to_string()))?;
        let key = SecretKey::from_slice(&bytes)
            .map_err(|_| NodeKeyError::Invalid(path.display().to_string()))?;
        Ok(Self::from_key(key, network))
    }

    /// A demo provider signing with `key`.
    pub fn from_key(key: SecretKey, network: Network) -> Self {
        let secp = Secp256k1::new();
        let node_id = PublicKey::from_secret_key(&secp, &key);
        Self {
            secp,
            key,
            node_id,
            currency: network.currency(),
            network: match network {
                Network::Bitcoin => bitcoin::Network::Bitcoin,
                Network::Testnet => bitcoin::Network::Testnet,
                Network::Signet => bitcoin::Network::Signet,
                Network::Regtest => bitcoin::Network::Regtest,
            },
        }
    }

    /// The node's public key: the payee every invoice's signature recovers to.
    pub fn node_id(&self) -> PublicKey {
        self.node_id
    }

    /// The demo's on-chain address of invoice `invoice_id`: P2WPKH of a key derived from the
    /// node key and the id (`sha256(node key || id)`), for the configured network. Deterministic,
    /// valid, one per invoice; nothing ever watches it (the demo control says what arrived).
    pub fn address_for(&self, invoice_id: &str) -> String {
        let mut engine = sha256::Hash::engine();
        bitcoin::hashes::HashEngine::input(&mut engine, &self.key.secret_bytes());
        bitcoin::hashes::HashEngine::input(&mut engine, invoice_id.as_bytes());
        let digest = sha256::Hash::from_engine(engine).to_byte_array();
        // A SHA-256 output is a valid secret key but for a 2^-128 chance; the node key then.
        let key = SecretKey::from_slice(&digest).unwrap_or(self.key);
        let pk = bitcoin::CompressedPublicKey(PublicKey::from_secret_key(&self.secp, &key));
        bitcoin::Address::p2wpkh(&pk, self.network).to_string()
    }

    fn build(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        let mut preimage = [0u8; 32];
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut preimage);
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let payment_hash = sha256::Hash::hash(&preimage);
        let invoice = InvoiceBuilder::new(self.currency.clone())
            .description(req.description.clone())
            .payee_pub_key(self.node_id)
            .payment_hash(payment_hash)
            .payment_secret(PaymentSecret(secret))
            .duration_since_epoch(Duration::from_secs(req.now))
            .min_final_cltv_expiry_delta(MIN_FINAL_CLTV_EXPIRY_DELTA)
            .expiry_time(Duration::from_secs(u64::from(req.expiry_secs)))
            .amount_milli_satoshis(req.amount_msat)
            .build_signed(|hash| self.secp.sign_ecdsa_recoverable(hash, &self.key))
            .map_err(|e| ProviderError::Rejected(format!("invoice not buildable: {e}")))?;
        Ok(CreatedInvoice {
            payment_request: Some(invoice.to_string()),
            pay_url: None,
            payment_hash: Some(payment_hash.to_byte_array()),
            preimage: Some(preimage),
            provider_ref: None,
            expires_at: Some(req.now.saturating_add(u64::from(req.expiry_secs))),
            onchain_address: None,
        })
    }
}

impl Adapter for DemoProvider {
    fn name(&self) -> &'static str {
        "demo"
    }

    async fn create_invoice(&self, req: &NewInvoice) -> Result<CreatedInvoice, ProviderError> {
        // Signing takes tens of microseconds: no need to leave the async thread.
        self.build(req)
    }

    // `lookup`: the default (`Ok(None)`), the store is the demo provider's only state.
    // `verify_webhook`: the default, no webhooks.

    fn simulates_payments(&self) -> bool {
        true
    }

    async fn onchain_address(
        &self,
        req: &NewInvoice,
    ) -> Result<Option<OnchainAddress>, ProviderError> {
        Ok(Some(OnchainAddress {
            address: self.address_for(&req.invoice_id),
            watch_from_height: None,
        }))
    }
}
