//! Orders as the domain sees them (Barbican's `Order` model): a request that Arca generate a symmetric key
//! (`key`) or an RSA key pair (`asymmetric`), its status (`PENDING` while generating, then `ACTIVE` with a
//! reference to what it made, or `ERROR` with a status code and reason), and the list page. The order's
//! `meta` is kept as the server rendered it from the request, so it can be returned as sent; the fields the
//! domain acts on are parsed into a [`KeySpec`].

use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

/// What an order generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    /// A symmetric key, stored as one secret.
    Key,
    /// An RSA key pair, stored as private and public key secrets (and a passphrase secret) in an `rsa`
    /// container.
    Asymmetric,
}

impl OrderType {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Key => "key",
            OrderType::Asymmetric => "asymmetric",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [OrderType::Key, OrderType::Asymmetric]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// Barbican's order states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Accepted, not yet processed.
    Pending,
    /// Processed: the secret or container exists.
    Active,
    /// Processing failed; see the error code and reason.
    Error,
}

impl OrderStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Active => "ACTIVE",
            OrderStatus::Error => "ERROR",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            OrderStatus::Pending,
            OrderStatus::Active,
            OrderStatus::Error,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The order's id.
    pub id: Uuid,
    /// The owning project.
    pub project_id: String,
    /// The user who placed it.
    pub creator_id: String,
    /// What it generates.
    pub order_type: OrderType,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// The request's `meta` as the server rendered it (opaque to the domain; never holds a passphrase).
    pub meta: String,
    /// The generated secret (`key` orders).
    pub secret_id: Option<Uuid>,
    /// The generated container (`asymmetric` orders).
    pub container_id: Option<Uuid>,
    /// The HTTP status that describes a failure.
    pub error_status_code: Option<u16>,
    /// Why it failed.
    pub error_reason: Option<String>,
    /// Barbican's `sub_status` (`Unknown` once processed).
    pub sub_status: Option<String>,
    /// Barbican's `sub_status_message`.
    pub sub_status_message: Option<String>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last update time.
    pub updated: OffsetDateTime,
}

/// What to generate, parsed from the order's `meta`.
pub struct KeySpec {
    /// The algorithm as given (`aes`, `rsa`, …); compared case-insensitively.
    pub algorithm: String,
    /// The key size in bits.
    pub bit_length: u32,
    /// The mode (`cbc`, `xts`, …), if any.
    pub mode: Option<String>,
    /// The name given to the generated secrets and container.
    pub name: Option<String>,
    /// When the generated secrets expire.
    pub expiration: Option<OffsetDateTime>,
    /// The content type of the generated payloads (`application/octet-stream` unless given).
    pub content_type: String,
    /// For asymmetric orders: encrypts the private key (PKCS#8) and is stored as a passphrase secret.
    pub passphrase: Option<Zeroizing<String>>,
}

/// A request to place an order; the creator and project come from the caller.
pub struct NewOrder {
    /// What to generate.
    pub order_type: OrderType,
    /// The `meta` to keep and show back.
    pub meta: String,
    /// The parsed generation parameters.
    pub spec: KeySpec,
}

/// One page of a project's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    /// The rows of this page, oldest first.
    pub orders: Vec<OrderRecord>,
    /// How many the project has in all.
    pub total: u64,
}
