use super::*;

fn registry(lifetime: Duration) -> Registry {
    Registry::new(LoginConfig {
        app_id: "SIMAPP1234-100".into(),
        secret_key: "SIMSECRET".into(),
        pin: "1234".into(),
        client_id: "XS00000".into(),
        token_lifetime: lifetime,
    })
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn tokens_are_jwt_shaped_with_fyers_claims() {
    let registry = registry(Duration::from_secs(3600));
    let token = registry.issue_access(Duration::from_secs(3600));
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
    let access = claims(&token);
    assert_eq!(access["sub"], "access_token");
    assert_eq!(access["fy_id"], "XS00000");
    assert_eq!(access["appType"], 100);
    let iat = access["iat"].as_i64().unwrap();
    assert_eq!(access["exp"].as_i64(), Some(iat + 3600));
    assert_eq!(crate::fyers::login::token_expiry(&token), Some(iat + 3600));
    assert_ne!(
        token,
        registry.issue_access(Duration::from_secs(3600)),
        "tokens are unique"
    );
    assert_eq!(claims(&registry.issue_refresh())["sub"], "refresh_token");
}

#[test]
fn the_registry_tells_alive_dead_and_unknown_apart() {
    let registry = registry(Duration::from_secs(3600));
    let token = registry.issue_access(Duration::from_secs(3600));
    let header = format!("SIMAPP1234-100:{token}");
    assert!(matches!(registry.check(Some(&header)), Verdict::Alive { .. }));
    assert_eq!(
        registry.check(Some(&format!("OTHER-100:{token}"))),
        Verdict::Unknown
    );
    assert_eq!(registry.check(Some(&token)), Verdict::Unknown);
    assert_eq!(registry.check(None), Verdict::Unknown);
    let dead = format!("SIMAPP1234-100:{}", registry.issue_access(Duration::ZERO));
    assert_eq!(registry.check(Some(&dead)), Verdict::Dead);
    registry.log_out(Some(&header));
    assert_eq!(registry.check(Some(&header)), Verdict::Dead);
}

#[test]
fn expiring_now_spares_refresh_tokens() {
    let registry = registry(Duration::from_secs(3600));
    let header = format!(
        "SIMAPP1234-100:{}",
        registry.issue_access(Duration::from_secs(3600))
    );
    let refresh = registry.issue_refresh();
    registry.expire_all_now();
    assert_eq!(registry.check(Some(&header)), Verdict::Dead);
    assert!(registry.refresh_alive(&refresh));
}

#[test]
fn auth_codes_work_once() {
    let registry = registry(Duration::from_secs(3600));
    let code = registry.issue_code();
    assert!(registry.take_code(&code));
    assert!(!registry.take_code(&code));
    assert!(!registry.take_code("made-up"));
}

#[test]
fn requests_need_the_grant_and_every_field() {
    let body = br#"{"grant_type":"authorization_code","appIdHash":"h","code":"c"}"#;
    assert_eq!(
        read_request(body, "authorization_code", ["appIdHash", "code"]),
        Some(["h".to_owned(), "c".to_owned()])
    );
    assert_eq!(read_request(body, "refresh_token", ["appIdHash"]), None);
    assert_eq!(
        read_request(body, "authorization_code", ["appIdHash", "pin"]),
        None
    );
    assert_eq!(read_request(b"not json", "authorization_code", ["code"]), None);
}

#[test]
fn pages_escape_what_they_show() {
    let Html(html) = page("t", "<b>", Some("http://x/?a=1&b=2"));
    assert!(html.contains("&lt;b&gt;"), "{html}");
    assert!(html.contains("href=\"http://x/?a=1&amp;b=2\""), "{html}");
}
