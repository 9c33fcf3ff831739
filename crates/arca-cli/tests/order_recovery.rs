//! Orders a stop interrupted. Arca processes an order before `POST /v1/orders` answers, so an order still
//! `PENDING` when a server starts was cut short by a crash: `arca server` marks it `ERROR` (Barbican's
//! `error_status_code` 500 and a reason saying so) before it serves, and leaves processed orders alone. The
//! interrupted order is made by writing its row into the database while the server is stopped.

mod common;
use common::*;

use std::time::{SystemTime, UNIX_EPOCH};

const PENDING_ID: &str = "0190a0f0-0000-7000-8000-0000000000aa";

/// Writes an order row as a crash between placing and processing it leaves it.
fn insert_pending_order(db: &DbProbe) {
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
        // Placed 20 minutes ago: on a shared (PostgreSQL) store a starting node fails only orders pending that
        // long, since a younger one may be in progress on another node (tests/multi_node.rs).
        - 20 * 60 * 1_000_000_000;
    let meta = json!({"name": "interrupted", "algorithm": "aes", "bit_length": 256, "mode": "cbc",
        "expiration": null, "payload_content_type": "application/octet-stream"});
    db.execute(&format!(
        "INSERT INTO orders (id, project_id, creator_id, order_type, status, meta, secret_id, container_id, \
         error_status_code, error_reason, sub_status, sub_status_message, created, updated) \
         VALUES ('{PENDING_ID}', 'admin', 'admin', 'key', 'PENDING', '{meta}', NULL, NULL, NULL, NULL, NULL, NULL, \
         {now}, {now})"
    ));
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM orders WHERE id = '{PENDING_ID}'"
        )),
        1
    );
}

/// An order as the server shows it, without its refs (they name the server's port, new at each start).
async fn order(arca: &Arca, id: &str) -> Value {
    let r = send(arca.admin(Method::GET, &format!("/v1/orders/{id}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut order = r.json();
    let fields = order.as_object_mut().unwrap();
    for reference in ["order_ref", "secret_ref", "container_ref"] {
        if let Some(Value::String(r)) = fields.get_mut(reference) {
            *r = r.rsplit('/').next().unwrap().to_owned();
        }
    }
    order
}

#[tokio::test]
async fn orders_left_pending_by_a_stop_are_marked_error_at_start() {
    let mut arca = Arca::start();
    let key = json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 256, "mode": "cbc",
        "payload_content_type": "application/octet-stream"}});
    let r = send(arca.admin(Method::POST, "/v1/orders").json(&key)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let processed = r.json()["order_ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let before = order(&arca, &processed).await;
    assert_eq!(before["status"], json!("ACTIVE"));

    arca.server.stop();
    insert_pending_order(&DbProbe::of(&arca.data.dir));
    arca.server = Server::start(&arca.data.dir);
    arca.base_url = arca.server.url.clone();

    let failed = order(&arca, PENDING_ID).await;
    assert_eq!(failed["status"], json!("ERROR"), "{failed}");
    assert_eq!(failed["error_status_code"], json!("500"), "{failed}");
    let reason = failed["error_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("Process TypeOrder failure seen - ")
            && reason.contains("the server stopped before the order was processed"),
        "{reason}"
    );
    assert!(failed.get("secret_ref").is_none(), "{failed}");
    assert_eq!(
        order(&arca, &processed).await,
        before,
        "a processed order is left alone"
    );
    assert!(
        arca.server_log().contains("marked ERROR"),
        "{}",
        arca.server_log()
    );
    let listed = send(arca.admin(Method::GET, "/v1/orders")).await.json();
    assert_eq!(listed["total"], json!(2));

    // A later start finds nothing to recover and changes nothing.
    arca.server.stop();
    arca.server = Server::start(&arca.data.dir);
    arca.base_url = arca.server.url.clone();
    assert_eq!(order(&arca, PENDING_ID).await, failed);
}
