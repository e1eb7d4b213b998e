//! The REST calls the monitor needs: profile (token check) and today's order, trade and position books.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

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
    #[error("the answer from {path} is over the {limit}-byte limit")]
    TooLarge { path: String, limit: usize },
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

    /// One GET: the body, read up to `MAX_BODY_BYTES`, with the Fyers error conventions turned
    /// into `RestError`. The answer's parts are read in place (`Answer`), with no JSON tree.
    async fn get(&self, path: &str) -> Result<Body, RestError> {
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", self.auth.header_value().ok_or_else(bad_token)?)
            .send()
            .await
            .map_err(|err| RestError::Transport(err.without_url().to_string()))?;
        let status = response.status().as_u16();
        let too_large = || RestError::TooLarge {
            path: path.to_owned(),
            limit: MAX_BODY_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| RestError::Transport(err.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = Body {
            path: path.to_owned(),
            bytes,
        };
        let answer = body.answer().ok();
        let code = answer.as_ref().and_then(|answer| answer.code).unwrap_or(0);
        let message = answer
            .as_ref()
            .and_then(|answer| answer.message.clone())
            .unwrap_or_default();
        let failed = answer.as_ref().and_then(|answer| answer.s.as_deref()) != Some("ok");
        if AUTH_CODES.contains(&code) || status == 401 || status == 403 {
            return Err(RestError::Auth { code, message });
        }
        if status == 429 || code == -429 {
            return Err(RestError::RateLimited { message });
        }
        match answer {
            Some(_) if failed && code != 0 => Err(RestError::Api { code, message }),
            _ if !(200..300).contains(&status) => Err(RestError::Http {
                status,
                path: path.to_owned(),
            }),
            Some(_) if !failed => Ok(body),
            _ => Err(body.decode_error("not a Fyers JSON answer")),
        }
    }

    async fn rows<T: DeserializeOwned>(&self, path: &str, key: &str) -> Result<Rows<T>, RestError> {
        self.get(path).await?.rows(key)
    }

    pub async fn profile(&self) -> Result<Profile, RestError> {
        let body = self.get("/profile").await?;
        let answer = body.answer()?;
        let data = answer.field("data").map_or("{}", RawValue::get);
        serde_json::from_str(data).map_err(|err| body.decode_error(&err.to_string()))
    }

    // Rows are parsed straight into the boxes the feed's events hold: one allocation a row, and
    // no second copy of a big day's book while it is moved into events.
    pub async fn orders(&self) -> Result<Rows<Box<Order>>, RestError> {
        self.rows("/orders", "orderBook").await
    }

    pub async fn trades(&self) -> Result<Rows<Box<Trade>>, RestError> {
        self.rows("/tradebook", "tradeBook").await
    }

    pub async fn positions(&self) -> Result<Rows<Box<Position>>, RestError> {
        self.rows("/positions", "netPositions").await
    }
}

/// The largest answer read: a day of 100,000 orders is some 90 MB of JSON.
pub const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// Reads the book under `key` from an answer's bytes as `RestClient` does (for benchmarks and
/// tools that have the bytes already).
pub fn rows_from_bytes<T: DeserializeOwned>(
    bytes: Vec<u8>,
    path: &str,
    key: &str,
) -> Result<Rows<T>, RestError> {
    Body {
        path: path.to_owned(),
        bytes,
    }
    .rows(key)
}

/// An answer's bytes, and where they came from.
struct Body {
    path: String,
    bytes: Vec<u8>,
}

/// The top level of a Fyers answer, read in place: its status fields, and every other key's value
/// left as raw JSON until it is asked for.
struct Answer<'a> {
    s: Option<String>,
    code: Option<i64>,
    message: Option<String>,
    fields: Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>,
}

impl Body {
    fn answer(&self) -> Result<Answer<'_>, RestError> {
        let top: Vec<(std::borrow::Cow<'_, str>, &RawValue)> =
            serde_json::from_slice::<TopLevel<'_>>(&self.bytes)
                .map_err(|_| self.decode_error("not a Fyers JSON answer"))?
                .0;
        let text = |key: &str| {
            let raw = top.iter().find(|(name, _)| name == key)?.1;
            serde_json::from_str::<String>(raw.get()).ok()
        };
        let code = top
            .iter()
            .find(|(name, _)| name == "code")
            .and_then(|(_, raw)| serde_json::from_str::<i64>(raw.get()).ok());
        Ok(Answer {
            s: text("s"),
            code,
            message: text("message"),
            fields: top,
        })
    }

    /// The rows of the book under `key`, each parsed straight into `T`; a bad row is counted.
    fn rows<T: DeserializeOwned>(&self, key: &str) -> Result<Rows<T>, RestError> {
        let answer = self.answer()?;
        let list: Vec<&RawValue> = match answer.field(key) {
            // Fyers sends null or leaves the key out when the book is empty.
            None => Vec::new(),
            Some(raw) if raw.get() == "null" => Vec::new(),
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|_| self.decode_error(&format!("{key} is not a list")))?,
        };
        let mut rows = Rows {
            rows: Vec::with_capacity(list.len()),
            bad_rows: Vec::new(),
        };
        for row in list {
            match serde_json::from_str::<T>(row.get()) {
                Ok(parsed) => rows.rows.push(parsed),
                Err(err) => rows.bad_rows.push(format!("{}: {err}", self.path)),
            }
        }
        Ok(rows)
    }

    fn decode_error(&self, detail: &str) -> RestError {
        RestError::Decode {
            path: self.path.clone(),
            detail: detail.to_owned(),
        }
    }
}

impl<'a> Answer<'a> {
    fn field(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, raw)| *raw)
    }
}

/// A JSON object's entries in order, values unparsed.
struct TopLevel<'a>(Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    entries.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(TopLevel(entries))
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// A token that cannot be sent as a header (Authorization::parse lets no such token through).
fn bad_token() -> RestError {
    RestError::Decode {
        path: "authorization".to_owned(),
        detail: "the token holds bytes a header cannot".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body {
            path: "/orders".to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_answer_is_read_in_place() {
        let body = body(
            r#"{"s":"ok","code":200,"message":"","orderBook":[{"id":"1","qty":5},{"id":2}],"extra":{"x":[1,2]}}"#,
        );
        let answer = body.answer().unwrap();
        assert_eq!(answer.s.as_deref(), Some("ok"));
        assert_eq!(answer.code, Some(200));
        let list: Vec<&RawValue> = serde_json::from_str(answer.field("orderBook").unwrap().get()).unwrap();
        assert_eq!(list.len(), 2);
        let first: Order = serde_json::from_str(list[0].get()).unwrap();
        assert_eq!((first.id.as_str(), first.qty), ("1", Some(5)));
        assert!(
            serde_json::from_str::<Order>(list[1].get()).is_err(),
            "a bad row is an error of its own"
        );
        assert_eq!(answer.field("extra").unwrap().get(), r#"{"x":[1,2]}"#);
        assert!(answer.field("missing").is_none());
    }

    #[test]
    fn what_is_not_a_fyers_answer_is_a_decode_error() {
        for text in ["", "[1,2]", "not json", r#"{"s":"ok""#, "null"] {
            let err = body(text).answer().err();
            assert!(matches!(err, Some(RestError::Decode { .. })), "{text:?}: {err:?}");
        }
    }
}
