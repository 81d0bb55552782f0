//! The widget's side of the contract. The fixtures themselves are read and checked once, in the
//! contract crate's tests (`contract/tests/fixtures.rs`); here, what only the widget can check.

use lightning_checkout::contract::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

#[test]
fn the_fixture_preimage_is_not_the_fixture_hash_preimage() {
    // fixtures/README.md: the widget must refuse to claim paid from status_paid.json.
    let w: StatusResponse = serde_json::from_str(&fixture("status_paid.json")).unwrap();
    let created: CreatedWire = serde_json::from_str(&fixture("create_response.json")).unwrap();
    let hash = lightning_checkout::invoice::parse_hash_hex(&created.payment_hash.unwrap()).unwrap();
    assert!(!lightning_checkout::invoice::preimage_matches(
        &w.preimage.unwrap(),
        &hash
    ));
}
