//! The KMIP secret store: payloads live on an external KMIP server (PyKMIP, or a KMIP 1.2 appliance) as
//! Secret Data objects, and Arca's database keeps their Unique Identifiers. `ttlv` is the binary codec,
//! `messages` builds requests and reads responses, `connection` is one mutual-TLS connection and its framing,
//! `config` the configuration and PEM loading, `store` the pooled `ExternalStore` implementation.

mod config;
mod connection;
mod messages;
mod store;
mod ttlv;

pub use config::{DEFAULT_PORT, DEFAULT_TIMEOUT, KmipConfig, KmipError};
pub use store::KmipStore;
