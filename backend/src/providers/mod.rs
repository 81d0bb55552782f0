//! Provider adapters, chosen by `PROVIDER`. Only the embedded demo provider exists so far.

pub mod demo;

use std::sync::Arc;

use crate::config::{Config, ProviderKind};
use crate::provider::Provider;
use crate::state::StartupError;

pub use demo::DemoProvider;

/// The provider `config` asks for, ready to use.
pub fn build(config: &Config) -> Result<Arc<dyn Provider>, StartupError> {
    match config.provider {
        ProviderKind::Demo => Ok(Arc::new(DemoProvider::load_or_create(
            &config.data_dir,
            config.network,
        )?)),
    }
}
