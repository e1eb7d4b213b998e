//! What every request passes before a route: its `Host` must name this machine (a page on
//! another site cannot reach the API through DNS rebinding), its `Origin`, if it has one, must be
//! one the user allowed, and it must carry the API key (`Authorization: Bearer`, `X-API-Key`, or,
//! for a browser's WebSocket, which cannot set headers, `?api_key=`).

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{ApiConfig, ApiError, AppState};
use crate::api::key::ApiKey;

pub(super) struct Guard {
    key: ApiKey,
    /// Lower case, no trailing slash.
    origins: Vec<String>,
    /// Any IP address as Host (the server was opened to the network on purpose).
    any_ip_host: bool,
}

impl Guard {
    pub(super) fn new(config: &ApiConfig) -> Result<Self, String> {
        let origins = config
            .allowed_origins
            .iter()
            .map(|origin| normalise_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            key: config.key.clone(),
            origins,
            any_ip_host: config.allow_remote,
        })
    }

    /// CORS answers for the allowed origins (preflights included); none when none are allowed.
    pub(super) fn cors(&self) -> Option<CorsLayer> {
        if self.origins.is_empty() {
            return None;
        }
        let origins: Vec<HeaderValue> = self
            .origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("x-api-key"),
                ]),
        )
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = strip_port(host);
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let ip = name.trim_start_matches('[').trim_end_matches(']');
        match ip.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || self.any_ip_host,
            Err(_) => false,
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        normalise_origin(origin).is_ok_and(|origin| self.origins.contains(&origin))
    }
}

/// `http://Localhost:3000/` → `http://localhost:3000`; an origin is a scheme and a host only.
fn normalise_origin(origin: &str) -> Result<String, String> {
    let trimmed = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let valid = (trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        && !trimmed
            .split_once("://")
            .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'));
    if valid {
        Ok(trimmed)
    } else {
        Err(format!(
            "{origin:?} is not an origin: give a scheme and host like http://localhost:3000"
        ))
    }
}

/// `127.0.0.1:8001` → `127.0.0.1`, `[::1]:8001` → `[::1]`, `localhost` → `localhost`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(ip, _)| &host[..ip.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Refuses a foreign `Host` or a browser origin the user did not allow, before anything else.
pub(super) async fn host_and_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
    match host {
        Some(host) if state.guard.host_allowed(host) => {}
        Some(_) => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "refused: the Host header does not name this machine (use 127.0.0.1 or localhost)",
            )
            .into_response();
        }
        None => {
            return ApiError::new(StatusCode::FORBIDDEN, "refused: a Host header is required")
                .into_response();
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !state.guard.origin_allowed(origin) {
            let message = format!(
                "refused: the origin {origin:?} is not allowed; add it under Settings › Local API (or --allow-origin)"
            );
            return ApiError::new(StatusCode::FORBIDDEN, message).into_response();
        }
    }
    next.run(request).await
}

/// Lets through only requests with the key.
pub(super) async fn authorise(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let given = given_key(request.headers()).or_else(|| {
        let websocket = request.uri().path().ends_with("/stream");
        websocket.then(|| query_key(request.uri().query())).flatten()
    });
    match given {
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no API key: send Authorization: Bearer <key> or X-API-Key: <key> (Settings › Local API has the key)",
        )
        .into_response(),
        Some(given) if !state.guard.key.matches(&given) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "wrong API key").into_response()
        }
        Some(_) => next.run(request).await,
    }
}

fn given_key(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, key) = value.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| key.trim().to_owned())
        });
    bearer.or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
            .map(|key| key.trim().to_owned())
    })
}

fn query_key(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "api_key")
        .map(|(_, key)| key.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow_remote: bool) -> Guard {
        let mut config = ApiConfig::new(ApiKey::generate());
        config.allow_remote = allow_remote;
        config.allowed_origins = vec!["http://localhost:3000/".into()];
        Guard::new(&config).expect("valid")
    }

    #[test]
    fn only_this_machine_is_a_host() {
        let local = guard(false);
        for host in [
            "127.0.0.1:8001",
            "localhost:8001",
            "LOCALHOST",
            "[::1]:8001",
            "127.0.0.2",
            "[::1]",
        ] {
            assert!(local.host_allowed(host), "{host}");
        }
        for host in [
            "evil.example:8001",
            "192.168.1.5:8001",
            "localhost.evil.example",
            "[::2]:80",
            "",
        ] {
            assert!(!local.host_allowed(host), "{host}");
        }
        let remote = guard(true);
        assert!(remote.host_allowed("192.168.1.5:8001"));
        assert!(!remote.host_allowed("evil.example:8001"), "names can be rebound");
    }

    #[test]
    fn origins_match_whole() {
        let guard = guard(false);
        assert!(guard.origin_allowed("http://localhost:3000"));
        assert!(guard.origin_allowed("HTTP://Localhost:3000/"));
        assert!(!guard.origin_allowed("http://localhost:3001"));
        assert!(!guard.origin_allowed("http://localhost:3000.evil.example"));
        assert!(!guard.origin_allowed("null"));
        assert!(normalise_origin("localhost:3000").is_err());
        assert!(normalise_origin("http://localhost:3000/app").is_err());
    }
}
