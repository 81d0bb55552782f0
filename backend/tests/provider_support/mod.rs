//! A backend on the production code path (`Config::from_lookup` → `providers::build`) pointed at
//! a testkit fake, served on 127.0.0.1 so the fake's webhooks arrive over real HTTP; the same
//! manual clock for both sides.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use lightning_checkout_backend::store::Invoice;
use lightning_checkout_backend::{app, AppState, Config, ManualClock};
use testkit::{Fake, Kind, Webhook};

use crate::common::{Answer, TestApp, T0};

pub struct Setup {
    pub fake: Fake,
    pub app: TestApp,
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The fake's environment plus `extra` (an empty value removes a variable).
pub async fn setup(kind: Kind, extra: &[(&str, &str)]) -> Setup {
    setup_with(Fake::start(kind).await, extra).await
}

/// As [`setup`], with a fake already started (e.g. an HTTPS one).
pub async fn setup_with(fake: Fake, extra: &[(&str, &str)]) -> Setup {
    let kind = fake.shared.kind;
    fake.set_now(T0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut env = crate::common::test_env(&dir, fake.env().into_iter().collect());
    for (k, v) in extra {
        env.insert((*k).to_owned(), v.replace("{base}", &base));
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let clock = Arc::new(ManualClock::new(T0));
    let state = AppState::with_clock(config, clock.clone()).expect("state");
    let router = app(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    fake.set_webhook_url(&format!("{base}/api/webhooks/{}", kind.as_str()));
    Setup {
        fake,
        app: TestApp { state, clock, dir },
        base,
        server,
    }
}

impl Setup {
    /// Move both clocks.
    pub fn advance(&self, secs: u64) {
        self.app.clock.advance(secs);
        self.fake.set_now(self.fake.now() + secs);
    }

    pub fn row(&self, id: &str) -> Invoice {
        self.app.state.store().get(id).unwrap().unwrap()
    }

    /// Send a webhook to the backend (in-process).
    pub async fn post_webhook(&self, w: &Webhook) -> Answer {
        self.post_webhook_parts(&w.body, &w.headers).await
    }

    pub async fn post_webhook_parts(&self, body: &[u8], headers: &[(String, String)]) -> Answer {
        let kind = self.fake.shared.kind.as_str();
        let mut req = Request::post(format!("/api/webhooks/{kind}"));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        self.app
            .send(req.body(Body::from(body.to_vec())).unwrap())
            .await
    }

    /// Create and return (id, body).
    pub async fn create(&self, body: &str) -> (String, serde_json::Value) {
        let v = self.app.create_ok(body).await;
        (v["id"].as_str().unwrap().to_owned(), v)
    }

    pub async fn status(&self, id: &str) -> serde_json::Value {
        let a = self.app.status(id).await;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.bytes));
        a.json()
    }

    pub fn assert_no_rejections(&self) {
        assert!(
            self.fake.rejections().is_empty(),
            "the fake refused: {:?}",
            self.fake.rejections()
        );
    }
}
