//! Static files, CORS, headers, health, unknown routes, and the demo provider's webhook route.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::TestApp;
use lightning_checkout_backend::config::CorsOrigins;

fn write_assets(app: &TestApp) {
    let www = app.dir.path().join("www");
    let pkg = app.dir.path().join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    std::fs::write(pkg.join("x.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(pkg.join("lightning_checkout.js"), "export {};").unwrap();
}

#[tokio::test]
async fn pkg_serves_wasm_and_js_to_any_origin() {
    let app = TestApp::new();
    write_assets(&app);
    let a = app
        .send(
            Request::get("/pkg/x.wasm")
                .header(header::ORIGIN, "https://other.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(a.bytes, b"\0asm\x01\0\0\0");
    let a = app.get("/pkg/lightning_checkout.js").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let a = app.get("/pkg/missing.js").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn root_serves_the_demo_page_without_cors() {
    let app = TestApp::new();
    write_assets(&app);
    let a = app.get("/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(String::from_utf8_lossy(&a.bytes).contains("shop"));
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(app.get("/index.html").await.status, StatusCode::OK);
    assert_eq!(app.get("/nothing-here").await.status, StatusCode::NOT_FOUND);
    // Nothing outside WWW_DIR.
    let a = app.get("/../data/node_key").await;
    assert_ne!(a.status, StatusCode::OK);
    let a = app.get("/%2e%2e/data/node_key").await;
    assert_ne!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn health_and_no_store() {
    let app = TestApp::new();
    let a = app.get("/api/health").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        serde_json::json!({"status": "ok", "provider": "demo", "demo_payments": true,
            "signed_orders": true, "unsigned_orders": "any", "shop_webhooks": false,
            "rate_source": "fixed"})
    );
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    let created = app.create(r#"{"amount_sat": 1}"#).await;
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(created.headers[header::CONTENT_TYPE], "application/json");
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.status(&id).await.headers[header::CACHE_CONTROL],
        "no-store"
    );
}

#[tokio::test]
async fn unknown_api_routes_and_methods() {
    let app = TestApp::new();
    let a = app.get("/api/nope").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "not_found");
    let a = app.get("/api/invoices").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.code(), "method_not_allowed");
    let a = app
        .send(
            Request::delete("/api/invoices/inv_aaaaaaaaaaaaaaaaaaaaaaaaaa")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.code(), "method_not_allowed");
}

#[tokio::test]
async fn demo_has_no_webhooks() {
    let app = TestApp::new();
    for path in [
        "/api/webhooks/demo",
        "/api/webhooks/lnd",
        "/api/webhooks/unknown",
    ] {
        let a = app.post_json(path, "{}").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.code(), "not_found");
    }
}

async fn preflight(app: &TestApp, origin: &str) -> common::Answer {
    app.send(
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/invoices")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::with_config(|c| {
        c.cors_origins = "https://shop.example, http://localhost:3000"
            .parse()
            .unwrap()
    });
    let a = preflight(&app, "https://shop.example").await;
    assert!(a.status.is_success(), "{}", a.status);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let methods = a.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("GET") && methods.contains("POST"),
        "{methods}"
    );
    assert!(a.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .contains("content-type"));
    assert!(a
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
        .is_none());

    let a = preflight(&app, "https://evil.example").await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // The actual request from an allowed origin carries the header; from another, not.
    let a = app
        .send(
            Request::post("/api/invoices")
                .header(header::ORIGIN, "http://localhost:3000")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"amount_sat": 1}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    let a = app
        .send(
            Request::get("/api/health")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn same_origin_by_default_and_star_when_asked() {
    let app = TestApp::new();
    let a = preflight(&app, "https://shop.example").await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(!a.status.is_success());

    let app = TestApp::with_config(|c| c.cors_origins = CorsOrigins::Any);
    let a = preflight(&app, "https://anyone.example").await;
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

/// A widget-sized JS file: compresses well, as the real one does.
fn big_js() -> String {
    (0..2000)
        .map(|i| format!("export const v{i} = 'lightning checkout {i}';\n"))
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

async fn get_with(
    app: &TestApp,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> common::Answer {
    let mut r = Request::get(path);
    for (k, v) in headers {
        r = r.header(k, *v);
    }
    app.send(r.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn pkg_files_go_out_gzip_compressed_once_with_vary_and_etag() {
    let app = TestApp::new();
    write_assets(&app);
    let js = big_js();
    let file = app.dir.path().join("pkg").join("lightning-checkout.js");
    std::fs::write(&file, &js).unwrap();
    let gz = [(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")];

    // Compressed for a client that takes gzip, with the headers a cache needs.
    let a = get_with(&app, "/pkg/lightning-checkout.js", &gz).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(a.headers[header::VARY], "accept-encoding");
    assert!(a.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        a.headers[header::CONTENT_LENGTH],
        a.bytes.len().to_string().as_str()
    );
    assert!(
        a.bytes.len() * 5 < js.len(),
        "{} of {}",
        a.bytes.len(),
        js.len()
    );
    assert_eq!(gunzip(&a.bytes), js.as_bytes());
    let gz_etag = a.headers[header::ETAG].clone();
    assert!(gz_etag.to_str().unwrap().starts_with('"'));

    // The same bytes (compressed once, kept) and the same tag on the next request.
    let b = get_with(&app, "/pkg/lightning-checkout.js", &gz).await;
    assert_eq!(b.bytes, a.bytes);
    assert_eq!(b.headers[header::ETAG], gz_etag);

    // As it is for a client that does not take gzip (or refuses it), with its own tag.
    for refuse in [None, Some("gzip;q=0, identity"), Some("br")] {
        let headers: Vec<_> = refuse
            .map(|v| (header::ACCEPT_ENCODING, v))
            .into_iter()
            .collect();
        let c = get_with(&app, "/pkg/lightning-checkout.js", &headers).await;
        assert_eq!(c.status, StatusCode::OK);
        assert!(
            c.headers.get(header::CONTENT_ENCODING).is_none(),
            "{refuse:?}"
        );
        assert_eq!(c.headers[header::VARY], "accept-encoding");
        assert_eq!(c.bytes, js.as_bytes());
        assert_ne!(c.headers[header::ETAG], gz_etag);
    }

    // Revalidation: 304 without a body for the tag of the form asked for; 200 for another.
    let tag = gz_etag.to_str().unwrap();
    let d = get_with(
        &app,
        "/pkg/lightning-checkout.js",
        &[gz[0].clone(), (header::IF_NONE_MATCH, tag)],
    )
    .await;
    assert_eq!(d.status, StatusCode::NOT_MODIFIED);
    assert!(d.bytes.is_empty());
    assert_eq!(d.headers[header::ETAG], gz_etag);
    assert_eq!(d.headers[header::VARY], "accept-encoding");
    let e = get_with(
        &app,
        "/pkg/lightning-checkout.js",
        &[(header::IF_NONE_MATCH, tag)],
    )
    .await;
    assert_eq!(e.status, StatusCode::OK, "the plain form has another tag");

    // A changed file is compressed again: new bytes, new tag.
    let js2 = format!("{js}// v2\n");
    std::fs::write(&file, &js2).unwrap();
    let f = get_with(&app, "/pkg/lightning-checkout.js", &gz).await;
    assert_eq!(gunzip(&f.bytes), js2.as_bytes());
    assert_ne!(f.headers[header::ETAG], gz_etag);

    // The wasm too; a tiny file is sent as it is (gzip would make it larger); a missing one is 404.
    let w = get_with(&app, "/pkg/x.wasm", &gz).await;
    assert_eq!(w.status, StatusCode::OK);
    assert!(w.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(w.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(w.bytes, b"\0asm\x01\0\0\0");
    assert_eq!(
        get_with(&app, "/pkg/missing.js", &gz).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn demo_pages_are_compressed_too_and_ranges_still_work() {
    let app = TestApp::new();
    write_assets(&app);
    let page = format!(
        "<!doctype html><title>shop</title>{}",
        "<p>a mug</p>".repeat(500)
    );
    std::fs::write(app.dir.path().join("www").join("index.html"), &page).unwrap();
    let a = get_with(&app, "/", &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gunzip(&a.bytes), page.as_bytes());
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // A range request is answered from the file as it is (what ServeDir does).
    let r = get_with(&app, "/index.html", &[(header::RANGE, "bytes=0-14")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes, b"<!doctype html>");
    assert!(r.headers.get(header::CONTENT_ENCODING).is_none());
}
