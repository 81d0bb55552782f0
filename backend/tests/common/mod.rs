//! Helpers shared by the integration tests: an app on a temporary DATA_DIR with a manual clock,
//! and one-shot requests.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lightning_checkout_backend::provider::Provider;
use lightning_checkout_backend::{app, AppState, Config, ManualClock};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

/// 2026-01-01T00:00:00Z.
pub const T0: u64 = 1_767_225_600;

pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as JSON, without `server_time` (the clock at the answer, not part of the
    /// invoice: tests compare invoices across answers given at different times).
    pub fn json(&self) -> Value {
        let mut v = self.json_with_time();
        if let Some(o) = v.as_object_mut() {
            o.remove("server_time");
        }
        v
    }

    /// The body as JSON, as sent.
    pub fn json_with_time(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes))
        })
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error without message: {v}"
        );
        v["error"]["code"].as_str().expect("error.code").to_owned()
    }
}

/// The `CHECKOUT_SECRET` of the test apps.
pub const TEST_SECRET: &str = "test-checkout-secret-0123456789abcdef";

/// `body` (a create request) with an `order_token` signed for its order id, amount and
/// description, valid for ten years from [`T0`]: what a shop's server would hand the page.
pub fn signed(body: &str) -> String {
    use lightning_checkout_backend::order_token::TokenAmount;
    let mut v: Value = serde_json::from_str(body).expect("test body is JSON");
    v["order_token"] = order_token(
        v["order_id"].as_str().expect("order_id"),
        TokenAmount::Exact(v["amount_sat"].as_u64().expect("amount_sat")),
        v["description"].as_str().unwrap_or(""),
        T0 + 10 * 365 * 86_400,
    )
    .into();
    v.to_string()
}

/// An order token signed with [`TEST_SECRET`], issued at [`T0`].
pub fn order_token(
    order_id: &str,
    amount: lightning_checkout_backend::order_token::TokenAmount,
    description: &str,
    exp: u64,
) -> String {
    use lightning_checkout_backend::config::Secret;
    use lightning_checkout_backend::order_token::{sign, OrderClaims};
    let claims = OrderClaims {
        order_id: order_id.into(),
        amount,
        description: description.into(),
        exp,
        iat: Some(T0),
    };
    sign(&claims, &Secret::new(TEST_SECRET))
}

/// Arbitrary claims signed with [`TEST_SECRET`] (HS256): a well-signed token whose claims the
/// backend's own signer would never write.
pub fn sign_claims(claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let h = base64_url(r#"{"alg":"HS256","typ":"JWT"}"#);
    let c = base64_url(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(TEST_SECRET.as_bytes()).expect("HMAC key");
    mac.update(format!("{h}.{c}").as_bytes());
    format!("{h}.{c}.{}", base64_url(mac.finalize().into_bytes()))
}

/// Base64url without padding, as JWTs use it.
pub fn base64_url(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The backend binary's `sign-order` command with `args` under `CHECKOUT_SECRET=secret`.
pub fn sign_order_command(args: &[&str], secret: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lightning-checkout-backend"))
        .arg("sign-order")
        .args(args)
        .env("CHECKOUT_SECRET", secret)
        .output()
        .expect("the backend binary runs")
}

/// The claims of the token that `sign-order args` prints under [`TEST_SECRET`] (which must
/// succeed), as this backend verifies them now; and that now (Unix seconds).
pub fn sign_order_claims(
    args: &[&str],
) -> (lightning_checkout_backend::order_token::OrderClaims, u64) {
    use lightning_checkout_backend::config::Secret;
    let out = sign_order_command(args, TEST_SECRET);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("UTF-8");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let secret = Secret::new(TEST_SECRET);
    let claims =
        lightning_checkout_backend::order_token::verify(token.trim(), &secret, now, 4_500_000)
            .expect("a token this backend accepts");
    (claims, now)
}

/// The environment of a backend on `dir` (data, www and pkg inside it) with the test secret and
/// no lookup cache, on top of `env` (e.g. a fake provider's variables).
pub fn test_env(
    dir: &TempDir,
    mut env: std::collections::HashMap<String, String>,
) -> std::collections::HashMap<String, String> {
    for (k, sub) in [("DATA_DIR", "data"), ("WWW_DIR", "www"), ("PKG_DIR", "pkg")] {
        env.insert(k.into(), dir.path().join(sub).display().to_string());
    }
    env.insert("CHECKOUT_SECRET".into(), TEST_SECRET.into());
    // The tests step a manual clock and poll right after changing a provider: no lookup cache
    // unless a test asks for one.
    env.insert("LOOKUP_CACHE_MS".into(), "0".into());
    env
}

/// `POST {base}/api/invoices` over real HTTP; expects 201, the body.
pub async fn http_create(base: &str, body: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/invoices"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the backend answers");
    let status = res.status();
    let bytes = res.bytes().await.expect("body");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The demo's `POST {base}/api/dev/invoices/{id}/pay` over real HTTP; expects 200.
pub async fn http_pay(base: &str, id: &str) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/dev/invoices/{id}/pay"))
        .send()
        .await
        .expect("the backend answers");
    assert_eq!(res.status(), 200);
}

pub fn config(dir: &TempDir) -> Config {
    let mut c = Config::with_data_dir(dir.path().join("data"));
    c.shop.checkout_secret = Some(lightning_checkout_backend::config::Secret::new(TEST_SECRET));
    c.www_dir = dir.path().join("www");
    c.pkg_dir = dir.path().join("pkg");
    // The tests step a manual clock and poll right after changing a provider: no lookup cache
    // unless a test asks for one.
    c.limits.lookup_cache = std::time::Duration::ZERO;
    c
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = config(&dir);
        edit(&mut c);
        let clock = Arc::new(ManualClock::new(T0));
        let state = AppState::with_clock(c, clock.clone()).expect("state");
        Self { state, clock, dir }
    }

    pub fn with_provider(provider: Arc<dyn Provider>, edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = config(&dir);
        edit(&mut c);
        let clock = Arc::new(ManualClock::new(T0));
        let state = AppState::with_provider(c, provider, clock.clone()).expect("state");
        Self { state, clock, dir }
    }

    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        send(self.router(), req).await
    }

    pub async fn post_json(&self, path: &str, body: &str) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn create(&self, body: &str) -> Answer {
        self.post_json("/api/invoices", body).await
    }

    /// Create and expect 201; the body.
    pub async fn create_ok(&self, body: &str) -> Value {
        let a = self.create(body).await;
        assert_eq!(
            a.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&a.bytes)
        );
        a.json()
    }

    /// Create and expect a refusal with `status` and `code`; the answer.
    pub async fn create_refused(&self, body: &str, status: StatusCode, code: &str) -> Answer {
        let a = self.create(body).await;
        assert_eq!(
            a.status,
            status,
            "body {body}: {}",
            String::from_utf8_lossy(&a.bytes)
        );
        assert_eq!(a.code(), code, "body {body}");
        a
    }

    /// Create with `{"order_token": token}` alone and expect a refusal with `status` and `code`.
    pub async fn token_refused(&self, token: &str, status: StatusCode, code: &str) -> Answer {
        let body = serde_json::json!({ "order_token": token }).to_string();
        self.create_refused(&body, status, code).await
    }

    /// `n` polls of invoice `id` at once, each over its own copy of the router; their answers.
    pub async fn concurrent_polls(&self, id: &str, n: usize) -> Vec<Answer> {
        let mut polls = tokio::task::JoinSet::new();
        for _ in 0..n {
            let app = self.router();
            let path = format!("/api/invoices/{id}");
            polls.spawn(
                async move { send(app, Request::get(path).body(Body::empty()).unwrap()).await },
            );
        }
        polls.join_all().await
    }

    pub async fn status(&self, id: &str) -> Answer {
        self.get(&format!("/api/invoices/{id}")).await
    }

    pub async fn pay(&self, id: &str) -> Answer {
        self.send(
            Request::post(format!("/api/dev/invoices/{id}/pay"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

pub async fn send(router: Router, req: Request<Body>) -> Answer {
    let res = router.oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        bytes,
    }
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
