//! Trading keys and the key directory.
//!
//! A key is an ed25519 key pair; its account address is
//! [`novation_chain::tx::address_of`] of the public key. Each key lives in its own JSON file
//! `DIR/NAME.json`:
//!
//! ```json
//! {
//!   "name": "alice",
//!   "scheme": "ed25519",
//!   "address": "9f…(40 hex digits)",
//!   "public_key": "(64 hex digits)",
//!   "secret_key": "(64 hex digits)",
//!   "master": null
//! }
//! ```
//!
//! `master` is set for an agent key (an API key that trades for another account once that
//! account approved it); its transactions then name the master.
//!
//! The directory is, in order of precedence, the one given explicitly (`--keys-dir`), the
//! environment variable [`KEYS_DIR_ENV`], or `$HOME/.novation/keys`. On Unix the directory is
//! created with mode 0700 and files with 0600, a new key never overwrites an existing file, and a
//! key file that group or others may read is refused (like ssh does) with the `chmod` that fixes
//! it. Loading checks that the stored address and public key are those of the secret.
//!
//! Names are 1 to [`NAME_LEN_MAX`] characters of `A-Z a-z 0-9 _ -` (they become file names).
//! Nothing here prints a secret: [`Key`]'s `Debug` shows only the name and address.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_math::algebra::Random as _;
use novation_chain::tx::{address_of, PublicKey as TxPublicKey};
use novation_types::Address;
use serde::{Deserialize, Serialize};

/// The environment variable naming the key directory.
pub const KEYS_DIR_ENV: &str = "NOVATION_KEYS";

/// Longest key name.
pub const NAME_LEN_MAX: usize = 64;

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The name is not a valid key name.
    #[error("invalid key name '{0}': use 1 to {NAME_LEN_MAX} characters of A-Z a-z 0-9 _ -")]
    BadName(String),
    /// No key file with this name.
    #[error("no key named '{name}' in {dir} (create one with `novation keys new {name}`)")]
    NotFound { name: String, dir: PathBuf },
    /// A key with this name exists already.
    #[error("a key named '{name}' already exists at {path}")]
    Exists { name: String, path: PathBuf },
    /// The file may be read by group or others.
    #[error("{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
    /// The file is not a key file.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// No directory given, no environment variable, and no home directory.
    #[error("no key directory: pass --keys-dir or set {KEYS_DIR_ENV} (HOME is not set)")]
    NoDirectory,
    /// A file system error.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_path_buf(), source }
}

/// A named trading key.
pub struct Key {
    name: String,
    secret: ed25519::PrivateKey,
    public: ed25519::PublicKey,
    address: Address,
    master: Option<Address>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("address", &hex::encode(self.address.0))
            .field("master", &self.master.map(|m| hex::encode(m.0)))
            .finish_non_exhaustive()
    }
}

impl Key {
    /// A new random key (OS randomness).
    pub fn generate(name: &str) -> Result<Key, KeyError> {
        check_name(name)?;
        Ok(Key::from_secret(name, ed25519::PrivateKey::random(rand::rng())))
    }

    /// A key from its secret.
    pub fn from_secret(name: &str, secret: ed25519::PrivateKey) -> Key {
        let public = secret.public_key();
        let address = address_of(&TxPublicKey::Ed25519(public.clone()));
        Key { name: name.to_string(), secret, public, address, master: None }
    }

    /// The same key, acting as an agent of `master`.
    pub fn with_master(mut self, master: Option<Address>) -> Key {
        self.master = master;
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signing key.
    pub fn secret(&self) -> &ed25519::PrivateKey {
        &self.secret
    }

    /// The public key.
    pub fn public_key(&self) -> &ed25519::PublicKey {
        &self.public
    }

    /// The key's own address (the signer).
    pub fn address(&self) -> Address {
        self.address
    }

    /// The account this key acts for as an agent, if any.
    pub fn master(&self) -> Option<Address> {
        self.master
    }

    /// The account its transactions act for: the master for an agent key, else its own address.
    pub fn account(&self) -> Address {
        self.master.unwrap_or(self.address)
    }

    /// The secret as hex (for `keys show --secret` and backups only).
    pub fn secret_hex(&self) -> String {
        hex::encode(self.secret.encode())
    }

    fn to_file(&self) -> KeyFile {
        KeyFile {
            name: self.name.clone(),
            scheme: SCHEME_ED25519.into(),
            address: hex::encode(self.address.0),
            public_key: hex::encode(self.public.encode()),
            secret_key: self.secret_hex(),
            master: self.master.map(|m| hex::encode(m.0)),
        }
    }

    fn from_file(file: &KeyFile, path: &Path) -> Result<Key, KeyError> {
        let invalid = |reason: String| KeyError::Invalid { path: path.to_path_buf(), reason };
        if file.scheme != SCHEME_ED25519 {
            return Err(invalid(format!("unknown key scheme '{}'", file.scheme)));
        }
        let bytes = hex::decode(file.secret_key.trim())
            .map_err(|e| invalid(format!("secret_key is not hex: {e}")))?;
        let secret = ed25519::PrivateKey::decode(bytes)
            .map_err(|e| invalid(format!("secret_key is not an ed25519 key: {e}")))?;
        let key = Key::from_secret(&file.name, secret);
        if hex::encode(key.public.encode()) != file.public_key.trim().to_ascii_lowercase() {
            return Err(invalid("public_key does not match secret_key".into()));
        }
        if hex::encode(key.address.0) != file.address.trim().to_ascii_lowercase() {
            return Err(invalid("address does not match secret_key".into()));
        }
        let master = file.master.as_deref().map(parse_address).transpose().map_err(invalid)?;
        Ok(key.with_master(master))
    }
}

const SCHEME_ED25519: &str = "ed25519";

/// A key file as stored.
#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    name: String,
    scheme: String,
    address: String,
    public_key: String,
    secret_key: String,
    #[serde(default)]
    master: Option<String>,
}

/// Parses a hex address (40 digits, `0x` optional).
pub fn parse_address(text: &str) -> Result<Address, String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|e| format!("address '{text}' is not hex: {e}"))?;
    let arr: [u8; 20] = bytes
        .try_into()
        .map_err(|_| format!("address '{text}' must be 20 bytes (40 hex digits)"))?;
    Ok(Address(arr))
}

/// What `keys list` shows of a key: no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Its name.
    pub name: String,
    /// Its address, hex.
    pub address: String,
    /// The master it acts for, hex.
    pub master: Option<String>,
}

/// A directory of key files.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let ok = !name.is_empty()
        && name.len() <= NAME_LEN_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadName(name.to_string()))
    }
}

impl Keystore {
    /// A key store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Keystore {
        Keystore { dir: dir.into() }
    }

    /// `explicit`, else [`KEYS_DIR_ENV`], else `$HOME/.novation/keys`.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Keystore, KeyError> {
        if let Some(dir) = explicit {
            return Ok(Keystore::new(dir));
        }
        if let Some(dir) = std::env::var_os(KEYS_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(Keystore::new(PathBuf::from(dir)));
        }
        let home =
            std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or(KeyError::NoDirectory)?;
        Ok(Keystore::new(PathBuf::from(home).join(".novation").join("keys")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of key `name`.
    pub fn path(&self, name: &str) -> Result<PathBuf, KeyError> {
        check_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Generates and stores a new key; refuses to replace an existing one.
    pub fn create(&self, name: &str) -> Result<Key, KeyError> {
        let key = Key::generate(name)?;
        self.store(&key)?;
        Ok(key)
    }

    /// Stores `key` under its name; refuses to replace an existing file.
    pub fn store(&self, key: &Key) -> Result<PathBuf, KeyError> {
        let path = self.path(key.name())?;
        create_private_dir(&self.dir)?;
        let text = serde_json::to_string_pretty(&key.to_file())
            .map_err(|e| KeyError::Invalid { path: path.clone(), reason: e.to_string() })?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                KeyError::Exists { name: key.name().to_string(), path: path.clone() }
            }
            _ => KeyError::Io { path: path.clone(), source: e },
        })?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.write_all(b"\n").map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        Ok(path)
    }

    /// Loads key `name`.
    pub fn load(&self, name: &str) -> Result<Key, KeyError> {
        let path = self.path(name)?;
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::NotFound { name: name.to_string(), dir: self.dir.clone() })
            }
            Err(e) => return Err(KeyError::Io { path, source: e }),
        };
        check_private(&path)?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Invalid { path: path.clone(), reason: e.to_string() })?;
        if file.name != name {
            return Err(KeyError::Invalid {
                path,
                reason: format!("the file names key '{}', not '{name}'", file.name),
            });
        }
        Key::from_file(&file, &path)
    }

    /// Every key in the directory, by name (an absent directory holds none). Files that are not
    /// key files are skipped.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(KeyError::Io { path: self.dir.clone(), source: e }),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(io(&self.dir))?.path();
            let Some(name) =
                path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if check_name(name).is_err() {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else { continue };
            let Ok(file) = serde_json::from_str::<KeyFile>(&text) else { continue };
            out.push(KeyInfo {
                name: name.to_string(),
                address: file.address,
                master: file.master,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io(dir))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen { path: path.to_path_buf(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Keystore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ks = Keystore::new(dir.path().join("keys"));
        (dir, ks)
    }

    #[test]
    fn a_key_round_trips_through_its_file() {
        let (_dir, ks) = store();
        let key = ks.create("alice").unwrap();
        let back = ks.load("alice").unwrap();
        assert_eq!(back.address(), key.address());
        assert_eq!(back.secret_hex(), key.secret_hex());
        assert_eq!(back.account(), key.address());
        assert_eq!(
            ks.list().unwrap(),
            vec![KeyInfo {
                name: "alice".into(),
                address: hex::encode(key.address().0),
                master: None
            }]
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_and_open_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, ks) = store();
        ks.create("bob").unwrap();
        let path = ks.path("bob").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(ks.dir()).unwrap().permissions().mode() & 0o777, 0o700);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = ks.load("bob").unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn existing_keys_are_never_overwritten() {
        let (_dir, ks) = store();
        let first = ks.create("carol").unwrap();
        assert!(matches!(ks.create("carol"), Err(KeyError::Exists { .. })));
        assert_eq!(ks.load("carol").unwrap().address(), first.address());
    }

    #[test]
    fn bad_names_missing_keys_and_tampered_files_are_explained() {
        let (_dir, ks) = store();
        for bad in ["", "../x", "a b", "a.json", &"x".repeat(65)] {
            assert!(matches!(ks.create(bad), Err(KeyError::BadName(_))), "{bad}");
        }
        let err = ks.load("nobody").unwrap_err();
        assert!(err.to_string().contains("novation keys new nobody"), "{err}");
        ks.create("dave").unwrap();
        let path = ks.path("dave").unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mut file: KeyFile = serde_json::from_str(&text).unwrap();
        file.address = "00".repeat(20);
        fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        let err = ks.load("dave").unwrap_err();
        assert!(err.to_string().contains("address does not match"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = Key::generate("eve").unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.secret_hex()), "{shown}");
        assert!(shown.contains(&hex::encode(key.address().0)));
    }
}
