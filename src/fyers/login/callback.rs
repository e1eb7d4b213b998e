//! The one-shot loopback listener the browser is sent back to after a Fyers login: it checks the
//! `state`, tells the user they can close the tab, and hands the auth code over.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::{LoginError, auth_code_from};
use crate::fyers::auth::Secret;

/// Where a loopback redirect URI points: `Some` when Orderwatch can listen there itself.
pub fn loopback_addr(redirect_uri: &reqwest::Url) -> Option<SocketAddr> {
    if redirect_uri.scheme() != "http" {
        return None;
    }
    let ip = match redirect_uri.host()? {
        url::Host::Domain("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        url::Host::Domain(_) => return None,
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
    };
    let loopback = ip.is_loopback() || ip == IpAddr::V6(Ipv6Addr::LOCALHOST);
    loopback.then(|| SocketAddr::new(ip, redirect_uri.port_or_known_default().unwrap_or(80)))
}

type Outcome = Result<Secret, LoginError>;

/// A listener waiting for one redirect. Dropping it stops listening.
pub struct Callback {
    addr: SocketAddr,
    outcome: oneshot::Receiver<Outcome>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Callback {
    /// Listens where `redirect_uri` points (it must be a loopback `http://` address) for the
    /// redirect that carries `state`.
    pub async fn bind(redirect_uri: &reqwest::Url, state: &str) -> Result<Self, LoginError> {
        let addr = loopback_addr(redirect_uri).ok_or_else(|| {
            LoginError::Input(
                "the redirect URI is not a loopback http:// address: paste the address the browser \
                 goes to instead"
                    .to_owned(),
            )
        })?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|err| LoginError::Listen {
                addr: addr.to_string(),
                detail: err.to_string(),
            })?;
        let addr = listener.local_addr().unwrap_or(addr);
        let (sender, outcome) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let path = match redirect_uri.path() {
            "" => "/",
            path => path,
        };
        let shared = Arc::new(Waiting {
            path: path.to_owned(),
            state: state.to_owned(),
            sender: Mutex::new(Some(sender)),
        });
        // Every request comes to one handler that compares the path itself: a redirect URI's path
        // is the user's text, not a route pattern (`/:cb` or `/*x` would be read as one).
        let app = axum::Router::new().fallback(redirected).with_state(shared);
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(err) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::warn!(%err, "login listener stopped");
            }
        });
        Ok(Self {
            addr,
            outcome,
            stop: Some(stop),
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The auth code, once the browser comes back (or why it did not).
    pub async fn wait(mut self, timeout: Duration) -> Result<Secret, LoginError> {
        let outcome = tokio::time::timeout(timeout, &mut self.outcome).await;
        match outcome {
            Err(_) => Err(LoginError::TimedOut(timeout.as_secs().div_ceil(60))),
            Ok(Err(_)) => Err(LoginError::Cancelled),
            Ok(Ok(outcome)) => outcome,
        }
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // Let the last page finish, then stop; abort in case a connection lingers.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let server = self.server.abort_handle();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                server.abort();
            });
        } else {
            server.abort();
        }
    }
}

struct Waiting {
    /// The redirect URI's path.
    path: String,
    state: String,
    sender: Mutex<Option<oneshot::Sender<Outcome>>>,
}

/// The browser coming back. Only a request with the login's `state` settles it: anything else (a
/// stray tab, another local program, an `<img>` on some web page) is answered and ignored.
async fn redirected(State(waiting): State<Arc<Waiting>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET || uri.path() != waiting.path {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let query = uri.query().unwrap_or_default();
    let ours = url::form_urlencoded::parse(query.as_bytes())
        .any(|(key, value)| key == "state" && value == waiting.state.as_str());
    if !ours {
        return page(
            StatusCode::BAD_REQUEST,
            "Not this login",
            "This address does not carry the login Orderwatch is waiting for, so it was ignored. \
             Log in from Orderwatch to get here with the right one.",
        );
    }
    let outcome = auth_code_from(&format!("?{query}"), Some(&waiting.state));
    let page = match &outcome {
        Ok(_) => page(
            StatusCode::OK,
            "Logged in",
            "Orderwatch has your login. You can close this tab.",
        ),
        Err(err) => page(
            StatusCode::BAD_REQUEST,
            "Login failed",
            &format!("Orderwatch: {err}."),
        ),
    };
    match waiting.sender.lock().take() {
        Some(sender) => {
            let _ = sender.send(outcome);
            page
        }
        None => page_for_late_visit(),
    }
}

fn page_for_late_visit() -> Response {
    page(
        StatusCode::GONE,
        "Already done",
        "This login has already been handled. You can close this tab.",
    )
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let text = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Orderwatch: {title}</title></head>\
         <body style=\"font-family:sans-serif;margin:4em auto;max-width:32em\">\
         <h1>{title}</h1><p>{text}</p></body></html>"
    );
    (status, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_addresses_are_listened_on() {
        let addr = |uri: &str| loopback_addr(&reqwest::Url::parse(uri).unwrap());
        assert_eq!(
            addr("http://127.0.0.1:17800/fyers/callback"),
            Some(([127, 0, 0, 1], 17800).into())
        );
        assert_eq!(addr("http://localhost/cb"), Some(([127, 0, 0, 1], 80).into()));
        assert_eq!(addr("http://[::1]:9000/cb").map(|a| a.port()), Some(9000));
        assert_eq!(addr("https://127.0.0.1:17800/cb"), None);
        assert_eq!(addr("http://example.com/cb"), None);
        assert_eq!(addr("http://10.0.0.1/cb"), None);
    }
}
