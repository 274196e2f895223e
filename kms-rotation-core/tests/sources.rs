//! The memory and inventory sources pass the conformance suite; the trait forwards through
//! `Arc` and `Box`; a scan checks its inputs before reading anything.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use kms_rotation::source::{Collected, ReadRequest};
use kms_rotation::{
    ErrorKind, InventorySource, KeySource, KeySourceExt, MemorySource, Policy, RotationPeriod,
    ScanRequest,
};

#[tokio::test]
async fn memory_source_conforms() {
    let fleet = common::fleet();
    common::conformance::run(&MemorySource::new(fleet.clone()), &fleet).await;
}

#[tokio::test]
async fn inventory_source_conforms() {
    let source = InventorySource::from_path(common::examples_dir().join("fleet.json")).unwrap();
    common::conformance::run(&source, &common::fleet()).await;
}

#[tokio::test]
async fn the_trait_forwards_through_arc_and_box() {
    let fleet = common::fleet();
    let boxed: Box<dyn KeySource> = Box::new(MemorySource::new(fleet.clone()));
    common::conformance::run(&boxed, &fleet).await;
    let shared: Arc<dyn KeySource> = Arc::new(MemorySource::new(fleet.clone()));
    common::conformance::run(&shared, &fleet).await;
}

/// A source that counts reads, to prove none happens.
#[derive(Debug, Default)]
struct CountingSource(AtomicUsize);

#[async_trait]
impl KeySource for CountingSource {
    fn name(&self) -> &str {
        "counting"
    }
    async fn read(&self, _: &ReadRequest) -> kms_rotation::Result<Collected> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Collected::default())
    }
}

#[tokio::test]
async fn an_invalid_policy_stops_the_scan_before_any_read() {
    let source = CountingSource::default();
    let policy = Policy {
        max_rotation_period_days: RotationPeriod::new(180).unwrap(),
        target_rotation_period_days: RotationPeriod::new(365).unwrap(),
        ..Policy::default()
    };
    let err = source
        .scan(&ScanRequest {
            policy,
            ..ScanRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(source.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn tag_exceptions_make_sources_read_tags_for_failing_keys() {
    use kms_rotation::source::Need;
    let mut policy = Policy::default();
    policy
        .add_exceptions_file(common::examples_dir().join("exceptions.yaml"))
        .unwrap();
    let request = ScanRequest {
        policy,
        ..ScanRequest::default()
    };
    assert_eq!(request.read_request().needs.tags, Need::WhenFailing);
    let all = ScanRequest {
        all_tags: true,
        ..request.clone()
    };
    assert_eq!(all.read_request().needs.tags, Need::Always);
    // Without a tag exception, the tags of failing keys still order the plan.
    assert_eq!(
        ScanRequest::default().read_request().needs.tags,
        Need::WhenFailing
    );
    assert_eq!(
        ScanRequest::default().read_request().needs.exposure,
        Need::WhenFailing
    );
}
