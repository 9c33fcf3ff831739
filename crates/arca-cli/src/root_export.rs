//! `arca root export` and `arca root import`: an offline copy of the file provider's root.key (every version)
//! encrypted under a passphrase, for custody apart from the backups. Format: `"ARCA-ROOT-EXPORT\n" ‖ u8 format
//! ‖ u8 kdf (1 = Argon2id v1.3) ‖ u32 m_cost KiB ‖ u32 t_cost ‖ u32 p_cost ‖ salt[16] ‖ nonce[12] ‖ AES-256-GCM
//! ciphertext ‖ tag`, all integers big-endian; everything before the ciphertext is the associated data, so
//! the parameters are authenticated. The key is Argon2id(passphrase, salt) with m = 64 MiB, t = 3, p = 1 (an
//! import refuses anything weaker). The passphrase comes from `--passphrase-file` (mode 0400/0600) or
//! `ARCA_ROOT_PASSPHRASE`, never the command line, and has at least 12 characters.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use anyhow::{Context, bail};
use arca_core::{FileRootKey, RootKeyProvider, root_key_path};
use arca_crypto::random_array;
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use std::io::Write;
use zeroize::Zeroizing;

use crate::cli::{RootExportArgs, RootImportArgs};
use crate::config::{self, ArcaConfig};
use crate::open::config_path;
use crate::secure_file::{PendingFile, check_private, hex, write_new};

const MAGIC: &[u8] = b"ARCA-ROOT-EXPORT\n";
const FORMAT: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
/// 64 MiB, 3 passes, one lane: the floor CRYPTO.md sets, and what export writes.
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;
/// Upper bounds an import accepts, so a crafted file cannot make it allocate without limit.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;
const HEADER_LEN: usize = MAGIC.len() + 2 + 12 + 16 + 12;
const MIN_PASSPHRASE: usize = 12;
/// The environment variable holding the passphrase when no file is given.
pub const PASSPHRASE_ENV: &str = "ARCA_ROOT_PASSPHRASE";

struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
    salt: [u8; 16],
}

fn require_file_provider(config: &ArcaConfig, what: &str) -> anyhow::Result<()> {
    let provider = config.root_key.provider.as_str();
    if provider != "file" {
        bail!(
            "`arca root {what}` works only with the file root key provider; this data directory uses \
             [root_key] provider = {provider:?}, whose key never leaves its custody (back it up as that \
             provider's documentation says)"
        );
    }
    Ok(())
}

/// The passphrase from `--passphrase-file` or the environment, at least 12 characters.
fn passphrase(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    let pass = if let Some(file) = file {
        check_private(file)?;
        let text = Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
        Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned())
    } else if let Some(value) = std::env::var_os(PASSPHRASE_ENV) {
        Zeroizing::new(
            value
                .into_string()
                .map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not valid UTF-8"))?,
        )
    } else {
        bail!(
            "no passphrase: give --passphrase-file FILE (mode 0400 or 0600) or set {PASSPHRASE_ENV}"
        );
    };
    let n = pass.chars().count();
    if n < MIN_PASSPHRASE {
        bail!("the passphrase has {n} characters; use at least {MIN_PASSPHRASE}");
    }
    Ok(pass)
}

fn derive(pass: &str, params: &KdfParams) -> anyhow::Result<LessSafeKey> {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(params.m_kib, params.t, params.p, Some(32))
            .map_err(|e| anyhow::anyhow!("Argon2id parameters: {e}"))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pass.as_bytes(), &params.salt, &mut key[..])
        .map_err(|e| anyhow::anyhow!("Argon2id: {e}"))?;
    let unbound = UnboundKey::new(&AES_256_GCM, &key[..])
        .map_err(|_| anyhow::anyhow!("cannot make an AES-256-GCM key"))?;
    Ok(LessSafeKey::new(unbound))
}

fn encode_header(params: &KdfParams, nonce: &[u8; 12]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.push(FORMAT);
    h.push(KDF_ARGON2ID);
    for v in [params.m_kib, params.t, params.p] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    h.extend_from_slice(&params.salt);
    h.extend_from_slice(nonce);
    h
}

fn decode_header(bytes: &[u8], from: &Path) -> anyhow::Result<(KdfParams, [u8; 12])> {
    if bytes.len() < HEADER_LEN + 16 || !bytes.starts_with(MAGIC) {
        bail!("{} is not an Arca root key export", from.display());
    }
    let rest = &bytes[MAGIC.len()..];
    if rest[0] != FORMAT || rest[1] != KDF_ARGON2ID {
        bail!(
            "{} is export format {} with KDF {}; this build reads format {FORMAT} with Argon2id",
            from.display(),
            rest[0],
            rest[1]
        );
    }
    let u32_at = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
    let (m_kib, t, p) = (u32_at(2), u32_at(6), u32_at(10));
    if !(M_COST_KIB..=MAX_M_COST_KIB).contains(&m_kib)
        || !(T_COST..=MAX_T_COST).contains(&t)
        || !(1..=MAX_P_COST).contains(&p)
    {
        bail!(
            "{}: Argon2id parameters m={m_kib} KiB, t={t}, p={p} are outside what Arca accepts",
            from.display()
        );
    }
    let salt: [u8; 16] = rest[14..30].try_into().expect("16 bytes");
    let nonce: [u8; 12] = rest[30..42].try_into().expect("12 bytes");
    Ok((KdfParams { m_kib, t, p, salt }, nonce))
}

fn print_versions(rk: &FileRootKey) -> anyhow::Result<()> {
    for v in rk.versions() {
        println!("root key version {v} (KCV {})", hex(&rk.kcv(v)?));
    }
    Ok(())
}

pub async fn export(args: RootExportArgs) -> anyhow::Result<()> {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let dir = &args.data_dir;
    let config = config::load(&config_path(dir))?;
    require_file_provider(&config, "export")?;
    let path = root_key_path(dir);
    let rk = FileRootKey::open(&path)?;
    let text = Zeroizing::new(
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let pass = passphrase(args.passphrase_file.as_deref())?;
    let params = KdfParams {
        m_kib: M_COST_KIB,
        t: T_COST,
        p: P_COST,
        salt: random_array::<16>()?,
    };
    let nonce = random_array::<12>()?;
    let key = derive(&pass, &params)?;
    let header = encode_header(&params, &nonce);
    let mut body = Zeroizing::new(text.to_vec());
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&header[..]),
        &mut *body,
    )
    .map_err(|_| anyhow::anyhow!("AES-256-GCM sealing failed"))?;
    let mut out = header;
    out.extend_from_slice(&body);
    write_new(&args.out, 0o600, &out)?;
    println!(
        "exported {} to {} (Argon2id m={} MiB t={T_COST} p={P_COST}, AES-256-GCM); keep it and its \
         passphrase apart from the backups",
        path.display(),
        args.out.display(),
        M_COST_KIB / 1024
    );
    print_versions(&rk)
}

pub async fn import(args: RootImportArgs) -> anyhow::Result<()> {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let dir = &args.data_dir;
    let config = config::load(&config_path(dir))?;
    require_file_provider(&config, "import")?;
    let path = root_key_path(dir);
    if path.exists() {
        bail!(
            "{} already exists: refusing to overwrite a root key",
            path.display()
        );
    }
    let bytes = std::fs::read(&args.from)
        .with_context(|| format!("cannot read {}", args.from.display()))?;
    let (params, nonce) = decode_header(&bytes, &args.from)?;
    let pass = passphrase(args.passphrase_file.as_deref())?;
    let key = derive(&pass, &params)?;
    let mut body = Zeroizing::new(bytes[HEADER_LEN..].to_vec());
    let plain_len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&bytes[..HEADER_LEN]),
            &mut body,
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "cannot decrypt {}: the passphrase is wrong or the file was altered",
                args.from.display()
            )
        })?
        .len();
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut pending = PendingFile::create(&path, 0o400)?;
    pending.file().write_all(&body[..plain_len])?;
    pending.file().sync_all()?;
    // Parse it as the server will before it takes the name root.key.
    FileRootKey::open(pending.tmp_path()).with_context(|| {
        format!(
            "{} decrypted, but it does not hold a valid root key file",
            args.from.display()
        )
    })?;
    pending.commit()?;
    let rk = FileRootKey::open(&path)?;
    println!("imported {} (mode 0400)", path.display());
    print_versions(&rk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m_kib: u32, t: u32, p: u32) -> KdfParams {
        KdfParams {
            m_kib,
            t,
            p,
            salt: [7; 16],
        }
    }

    fn file_with(params: &KdfParams) -> Vec<u8> {
        let mut bytes = encode_header(params, &[9; 12]);
        bytes.extend_from_slice(&[0; 48]);
        bytes
    }

    #[test]
    fn header_round_trips_and_weak_or_huge_parameters_are_refused() {
        let from = Path::new("x.export");
        let (got, nonce) = decode_header(&file_with(&params(M_COST_KIB, 3, 1)), from).unwrap();
        assert_eq!(
            (got.m_kib, got.t, got.p, got.salt, nonce),
            (M_COST_KIB, 3, 1, [7; 16], [9; 12])
        );
        for weak in [
            params(1024, 3, 1),
            params(M_COST_KIB, 1, 1),
            params(M_COST_KIB, 3, 0),
        ] {
            let err = decode_header(&file_with(&weak), from)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("outside what Arca accepts"), "{err}");
        }
        assert!(decode_header(&file_with(&params(u32::MAX, 3, 1)), from).is_err());
        assert!(
            decode_header(
                b"ARCA-BACKUP\n and more bytes than a header needs......",
                from
            )
            .is_err()
        );
        let mut other_kdf = file_with(&params(M_COST_KIB, 3, 1));
        other_kdf[MAGIC.len() + 1] = 2;
        assert!(decode_header(&other_kdf, from).is_err());
    }

    #[test]
    fn file_provider_only() {
        let mut config = ArcaConfig::default();
        assert!(require_file_provider(&config, "export").is_ok());
        config.root_key.provider = "pkcs11".into();
        let err = require_file_provider(&config, "export")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("only with the file root key provider") && err.contains("pkcs11"),
            "{err}"
        );
    }
}
