//! The local API's key: random, kept in the keychain like the other secrets (or given in the
//! environment or a file), compared in constant time, and never shown or logged.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::fyers::auth::Secret;
use crate::secrets::{Vault, VaultError};

/// Where a key can be given instead of the keychain.
pub const API_KEY_ENV: &str = "ORDERWATCH_API_KEY";

/// The fewest characters a given key may have: 22 base64 characters carry 128 bits.
const MIN_LEN: usize = 22;

/// A key that requests must carry. `Debug` shows a mask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey(Secret);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the API key is too short: give at least {MIN_LEN} characters (128 bits), or let Orderwatch make one"
    )]
    TooShort,
    #[error("the API key may hold only visible ASCII characters")]
    NotPrintable,
    #[error("cannot read the API key file {path}: {error}")]
    File { path: String, error: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl ApiKey {
    /// 256 random bits from the OS-seeded generator, URL-safe (it can go in a query).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(Secret::from(format!("ow_{text}")))
    }

    /// A key the user gave (trimmed); refused when too short to be safe.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() < MIN_LEN {
            return Err(KeyError::TooShort);
        }
        if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(KeyError::NotPrintable);
        }
        Ok(Self(Secret::new(text)))
    }

    /// The key in `ORDERWATCH_API_KEY`, if it is set (an empty value counts as unset).
    pub fn from_env() -> Option<Result<Self, KeyError>> {
        let given = std::env::var(API_KEY_ENV).ok()?;
        (!given.trim().is_empty()).then(|| Self::parse(&given))
    }

    /// Read from a file (the whole file, trimmed).
    pub fn from_file(path: &std::path::Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|err| KeyError::File {
            path: path.display().to_string(),
            error: err.to_string(),
        })?;
        Self::parse(&text)
    }

    /// The keychain's key, made and saved there on first use. Blocks (the keychain may).
    pub fn from_vault(vault: &Vault) -> Result<Self, KeyError> {
        if let Some(saved) = vault.load_api_key()?
            && let Ok(key) = Self::parse(saved.expose())
        {
            return Ok(key);
        }
        let key = Self::generate();
        vault.save_api_key(&key.0)?;
        Ok(key)
    }

    /// A new key, saved in place of the old one. Blocks.
    pub fn regenerate(vault: &Vault) -> Result<Self, KeyError> {
        let key = Self::generate();
        vault.save_api_key(&key.0)?;
        Ok(key)
    }

    /// The keychain's key, or with `fresh` a new one in its place. Blocks.
    pub fn from_vault_or_new(vault: &Vault, fresh: bool) -> Result<Self, KeyError> {
        if fresh {
            Self::regenerate(vault)
        } else {
            Self::from_vault(vault)
        }
    }

    /// Whether `given` is this key, in time that does not depend on where they differ (both are
    /// hashed first, so not on their lengths either).
    pub fn matches(&self, given: &str) -> bool {
        let want = Sha256::digest(self.0.expose().as_bytes());
        let got = Sha256::digest(given.trim().as_bytes());
        want.ct_eq(&got).into()
    }

    /// For the clipboard, on the user's click, and for the user's own programs.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_long_and_checked_whole() {
        let key = ApiKey::generate();
        let other = ApiKey::generate();
        assert_ne!(key, other);
        // 256 bits in 43 base64 characters after the prefix.
        assert_eq!(key.expose().len(), 46);
        assert!(key.matches(key.expose()));
        assert!(!key.matches(other.expose()));
        assert!(!key.matches(""));
        assert!(!key.matches(&key.expose()[..45]));
        assert!(!format!("{key:?}").contains(&key.expose()[3..]));
        assert_eq!(ApiKey::parse("short"), Err(KeyError::TooShort));
        assert_eq!(
            ApiKey::parse("0123456789 0123456789 01"),
            Err(KeyError::NotPrintable)
        );
        assert!(
            ApiKey::parse(" 0123456789abcdefghijKL\n").is_ok_and(|key| key.matches("0123456789abcdefghijKL"))
        );
    }

    #[test]
    fn the_keychain_keeps_one_key_until_regenerated() {
        let vault = Vault::session_only();
        let first = ApiKey::from_vault(&vault).expect("made");
        assert_eq!(ApiKey::from_vault(&vault).expect("kept"), first);
        let second = ApiKey::regenerate(&vault).expect("regenerated");
        assert_ne!(second, first);
        assert_eq!(ApiKey::from_vault(&vault).expect("kept"), second);
    }
}
