use super::*;

#[test]
fn app_id_hash_is_sha256_of_id_and_secret() {
    // printf 'XC4EOD67IM-100:SECRET' | sha256sum
    assert_eq!(
        app_id_hash("XC4EOD67IM-100", "SECRET"),
        "442996688f16d8da36c3be306ab5da725068189af116712c32bc23e0671c6f2a"
    );
}

#[test]
fn app_ids_are_checked() {
    assert!(check_app_id("XC4EOD67IM-100").is_ok());
    assert!(check_app_id(" ABCD-200 ").is_ok());
    for bad in [
        "",
        "xc4eod67im-100",
        "XC4EOD67IM",
        "XC4-100",
        "XC4EOD67IM-1",
        "XC4EOD67IM 100",
    ] {
        assert!(check_app_id(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn redirect_uris_are_checked() {
    assert!(check_redirect_uri(DEFAULT_REDIRECT_URI).is_ok());
    assert!(check_redirect_uri("https://example.com/cb").is_ok());
    for bad in ["", "127.0.0.1:17800", "ftp://x/cb", "http://"] {
        assert!(check_redirect_uri(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_login_url_carries_everything() {
    let url = authcode_url(
        "http://127.0.0.1:1/api/v3/",
        "APP-100",
        DEFAULT_REDIRECT_URI,
        "s1",
    );
    assert_eq!(
        url,
        "http://127.0.0.1:1/api/v3/generate-authcode?client_id=APP-100&redirect_uri=\
         http%3A%2F%2F127.0.0.1%3A17800%2Ffyers%2Fcallback&response_type=code&state=s1"
    );
}

#[test]
fn the_auth_code_is_read_from_a_redirect_or_alone() {
    let url = "http://127.0.0.1:17800/fyers/callback?s=ok&code=200&auth_code=abc.def-1&state=s1";
    assert_eq!(auth_code_from(url, Some("s1")).unwrap().expose(), "abc.def-1");
    assert_eq!(auth_code_from(url, None).unwrap().expose(), "abc.def-1");
    assert_eq!(auth_code_from(url, Some("s2")), Err(LoginError::StateMismatch));
    assert_eq!(
        auth_code_from(" abc.def-1 ", Some("s1")).unwrap().expose(),
        "abc.def-1"
    );
    assert_eq!(auth_code_from("", None), Err(LoginError::NoAuthCode));
    assert_eq!(auth_code_from("not a code!", None), Err(LoginError::NoAuthCode));
    assert_eq!(
        auth_code_from("http://x/cb?s=ok&state=s1", Some("s1")),
        Err(LoginError::NoAuthCode)
    );
    assert!(matches!(
        auth_code_from("http://x/cb?s=error&message=user%20cancelled&state=s1", Some("s1")),
        Err(LoginError::Denied(message)) if message == "user cancelled"
    ));
}

#[test]
fn expiry_is_read_from_the_jwt() {
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":1764036000,"sub":"x"}"#);
    assert_eq!(
        token_expiry(&format!("eyJhbGciOiJIUzI1NiJ9.{claims}.sig")),
        Some(1_764_036_000)
    );
    for bad in ["", "opaque-token", "a.b.c", "a.!!!.c"] {
        assert_eq!(token_expiry(bad), None, "{bad:?}");
    }
}
