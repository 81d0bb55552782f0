//! 100 concurrent creates and polls, with repeated order ids: no error, one invoice per order.

mod common;

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_creates_and_polls() {
    let app = TestApp::new();
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let router = app.router();
        tasks.push(tokio::spawn(async move {
            // 60 requests share 10 order ids, 30 have their own, 10 have none.
            let body = match i {
                0..=59 => format!(r#"{{"amount_sat": 1000, "order_id": "shared-{}"}}"#, i % 10),
                60..=89 => format!(r#"{{"amount_sat": {}, "order_id": "own-{i}"}}"#, 1000 + i),
                _ => r#"{"amount_sat": 21}"#.to_owned(),
            };
            let req = axum::http::Request::post("/api/invoices")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body))
                .unwrap();
            let created = common::send(router.clone(), req).await;
            assert!(
                created.status == StatusCode::CREATED || created.status == StatusCode::OK,
                "{} {}",
                created.status,
                String::from_utf8_lossy(&created.bytes)
            );
            let v = created.json();
            let id = v["id"].as_str().unwrap().to_owned();
            for _ in 0..3 {
                let req = axum::http::Request::get(format!("/api/invoices/{id}"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                let polled = common::send(router.clone(), req).await;
                assert_eq!(polled.status, StatusCode::OK);
                assert_eq!(polled.json()["status"], "pending");
            }
            (i, created.status, id)
        }));
    }
    let mut by_order: HashMap<String, HashSet<String>> = HashMap::new();
    let mut created_per_order: HashMap<String, usize> = HashMap::new();
    let mut anonymous = HashSet::new();
    for t in tasks {
        let (i, status, id) = t.await.expect("task");
        let order = match i {
            0..=59 => Some(format!("shared-{}", i % 10)),
            60..=89 => Some(format!("own-{i}")),
            _ => None,
        };
        match order {
            Some(o) => {
                by_order.entry(o.clone()).or_default().insert(id);
                if status == StatusCode::CREATED {
                    *created_per_order.entry(o).or_default() += 1;
                }
            }
            None => {
                assert_eq!(status, StatusCode::CREATED);
                assert!(anonymous.insert(id));
            }
        }
    }
    assert_eq!(by_order.len(), 40);
    for (order, ids) in &by_order {
        assert_eq!(ids.len(), 1, "{order} got {ids:?}");
        assert_eq!(created_per_order.get(order), Some(&1), "{order}");
        let stored = app.state.store().invoices_for_order(order).unwrap();
        assert_eq!(stored.len(), 1, "{order}");
    }
    assert_eq!(anonymous.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pays_settle_once() {
    let app = TestApp::new();
    let id = app.create_ok(r#"{"amount_sat": 1000}"#).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let router = app.router();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let req = axum::http::Request::post(format!("/api/dev/invoices/{id}/pay"))
                .body(axum::body::Body::empty())
                .unwrap();
            let a = common::send(router, req).await;
            assert_eq!(a.status, StatusCode::OK);
            a.json()
        }));
    }
    let mut answers = HashSet::new();
    for t in tasks {
        answers.insert(t.await.unwrap().to_string());
    }
    assert_eq!(
        answers.len(),
        1,
        "every pay answer is the same paid invoice"
    );
}
