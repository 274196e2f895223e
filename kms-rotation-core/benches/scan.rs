//! Scan throughput against the KMS test server with AWS's default quotas and a realistic
//! latency, as a ratio to the quota-bound minimum (product.md: target within 1.15x).
//!
//! `cargo bench -p kms-rotation-core --features aws --bench scan [-- KEYS_PER_REGION REGIONS]`
//!
//! Every key is customer-managed and symmetric, so each needs DescribeKey (2000/s) and
//! GetKeyRotationStatus (1000/s): the bound for N keys in a region is N / 1000 seconds, the
//! regions running in parallel. A quarter of the keys fail: a scan also reads their tags, key
//! policy and grants (exposure, which orders the plan), whose quotas are lower (ListGrants:
//! 100/s). Three runs: the source's default client-side rates (adaptive, capped at the quotas),
//! the same without exposure (`--exposure never`), and rates capped at 80% of the quotas (what a
//! user leaving room for the account's other callers would set with `--rate`).

use std::time::Instant;

use aws_config::BehaviorVersion;
use fleet::{LATENCY, REGIONS};
use kms_rotation::aws::{AwsOptions, AwsSource, RateLimits};
use kms_rotation::model::KeyRecord;
use kms_rotation::source::Need;
use kms_rotation::{KeySourceExt, ScanRequest, Status};
use kms_test_server::{Faults, KmsTestServer};

mod fleet;

const GET_KEY_ROTATION_STATUS_QUOTA: f64 = 1000.0;

fn fleet(keys_per_region: usize, regions: &[&str]) -> Vec<KeyRecord> {
    let mut records = Vec::with_capacity(keys_per_region * regions.len());
    for region in regions {
        for n in 0..keys_per_region {
            records.push(fleet::key("111122223333", region, n, n % 4 != 0));
        }
    }
    records
}

async fn run(
    keys_per_region: usize,
    regions: &[&str],
    limits: RateLimits,
    exposure: Need,
    label: &str,
) {
    let records = fleet(keys_per_region, regions);
    let total = records.len();
    let faults = Faults {
        latency: LATENCY,
        ..Faults::default()
    }
    .with_aws_quotas();
    let server = match KmsTestServer::start(records, faults).await {
        Ok(server) => server,
        Err(err) => panic!("cannot start the test server: {err}"),
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "AKIDBENCH",
            "secret",
            None,
            None,
            "bench",
        ))
        .endpoint_url(server.endpoint_url())
        .load()
        .await;
    let options = AwsOptions {
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        rate_limits: limits,
        concurrency_per_region: 64,
        ..AwsOptions::default()
    };
    let source = match AwsSource::from_sdk_config(sdk, options).await {
        Ok(source) => source,
        Err(err) => panic!("cannot build the source: {err}"),
    };
    let start = Instant::now();
    let request = ScanRequest {
        exposure,
        ..ScanRequest::default()
    };
    let report = match source.scan(&request).await {
        Ok(report) => report,
        Err(err) => panic!("scan failed: {err}"),
    };
    let wall = start.elapsed().as_secs_f64();
    let bound = keys_per_region as f64 / GET_KEY_ROTATION_STATUS_QUOTA;
    let errors = report.summary.by_status.get(Status::Error);
    let throttled = server
        .calls()
        .iter()
        .filter(|c| c.error_code.as_deref() == Some("ThrottlingException"))
        .count();
    let calls = |op: &str| server.calls_for(op).len();
    println!(
        "{label}: {total} keys ({keys_per_region} x {} regions): {wall:.1} s, bound {bound:.1} s, \
         ratio {:.2}; findings {}, error findings {errors}, throttled replies {throttled}; \
         calls: ListResourceTags {}, GetKeyPolicy {}, ListGrants {}",
        regions.len(),
        wall / bound,
        report.findings.len(),
        calls("ListResourceTags"),
        calls("GetKeyPolicy"),
        calls("ListGrants"),
    );
    assert_eq!(report.findings.len(), total, "every key has a finding");
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let keys_per_region = args.first().copied().unwrap_or(20_000);
    let regions = args.get(1).copied().unwrap_or(1).clamp(1, REGIONS.len());
    let at_80_percent = RateLimits {
        describe_key: 1600,
        get_key_rotation_status: 800,
        list_keys: 400,
        list_aliases: 400,
        list_resource_tags: 1600,
        list_key_rotations: 80,
        get_key_policy: 800,
        list_grants: 80,
    };
    run(
        keys_per_region,
        &REGIONS[..regions],
        RateLimits::default(),
        Need::WhenFailing,
        "default rates (adaptive, capped at the quotas)",
    )
    .await;
    run(
        keys_per_region,
        &REGIONS[..regions],
        RateLimits::default(),
        Need::Never,
        "default rates, --exposure never",
    )
    .await;
    run(
        keys_per_region,
        &REGIONS[..regions],
        at_80_percent,
        Need::WhenFailing,
        "rates capped at 80% of the quotas",
    )
    .await;
}
