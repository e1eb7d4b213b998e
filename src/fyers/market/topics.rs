//! From the things Orderwatch knows to what the market-data socket speaks: the token's `hsm_key`,
//! a position's fyToken to its topic, and the REST call that finds fyTokens for bare symbols.

use std::collections::HashMap;

use base64::Engine;
use serde_json::Value;

/// Exchange-segment codes (the fyToken's first four characters) and their topic segment.
const SEGMENTS: [(&str, &str); 8] = [
    ("1010", "nse_cm"),
    ("1011", "nse_fo"),
    ("1012", "cde_fo"),
    ("1020", "nse_com"),
    ("1120", "mcx_fo"),
    ("1210", "bse_cm"),
    ("1211", "bse_fo"),
    ("1212", "bcs_fo"),
];

/// Symbols per symbol-token request at most.
pub const SYMBOLS_PER_REQUEST: usize = 500;

/// Why no `hsm_key` could be had from a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token carries no market-data key (not a Fyers JWT with hsm_key)")]
    Invalid,
}

/// The market-data credential: the `hsm_key` claim of the access token's JWT (`APP_ID:` and
/// everything before the last `:` dropped first, unlike the SDK, whose decoding trips on some
/// app ids). `now`: Unix seconds, to refuse an expired token as the SDK does.
pub fn hsm_key(access_token: &str, now: i64) -> Result<String, KeyError> {
    let jwt = access_token.rsplit(':').next().unwrap_or(access_token);
    let payload = jwt.split('.').nth(1).ok_or(KeyError::Invalid)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| KeyError::Invalid)?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| KeyError::Invalid)?;
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp < now)
    {
        return Err(KeyError::Expired);
    }
    claims
        .get("hsm_key")
        .and_then(Value::as_str)
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .ok_or(KeyError::Invalid)
}

/// The bare JWT the symbol-token call takes (no `APP_ID:`).
pub fn bare_jwt(access_token: &str) -> &str {
    access_token.split_once(':').map_or(access_token, |(_, jwt)| jwt)
}

/// A scrip's topic from its fyToken: `sf|<segment>|<exchange token>`. `None` for a token whose
/// segment the socket does not serve (the SDK skips those too).
pub fn scrip_topic(fy_token: &str) -> Option<String> {
    let code = fy_token.get(..4)?;
    let token = fy_token.get(10..).filter(|token| !token.is_empty())?;
    let segment = SEGMENTS.iter().find(|(known, _)| *known == code)?.1;
    Some(format!("sf|{segment}|{token}"))
}

/// The symbol-token answer: fyTokens of the symbols Fyers knows, and those it does not.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SymbolTokens {
    pub valid: HashMap<String, String>,
    pub invalid: Vec<String>,
}

/// Reads a `POST /data/symbol-token` answer (`{"s":"ok","validSymbol":{...},"invalidSymbol":[...]}`).
pub fn read_symbol_tokens(answer: &Value) -> Result<SymbolTokens, String> {
    if answer.get("s").and_then(Value::as_str) != Some("ok") {
        let message = answer
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(format!("symbol-token refused: {message}"));
    }
    let valid = answer
        .get("validSymbol")
        .and_then(Value::as_object)
        .map(|valid| {
            valid
                .iter()
                .filter_map(|(symbol, token)| Some((symbol.clone(), token.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let invalid = answer
        .get("invalidSymbol")
        .and_then(Value::as_array)
        .map(|invalid| {
            invalid
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(SymbolTokens { valid, invalid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: Value) -> String {
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!(
            "XYZ123ABCD-100:{}.{}.sig",
            encode(b"{\"alg\":\"HS256\"}"),
            encode(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn the_hsm_key_comes_from_the_jwt_payload() {
        let now = 1_766_547_900;
        let good = token(serde_json::json!({"exp": now + 60, "hsm_key": "deadbeef"}));
        assert_eq!(hsm_key(&good, now).as_deref(), Ok("deadbeef"));
        let old = token(serde_json::json!({"exp": now - 1, "hsm_key": "deadbeef"}));
        assert_eq!(hsm_key(&old, now), Err(KeyError::Expired));
        let none = token(serde_json::json!({"exp": now + 60}));
        assert_eq!(hsm_key(&none, now), Err(KeyError::Invalid));
        assert_eq!(hsm_key("not a jwt", now), Err(KeyError::Invalid));
        assert_eq!(bare_jwt(&good), good.split_once(':').unwrap().1);
    }

    #[test]
    fn topics_from_fy_tokens() {
        assert_eq!(scrip_topic("10100000003045").as_deref(), Some("sf|nse_cm|3045"));
        assert_eq!(scrip_topic("101125122552175").as_deref(), Some("sf|nse_fo|52175"));
        assert_eq!(scrip_topic("99990000003045"), None);
        assert_eq!(scrip_topic("1010"), None);
    }
}
