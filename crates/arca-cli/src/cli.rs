//! The command line contract (DESIGN.md "Command line"): every subcommand and its arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Arca: a key manager that speaks the Barbican v1 API.
#[derive(Debug, Parser)]
#[command(name = "arca", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a data directory: root key, configuration, database and an admin token.
    Init(InitArgs),
    /// Run the server.
    Server(ServerArgs),
    /// Manage API tokens (offline, on the data directory).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The tamper-evident audit log (offline, on the data directory).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Reports on secret expirations (offline, on the data directory).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Store, fetch, list and delete secrets on a running server (ARCA_URL, ARCA_TOKEN).
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Issue and revoke SigV4 access keys for the KMS API (offline, on the data directory).
    AccessKey {
        #[command(subcommand)]
        command: AccessKeyCommand,
    },
    /// Give one unseal share to a running, sealed server (ARCA_URL); prints the progress.
    Unseal(UnsealArgs),
    /// Seal a running server: its keys leave memory until M shares unseal it (ARCA_URL, ARCA_TOKEN, admin).
    Seal,
    /// Use KMS keys on a running server (ARCA_URL, ARCA_ACCESS_KEY_ID, ARCA_SECRET_ACCESS_KEY).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Write a consistent backup of the database (safe while the server runs; the root key is not in it).
    Backup(BackupArgs),
    /// Restore a backup into a new data directory holding the root of trust it was made under.
    Restore(RestoreArgs),
    /// The root key (offline, on the data directory; safe while a server runs on it).
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Project keys (offline, on the data directory; safe while a server runs on it).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// The database itself (offline).
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Secret stores (offline, on the data directory; safe while a server runs on it).
    SecretStore {
        #[command(subcommand)]
        command: SecretStoreCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy a deployment's SQLite database into an empty PostgreSQL database and verify it row by row (stop the
    /// server first); then point `[database] url` at the target.
    Copy(DbCopyArgs),
}

#[derive(Debug, Args)]
pub struct DbCopyArgs {
    /// The source: `sqlite:PATH` (or a path) to the SQLite database (e.g. DIR/arca.db).
    #[arg(long)]
    pub from: String,
    /// The target: a `postgres://` URL of an empty database; without it, ARCA_DATABASE_URL (where a URL with a
    /// password belongs).
    #[arg(long)]
    pub to: Option<String>,
    /// Only compare an earlier copy with its source, row by row.
    #[arg(long)]
    pub verify_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum SecretStoreCommand {
    /// List the configured secret stores and how many payloads each holds.
    List(SecretStoreListArgs),
    /// Move payloads from one store to another: each copy is verified before the source is deleted; a rerun
    /// after an interruption finishes the work.
    Migrate(SecretStoreMigrateArgs),
}

#[derive(Debug, Args)]
pub struct SecretStoreListArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct SecretStoreMigrateArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The store to move payloads out of (its [secret_stores.<name>] name).
    #[arg(long)]
    pub from: String,
    /// The store to move them into.
    #[arg(long)]
    pub to: String,
    /// Only this project's payloads.
    #[arg(long)]
    pub project: Option<String>,
    /// Payloads read per batch.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The data directory to back up.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The backup file to write (mode 0600; must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The new data directory: absent or empty but for root.key / arca.toml.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The backup file `arca backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// Write root.key (every version) encrypted under a passphrase (Argon2id + AES-256-GCM).
    Export(RootExportArgs),
    /// Write root.key (mode 0400) back from an export into a data directory that has none.
    Import(RootImportArgs),
    /// Add a root key version, rewrap every project and system key under it, retire the old version; a rerun
    /// after an interruption finishes the pending rotation.
    Rotate(RootRotateArgs),
}

#[derive(Debug, Args)]
pub struct RootExportArgs {
    /// The data directory whose root.key is exported.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The export file to write (mode 0600; must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// A file (mode 0400 or 0600) holding the passphrase; else ARCA_ROOT_PASSPHRASE.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RootImportArgs {
    /// The data directory to write root.key into (created if missing).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The export file `arca root export` wrote.
    #[arg(long)]
    pub from: PathBuf,
    /// A file (mode 0400 or 0600) holding the passphrase; else ARCA_ROOT_PASSPHRASE.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RootRotateArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Keys rewrapped per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    /// Seconds to wait before the final check, so running servers (which re-read the root key every 2 s)
    /// stop wrapping under the old version.
    #[arg(long, default_value_t = 6)]
    pub settle: u64,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Add the project's next KEK version: new writes use it, a running server rewraps the old objects.
    RotateKek(ProjectRotateKekArgs),
}

#[derive(Debug, Args)]
pub struct ProjectRotateKekArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The project.
    #[arg(long)]
    pub project: String,
    /// Also rewrap the project's objects now instead of leaving it to the server.
    #[arg(long)]
    pub rewrap: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Keep the data in PostgreSQL at this URL (written to `[database] url`; no password in it: put a URL
    /// with a password in ARCA_DATABASE_URL instead). Without it, SQLite in the data directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Lifetime of the admin token (e.g. 30m, 24h, 30d).
    #[arg(long, default_value = "24h")]
    pub ttl: String,
    /// The root of trust: `file` (DIR/root.key), `pkcs11` (keys generated inside an HSM token) or `shamir`
    /// (an unseal key split into --shares shares).
    #[arg(long, value_parser = ["file", "pkcs11", "shamir"], default_value = "file")]
    pub root: String,
    /// pkcs11: the vendor's PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long, required_if_eq("root", "pkcs11"))]
    pub pkcs11_library: Option<PathBuf>,
    /// pkcs11: the label of the token that will hold the keys.
    #[arg(long, required_if_eq("root", "pkcs11"))]
    pub token_label: Option<String>,
    /// pkcs11: a file (mode 0400 or 0600) holding the user PIN; without it, ARCA_ROOT_KEY_PIN.
    #[arg(long)]
    pub pin_file: Option<PathBuf>,
    /// pkcs11: base label of the master KEK objects (`<label>-v1`, ...).
    #[arg(long, default_value = "arca-mkek")]
    pub mkek_label: String,
    /// pkcs11: base label of the HMAC key objects (`<label>-v1`, ...).
    #[arg(long, default_value = "arca-hmac")]
    pub hmac_label: String,
    /// With --root shamir: how many unseal shares to make (N, at most 16).
    #[arg(long)]
    pub shares: Option<u8>,
    /// With --root shamir: how many shares unseal (M, 2 ≤ M ≤ N).
    #[arg(long)]
    pub threshold: Option<u8>,
}

/// `arca unseal`.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// A share file written by `arca init --root shamir` (`-` reads standard input).
    #[arg(long)]
    pub share: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The data directory made by `arca init`.
    #[arg(long, conflicts_with = "dev")]
    pub data_dir: Option<PathBuf>,
    /// A configuration file (its directory is the data directory unless --data-dir is given).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Development mode: initialise ./arca-data on first run and use it.
    #[arg(long)]
    pub dev: bool,
    /// Allow plain HTTP on a non-loopback address.
    #[arg(long)]
    pub insecure_http: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token for a user in a project; prints it as the last line.
    Create(TokenCreateArgs),
    /// Revoke a token by its id (the `token id …` that `create` printed, or the part after `arca_`).
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The token's id (16 hex digits).
    pub id: String,
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The project the token acts in.
    #[arg(long)]
    pub project: String,
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// Comma-separated roles: admin, creator, observer, audit, key-manager:service-admin.
    #[arg(long, value_delimiter = ',', required = true)]
    pub roles: Vec<String>,
    /// Lifetime (e.g. 30m, 24h, 30d).
    #[arg(long, default_value = "24h")]
    pub ttl: String,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret; prints its reference.
    Store(SecretStoreArgs),
    /// Show a secret's metadata, or its payload with --payload.
    Get(SecretRefArgs),
    /// List secrets.
    List(SecretListArgs),
    /// Delete a secret.
    Delete(SecretRefArgs),
}

#[derive(Debug, Args)]
pub struct SecretStoreArgs {
    /// The payload as text.
    #[arg(long, conflicts_with = "payload_file")]
    pub payload: Option<String>,
    /// Read the payload from a file (stored as application/octet-stream).
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
    /// A name.
    #[arg(long)]
    pub name: Option<String>,
    /// symmetric, public, private, passphrase, certificate or opaque.
    #[arg(long)]
    pub secret_type: Option<String>,
    /// text/plain or application/octet-stream.
    #[arg(long)]
    pub payload_content_type: Option<String>,
    /// Algorithm (e.g. aes).
    #[arg(long)]
    pub algorithm: Option<String>,
    /// Bit length.
    #[arg(long)]
    pub bit_length: Option<u32>,
    /// Mode (e.g. cbc).
    #[arg(long)]
    pub mode: Option<String>,
    /// Expiration (ISO 8601).
    #[arg(long)]
    pub expiration: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretRefArgs {
    /// A secret reference URL or id.
    pub secret: String,
    /// Print the payload instead of the metadata.
    #[arg(long)]
    pub payload: bool,
}

#[derive(Debug, Args)]
pub struct SecretListArgs {
    /// Page size.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Rows to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    /// Only secrets with this name.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit chain (MACs, sequence, links); names the first broken record.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The data directory made by `arca init`.
    #[arg(long)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Secrets that expire within --within (already expired ones included), soonest first.
    Expiring(ReportExpiringArgs),
    /// Secrets without an expiration (for the quarterly review), oldest first.
    Orphans(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The data directory made by `arca init`.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// A JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportExpiringArgs {
    #[command(flatten)]
    pub common: ReportArgs,
    /// The window from now (e.g. 30d, 12h).
    #[arg(long, default_value = "30d")]
    pub within: String,
}

#[derive(Debug, Subcommand)]
pub enum AccessKeyCommand {
    /// Issue a SigV4 access key for a user in a project; the last line is `<access key id> <secret access key>`.
    Create(AccessKeyCreateArgs),
    /// Revoke an access key by its id.
    Revoke(AccessKeyRevokeArgs),
}

#[derive(Debug, Args)]
pub struct AccessKeyCreateArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The project (the account id in key ARNs).
    #[arg(long)]
    pub project: String,
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// Comma-separated roles (admin, creator, observer, audit).
    #[arg(long, value_delimiter = ',', required = true)]
    pub roles: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AccessKeyRevokeArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The access key id (`AKIA…`).
    #[arg(long)]
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a KMS key; prints its metadata, the key id last.
    Create(KeyCreateArgs),
    /// List the project's keys (ids and ARNs).
    List,
    /// Show a key's metadata.
    Describe(KeyRefArg),
    /// Encrypt standard input (or --plaintext) under a key; prints the ciphertext in base64.
    Encrypt(KeyEncryptArgs),
    /// Decrypt a base64 ciphertext (standard input or --ciphertext); writes the plaintext to standard output.
    Decrypt(KeyDecryptArgs),
    /// Sign standard input (or --message) with an asymmetric key; prints the signature in base64.
    Sign(KeySignArgs),
    /// Verify a signature over standard input (or --message); exits non-zero when it is not valid.
    Verify(KeyVerifyArgs),
    /// Rotate a symmetric key now (a new key version; old ciphertext still decrypts).
    Rotate(KeyRefArg),
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, …
    #[arg(long, default_value = "SYMMETRIC_DEFAULT")]
    pub spec: String,
    /// ENCRYPT_DECRYPT, SIGN_VERIFY or GENERATE_VERIFY_MAC (default: what the spec implies).
    #[arg(long)]
    pub usage: Option<String>,
    /// A description.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeyRefArg {
    /// A key id, key ARN, alias name (`alias/…`) or alias ARN.
    pub key: String,
}

#[derive(Debug, Args)]
pub struct KeyEncryptArgs {
    /// A key id, key ARN, alias name or alias ARN.
    pub key: String,
    /// The plaintext as text (else standard input).
    #[arg(long)]
    pub plaintext: Option<String>,
    /// Encryption context pairs `k=v` (repeat the option).
    #[arg(long = "context")]
    pub context: Vec<String>,
    /// SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.
    #[arg(long)]
    pub algorithm: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeyDecryptArgs {
    /// The key (required for RSA; optional for symmetric ciphertext, which names its key).
    #[arg(long)]
    pub key: Option<String>,
    /// The ciphertext in base64 (else standard input).
    #[arg(long)]
    pub ciphertext: Option<String>,
    /// Encryption context pairs `k=v` (repeat the option).
    #[arg(long = "context")]
    pub context: Vec<String>,
    /// SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.
    #[arg(long)]
    pub algorithm: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeySignArgs {
    /// A key id, key ARN, alias name or alias ARN.
    pub key: String,
    /// ECDSA_SHA_256, RSASSA_PSS_SHA_256, ED25519_SHA_512, …
    #[arg(long)]
    pub algorithm: String,
    /// The message as text (else standard input).
    #[arg(long)]
    pub message: Option<String>,
    /// The message is already a digest (MessageType DIGEST).
    #[arg(long)]
    pub digest: bool,
}

#[derive(Debug, Args)]
pub struct KeyVerifyArgs {
    /// A key id, key ARN, alias name or alias ARN.
    pub key: String,
    /// The signing algorithm the signature was made with.
    #[arg(long)]
    pub algorithm: String,
    /// The signature in base64.
    #[arg(long)]
    pub signature: String,
    /// The message as text (else standard input).
    #[arg(long)]
    pub message: Option<String>,
    /// The message is already a digest (MessageType DIGEST).
    #[arg(long)]
    pub digest: bool,
}
