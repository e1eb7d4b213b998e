//! Opening the order socket: the authorised upgrade over TLS, and what its refusal means.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::auth::{Authorization, install_crypto_provider};
use super::wire::MAX_FRAME_BYTES;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The real order socket.
pub const FYERS_SOCKET_URL: &str = "wss://socket.fyers.in/trade/v3";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketError {
    #[error("the server refused the access token (HTTP 403): log in again")]
    AuthRejected,
    #[error("the server answered the upgrade with HTTP {0}")]
    Http(u16),
    #[error("invalid socket URL: {0}")]
    BadUrl(String),
    #[error("cannot reach the order socket: {0}")]
    Connect(String),
    #[error("the order socket did not answer within {0:?}")]
    Timeout(Duration),
}

impl SocketError {
    /// The token is bad: retrying cannot help until a new one is given.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::AuthRejected)
    }

    /// Worth another attempt after a pause.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::AuthRejected | Self::BadUrl(_) => false,
            // 404 and other 4xx mean the URL is wrong; 5xx and the rest are passing trouble.
            Self::Http(status) => !(400..500).contains(status) || *status == 429 || *status == 408,
            Self::Connect(_) | Self::Timeout(_) => true,
        }
    }
}

/// Opens the socket with the `authorization: APP_ID:TOKEN` header.
pub async fn connect(url: &str, auth: &Authorization, timeout: Duration) -> Result<Socket, SocketError> {
    install_crypto_provider();
    let mut request = url
        .into_client_request()
        .map_err(|err| SocketError::BadUrl(err.to_string()))?;
    let header = auth
        .header_value()
        .ok_or_else(|| SocketError::BadUrl("bad token".into()))?;
    request.headers_mut().insert("authorization", header);
    // Frames over MAX_FRAME_BYTES are read and then refused as bad frames, so one oversized
    // frame is counted instead of tearing the connection down; the transport limit is far above.
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES * 16))
        .max_frame_size(Some(MAX_FRAME_BYTES * 16));
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(SocketError::Timeout(timeout)),
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => match response.status().as_u16() {
            403 | 401 => Err(SocketError::AuthRejected),
            status => Err(SocketError::Http(status)),
        },
        Ok(Err(tokio_tungstenite::tungstenite::Error::Url(err))) => Err(SocketError::BadUrl(err.to_string())),
        Ok(Err(err)) => Err(SocketError::Connect(err.to_string())),
    }
}
