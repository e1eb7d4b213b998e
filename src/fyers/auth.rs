//! The credential every Fyers call carries, kept out of logs and screens.

use std::fmt;

/// The `APP_ID:ACCESS_TOKEN` value of the `authorization` header, as the Fyers SDKs take it.
/// Its `Debug` shows only the app id; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    #[error("the access token must be given as APP_ID:ACCESS_TOKEN (e.g. XYZ123ABC-100:eyJ0...)")]
    Shape,
    #[error("the access token contains characters that cannot go in an HTTP header")]
    Characters,
}

impl Authorization {
    /// The `authorization` header's value, marked sensitive so the HTTP libraries keep it out of
    /// their debug output. `None` if the token holds bytes a header cannot.
    pub fn header_value(&self) -> Option<http::HeaderValue> {
        let mut value = http::HeaderValue::from_str(self.expose()).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    pub fn new(app_id: &str, access_token: &str) -> Result<Self, AuthorizationError> {
        Self::parse(&format!("{}:{}", app_id.trim(), access_token.trim()))
    }

    /// Reads `APP_ID:ACCESS_TOKEN`.
    pub fn parse(value: &str) -> Result<Self, AuthorizationError> {
        let value = value.trim();
        let (app_id, token) = value.split_once(':').ok_or(AuthorizationError::Shape)?;
        if app_id.is_empty() || token.is_empty() {
            return Err(AuthorizationError::Shape);
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AuthorizationError::Characters);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn app_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(app_id, _)| app_id)
    }

    /// The header value. Only for the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown: the app id and a hint of the token, never the token.
    pub fn masked(&self) -> String {
        format!("{}:••••••", self.app_id())
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authorization({})", self.masked())
    }
}

/// A secret key, token, auth code or PIN: shown nowhere. `Debug` prints a mask, there is no
/// `Display`, and `expose` is only for the wire and the keychain.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: &str) -> Self {
        Self(value.trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(••••••)"
        })
    }
}

impl Authorization {
    /// The access token alone (for its expiry, and the keychain).
    pub fn access_token(&self) -> Secret {
        Secret(self.0.split_once(':').map_or("", |(_, token)| token).to_owned())
    }
}

/// Makes rustls use one crypto provider for the whole process (both TLS clients share it).
pub fn install_crypto_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_marked_sensitive() {
        let auth = Authorization::parse("XYZ123ABC-100:eyJ0eXAiSECRET").unwrap();
        let header = auth.header_value().unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("SECRET"), "{header:?}");
    }

    #[test]
    fn never_shows_the_token() {
        let auth = Authorization::parse("XYZ123ABC-100:eyJ0eXAiSECRET").unwrap();
        assert_eq!(auth.app_id(), "XYZ123ABC-100");
        assert!(!format!("{auth:?}").contains("SECRET"));
        assert!(!auth.masked().contains("SECRET"));
        assert_eq!(auth.expose(), "XYZ123ABC-100:eyJ0eXAiSECRET");
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in ["", "token-only", ":token", "app:", "app:tok en", "app:tök"] {
            assert!(Authorization::parse(bad).is_err(), "{bad:?}");
        }
    }
}
