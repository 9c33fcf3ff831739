//! A write and its audit record in one transaction (`insert_secret_within_quota_audited`): a secret inserted
//! under its quota comes with the accepted record, one refused at the quota with the refused record and no row,
//! and the chain stays consecutive.

mod common;
use common::*;

use std::sync::Arc;

use arca_core::{AuditSealer, AuditedWrite, QuotaCheck, QuotaResource, Store};

fn sealer() -> AuditSealer {
    Arc::new(|seq, prev_mac, event| {
        let mut mac = seq.to_be_bytes().to_vec();
        mac.extend_from_slice(&prev_mac[..4]);
        mac.push(event.len() as u8);
        (1, mac)
    })
}

fn audited(label: &str) -> AuditedWrite {
    AuditedWrite {
        accepted: format!("{{\"{label}\":\"accepted\"}}").into_bytes(),
        refused: format!("{{\"{label}\":\"refused\"}}").into_bytes(),
        sealer: sealer(),
    }
}

#[tokio::test]
async fn insert_and_record_share_one_transaction() {
    let (_dir, _path, store) = open_temp().await;
    let one = QuotaCheck {
        resource: QuotaResource::Secrets,
        default: 1,
    };
    let first = secret("p1", 1);
    let (inserted, record) = store
        .insert_secret_within_quota_audited(
            &first,
            Some(&payload(b"x", "text/plain")),
            one,
            audited("a"),
        )
        .await
        .unwrap();
    assert!(inserted);
    assert_eq!(
        (record.seq, record.event.as_slice()),
        (1, &b"{\"a\":\"accepted\"}"[..])
    );
    assert!(store.get_secret(first.id).await.unwrap().is_some());

    let second = secret("p1", 2);
    let (inserted, record) = store
        .insert_secret_within_quota_audited(&second, None, one, audited("b"))
        .await
        .unwrap();
    assert!(!inserted, "the quota of one is reached");
    assert_eq!(
        (record.seq, record.event.as_slice()),
        (2, &b"{\"b\":\"refused\"}"[..])
    );
    assert!(store.get_secret(second.id).await.unwrap().is_none());
    assert_eq!(record.prev_mac, store.audit_records().await.unwrap()[0].mac);
    assert_eq!(store.audit_records().await.unwrap().len(), 2);
}
