//! The REST calls the monitor needs: profile (token check) and today's order, trade and position books.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::{Authorization, install_crypto_provider};
use super::model::{Order, Position, Trade};

/// The real REST API.
pub const FYERS_REST_URL: &str = "https://api-t1.fyers.in/api/v3";

/// REST codes that mean the token is bad (PROTOCOL.md §2).
const AUTH_CODES: [i64; 4] = [-8, -15, -16, -17];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    #[error("the server refused the access token ({message}): log in again")]
    Auth { code: i64, message: String },
    #[error("rate limited by the server ({message})")]
    RateLimited { message: String },
    #[error("the server answered {code}: {message}")]
    Api { code: i64, message: String },
    #[error("HTTP {status} from {path}")]
    Http { status: u16, path: String },
    #[error("cannot reach the REST API: {0}")]
    Transport(String),
    #[error("unexpected answer from {path}: {detail}")]
    Decode { path: String, detail: String },
}

impl RestError {
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. })
    }

    pub fn is_retryable(&self) -> bool {
        !self.is_auth()
    }
}

/// Rows of one book; rows that do not parse are counted, not fatal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    pub bad_rows: Vec<String>,
}

/// The account profile (`GET /profile`).
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, serde::Serialize)]
pub struct Profile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub fy_id: String,
    #[serde(default)]
    pub email_id: Option<String>,
}

#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    auth: Authorization,
}

impl RestClient {
    pub fn new(base_url: &str, auth: Authorization) -> Result<Self, RestError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orderwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| RestError::Transport(err.to_string()))?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            auth,
        })
    }

    /// One GET, with the Fyers error conventions turned into `RestError`.
    async fn get_json(&self, path: &str) -> Result<Value, RestError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", self.auth.header_value().ok_or_else(bad_token)?)
            .send()
            .await
            .map_err(|err| RestError::Transport(err.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|err| RestError::Transport(err.to_string()))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let code = json
            .as_ref()
            .and_then(|j| j.get("code"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let failed = json.as_ref().and_then(|j| j.get("s")).and_then(Value::as_str) != Some("ok");
        if AUTH_CODES.contains(&code) || status == 401 || status == 403 {
            return Err(RestError::Auth { code, message });
        }
        if status == 429 || code == -429 {
            return Err(RestError::RateLimited { message });
        }
        match json {
            Some(_) if failed && code != 0 => Err(RestError::Api { code, message }),
            _ if !(200..300).contains(&status) => Err(RestError::Http {
                status,
                path: path.to_owned(),
            }),
            Some(json) if !failed => Ok(json),
            _ => Err(RestError::Decode {
                path: path.to_owned(),
                detail: "not a Fyers JSON answer".into(),
            }),
        }
    }

    async fn rows<T: DeserializeOwned>(&self, path: &str, key: &str) -> Result<Rows<T>, RestError> {
        let mut json = self.get_json(path).await?;
        let list = match json.get_mut(key).map(Value::take) {
            Some(Value::Array(list)) => list,
            // Fyers sends null or leaves the key out when the book is empty.
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(RestError::Decode {
                    path: path.into(),
                    detail: format!("{key} is not a list"),
                });
            }
        };
        let mut rows = Rows {
            rows: Vec::with_capacity(list.len()),
            bad_rows: Vec::new(),
        };
        for row in list {
            match serde_json::from_value::<T>(row) {
                Ok(parsed) => rows.rows.push(parsed),
                Err(err) => rows.bad_rows.push(format!("{path}: {err}")),
            }
        }
        Ok(rows)
    }

    pub async fn profile(&self) -> Result<Profile, RestError> {
        let mut json = self.get_json("/profile").await?;
        let data = json.get_mut("data").map(Value::take).unwrap_or_default();
        serde_json::from_value(data).map_err(|err| RestError::Decode {
            path: "/profile".into(),
            detail: err.to_string(),
        })
    }

    pub async fn orders(&self) -> Result<Rows<Order>, RestError> {
        self.rows("/orders", "orderBook").await
    }

    pub async fn trades(&self) -> Result<Rows<Trade>, RestError> {
        self.rows("/tradebook", "tradeBook").await
    }

    pub async fn positions(&self) -> Result<Rows<Position>, RestError> {
        self.rows("/positions", "netPositions").await
    }
}

/// A token that cannot be sent as a header (Authorization::parse lets no such token through).
fn bad_token() -> RestError {
    RestError::Decode {
        path: "authorization".to_owned(),
        detail: "the token holds bytes a header cannot".to_owned(),
    }
}
