//! Limit and Marker paging of ListKeys, ListAliases, ListResourceTags and ListKeyRotations.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use kms_rotation::KeyRecord;

fn many(n: usize) -> Vec<KeyRecord> {
    (0..n)
        .map(|i| key(REGION, &format!("key-{i:04}")))
        .collect()
}

#[tokio::test]
async fn list_keys_pages_by_limit_and_marker() {
    let mut records = many(250);
    records.push(key(EU, "eu-only"));
    let server = start(records).await;
    let kms = client(&server, REGION);

    let mut marker = None;
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    loop {
        let out = kms
            .list_keys()
            .limit(100)
            .set_marker(marker.take())
            .send()
            .await
            .unwrap();
        sizes.push(out.keys().len());
        ids.extend(out.keys().iter().map(|k| k.key_id().unwrap().to_owned()));
        assert_eq!(out.truncated(), out.next_marker().is_some());
        match out.next_marker() {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    let expected: Vec<String> = (0..250).map(|i| format!("key-{i:04}")).collect();
    assert_eq!(ids, expected, "every key once, in a stable order");

    // The SDK's paginator gets the same, and the default page is 100.
    let all: Vec<_> = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(all[7].key_arn(), Some(arn(REGION, "key-0007").as_str()));
    let first = kms.list_keys().send().await.unwrap();
    assert_eq!((first.keys().len(), first.truncated()), (100, true));

    let eu = client(&server, EU).list_keys().send().await.unwrap();
    let eu_ids: Vec<_> = eu.keys().iter().map(|k| k.key_id().unwrap()).collect();
    assert_eq!(
        (eu_ids, eu.truncated(), eu.next_marker()),
        (vec!["eu-only"], false, None)
    );

    let max = kms.list_keys().limit(1000).send().await.unwrap();
    assert_eq!((max.keys().len(), max.truncated()), (250, false));
}

#[tokio::test]
async fn bad_limits_and_markers_are_refused() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let list_keys = |limit| kms.list_keys().limit(limit).send();
    for limit in [0, 1001] {
        let err = list_keys(limit).await.unwrap_err();
        assert_eq!(
            code(&err).as_deref(),
            Some("ValidationException"),
            "ListKeys {limit}"
        );
    }
    let err = kms.list_aliases().limit(101).send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
    let err = kms
        .list_resource_tags()
        .key_id("sym")
        .limit(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
    let err = kms
        .list_key_rotations()
        .key_id("sym")
        .limit(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));

    let err = kms.list_keys().marker("made-up").send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidMarkerException"));
    // A marker from another list is refused too.
    let page = kms.list_keys().limit(1).send().await.unwrap();
    let err = kms
        .list_aliases()
        .marker(page.next_marker().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidMarkerException"));
}

#[tokio::test]
async fn list_aliases_has_every_alias_with_targets_and_pages_by_50() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let all: Vec<_> = kms
        .list_aliases()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let by_name: BTreeMap<_, _> = all
        .iter()
        .map(|a| (a.alias_name().unwrap(), a.target_key_id()))
        .collect();
    assert_eq!(
        by_name,
        BTreeMap::from([
            ("alias/aws/acm", Some("aws-acm")),
            ("alias/aws/ebs", Some("aws-ebs")),
            // Predefined AWS aliases with no key behind them yet have no target.
            ("alias/aws/rds", None),
            ("alias/aws/s3", None),
            ("alias/payments", Some("sym")),
            ("alias/payments-old", Some("sym")),
        ])
    );
    let payments = all
        .iter()
        .find(|a| a.alias_name() == Some("alias/payments"))
        .unwrap();
    assert_eq!(
        payments.alias_arn(),
        Some(format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/payments").as_str())
    );

    let filtered = kms
        .list_aliases()
        .key_id(arn(REGION, "sym"))
        .send()
        .await
        .unwrap();
    let names: Vec<_> = filtered
        .aliases()
        .iter()
        .map(|a| a.alias_name().unwrap())
        .collect();
    assert_eq!(names, ["alias/payments", "alias/payments-old"]);
    let err = kms.list_aliases().key_id("nope").send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("NotFoundException"));

    let with_many = (0..60)
        .map(|i| {
            with(key(REGION, &format!("k{i}")), |r| {
                r.aliases = Some(vec![format!("alias/a{i:02}")])
            })
        })
        .collect();
    let server = start(with_many).await;
    let first = client(&server, REGION).list_aliases().send().await.unwrap();
    assert_eq!(
        (first.aliases().len(), first.truncated()),
        (50, true),
        "default Limit 50"
    );
}

#[tokio::test]
async fn resource_tags_and_key_rotations_page() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let tags: Vec<_> = kms
        .list_resource_tags()
        .key_id("sym")
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let tags: Vec<_> = tags.iter().map(|t| (t.tag_key(), t.tag_value())).collect();
    assert_eq!(tags, [("env", "prod"), ("owner", "pay")]);
    let one = kms
        .list_resource_tags()
        .key_id("sym")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(one.truncated() && one.next_marker().is_some());

    let rotations = kms.list_key_rotations().key_id("on").send().await.unwrap();
    let entry = rotations.rotations();
    assert_eq!(entry.len(), 1);
    assert_eq!(
        entry[0].rotation_type().map(|t| t.as_str()),
        Some("AUTOMATIC")
    );
    assert_eq!(entry[0].rotation_date().unwrap().secs(), 1_767_225_600); // 2026-01-01
    assert_eq!(entry[0].key_id(), Some("on"));
    let never = kms.list_key_rotations().key_id("sym").send().await.unwrap();
    assert!(never.rotations().is_empty() && !never.truncated());
}
