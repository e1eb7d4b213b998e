//! Where secrets live: the OS keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows) through `keyring-core`, or, when the user chooses it, memory for this
//! session only. Never a file. Calls may block on the OS: keep them off the UI thread and out of
//! async tasks (`spawn_blocking`).

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use crate::fyers::auth::Secret;

/// The keychain service every entry of Orderwatch is filed under.
pub const SERVICE: &str = "orderwatch";

/// Chooses the store: `system` (default) or `session` (memory only, for this process).
pub const KEYCHAIN_ENV: &str = "ORDERWATCH_KEYCHAIN";

/// The keychain user name of the local API's key.
pub const API_KEY_USER: &str = "local-api/api-key";

/// The secrets of one app id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    SecretKey,
    AccessToken,
    RefreshToken,
    /// Only when the user opted in to remembering it.
    Pin,
}

impl SecretKind {
    pub const ALL: [SecretKind; 4] = [Self::SecretKey, Self::AccessToken, Self::RefreshToken, Self::Pin];

    fn name(self) -> &'static str {
        match self {
            Self::SecretKey => "secret-key",
            Self::AccessToken => "access-token",
            Self::RefreshToken => "refresh-token",
            Self::Pin => "pin",
        }
    }

    /// The keychain user name of this secret for `app_id`: `XC4EOD67IM-100/access-token`.
    pub fn user(self, app_id: &str) -> String {
        format!("{app_id}/{}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("no keychain is available ({0})")]
    Unavailable(String),
    #[error("the keychain refused: {0}")]
    Failed(String),
}

/// Runs a keychain call on a thread that may block (the OS keychain does), not on the async
/// runtime's. A call that never finished (the runtime is shutting down) is a `VaultError` too.
pub async fn off_runtime<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|_| Err(VaultError::Failed("the keychain call did not finish".to_owned())))
}

impl VaultError {
    /// A message free of anything the store echoed back (a malformed secret's bytes, say).
    fn from_keyring(err: keyring_core::Error) -> Self {
        use keyring_core::Error as E;
        match err {
            E::NoStorageAccess(inner) => Self::Unavailable(inner.to_string()),
            E::PlatformFailure(inner) => Self::Failed(inner.to_string()),
            E::BadEncoding(_) | E::BadDataFormat(..) => {
                Self::Failed("a stored secret is not readable text".to_owned())
            }
            E::Ambiguous(_) => Self::Failed("several entries match".to_owned()),
            other => Self::Failed(other.to_string()),
        }
    }
}

/// Which store the vault writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultKind {
    /// The OS keychain: survives restarts.
    Keychain,
    /// Memory only: gone when Orderwatch quits.
    SessionOnly,
}

/// The secrets store.
#[derive(Clone)]
pub struct Vault {
    store: Arc<CredentialStore>,
    kind: VaultKind,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({:?})", self.kind)
    }
}

impl Vault {
    /// The OS keychain, checked to answer. Blocks.
    pub fn system() -> Result<Self, VaultError> {
        let store = system_store()?;
        let vault = Self {
            store,
            kind: VaultKind::Keychain,
        };
        // A lookup that must come back "no entry" proves the keychain answers (and is unlocked).
        vault.load("orderwatch-probe", SecretKind::AccessToken)?;
        Ok(vault)
    }

    /// What `ORDERWATCH_KEYCHAIN` asks for: the OS keychain unless it says `session`.
    pub fn from_env() -> Result<Self, VaultError> {
        match std::env::var(KEYCHAIN_ENV).as_deref() {
            Ok("session") => Ok(Self::session_only()),
            _ => Self::system(),
        }
    }

    /// Memory only, for this process: the user's explicit choice when there is no keychain.
    pub fn session_only() -> Self {
        // keyring-core's in-memory store: no persistence, entries shared by service and user.
        let store: Arc<CredentialStore> = match keyring_core::mock::Store::new() {
            Ok(store) => store,
            Err(_) => unreachable!("the in-memory store cannot fail to start"),
        };
        Self {
            store,
            kind: VaultKind::SessionOnly,
        }
    }

    pub fn kind(&self) -> VaultKind {
        self.kind
    }

    pub fn save(&self, app_id: &str, kind: SecretKind, secret: &Secret) -> Result<(), VaultError> {
        if secret.is_empty() {
            return self.delete(app_id, kind);
        }
        self.entry(app_id, kind)?
            .set_password(secret.expose())
            .map_err(VaultError::from_keyring)
    }

    pub fn load(&self, app_id: &str, kind: SecretKind) -> Result<Option<Secret>, VaultError> {
        match self.entry(app_id, kind)?.get_password() {
            Ok(secret) => Ok(Some(Secret::from(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }

    pub fn delete(&self, app_id: &str, kind: SecretKind) -> Result<(), VaultError> {
        match self.entry(app_id, kind)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }

    /// Forgets every secret of `app_id`.
    pub fn delete_all(&self, app_id: &str) -> Result<(), VaultError> {
        SecretKind::ALL
            .into_iter()
            .try_for_each(|kind| self.delete(app_id, kind))
    }

    /// The local API's key (one per user, not per account: a logout keeps it).
    pub fn load_api_key(&self) -> Result<Option<Secret>, VaultError> {
        match self.api_key_entry()?.get_password() {
            Ok(secret) => Ok(Some(Secret::from(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }

    pub fn save_api_key(&self, key: &Secret) -> Result<(), VaultError> {
        self.api_key_entry()?
            .set_password(key.expose())
            .map_err(VaultError::from_keyring)
    }

    /// Forgets the local API's key (the next start makes a new one).
    pub fn delete_api_key(&self) -> Result<(), VaultError> {
        match self.api_key_entry()?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(err) => Err(VaultError::from_keyring(err)),
        }
    }

    fn api_key_entry(&self) -> Result<Entry, VaultError> {
        Entry::new_in_store(&self.store, SERVICE, API_KEY_USER).map_err(VaultError::from_keyring)
    }

    fn entry(&self, app_id: &str, kind: SecretKind) -> Result<Entry, VaultError> {
        Entry::new_in_store(&self.store, SERVICE, &kind.user(app_id)).map_err(VaultError::from_keyring)
    }
}

#[cfg(target_os = "linux")]
fn system_store() -> Result<Arc<CredentialStore>, VaultError> {
    let store = zbus_secret_service_keyring_store::Store::new()
        .map_err(|err| VaultError::Unavailable(describe_unavailable(&err)))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn system_store() -> Result<Arc<CredentialStore>, VaultError> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|err| VaultError::Unavailable(describe_unavailable(&err)))?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn system_store() -> Result<Arc<CredentialStore>, VaultError> {
    let store = windows_native_keyring_store::store::Store::new()
        .map_err(|err| VaultError::Unavailable(describe_unavailable(&err)))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn system_store() -> Result<Arc<CredentialStore>, VaultError> {
    Err(VaultError::Unavailable(
        "this platform has no supported keychain".to_owned(),
    ))
}

fn describe_unavailable(err: &keyring_core::Error) -> String {
    match err {
        keyring_core::Error::NoStorageAccess(inner) | keyring_core::Error::PlatformFailure(inner) => {
            inner.to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_per_app_and_kind() {
        let vault = Vault::session_only();
        let token = Secret::new("eyJ.token.sig");
        vault.save("APP1-100", SecretKind::AccessToken, &token).unwrap();
        assert_eq!(
            vault.load("APP1-100", SecretKind::AccessToken).unwrap(),
            Some(token)
        );
        assert_eq!(vault.load("APP1-100", SecretKind::RefreshToken).unwrap(), None);
        assert_eq!(vault.load("APP2-100", SecretKind::AccessToken).unwrap(), None);
        vault.delete_all("APP1-100").unwrap();
        assert_eq!(vault.load("APP1-100", SecretKind::AccessToken).unwrap(), None);
    }

    #[test]
    fn errors_never_carry_secret_bytes() {
        let err = VaultError::from_keyring(keyring_core::Error::BadEncoding(b"SECRETBYTES".to_vec()));
        assert!(!format!("{err} {err:?}").contains("SECRETBYTES"));
    }
}
