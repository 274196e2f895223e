//! Throughput of the pure rule: `cargo bench -p kms-rotation-core --bench evaluate`.
//!
//! Evaluates 1,000,000 records (the sample fleet's 22 kinds of key, repeated with distinct ARNs)
//! with the sample policy and its exceptions, five times, and prints the best and median rates
//! for the rule alone (`evaluate`, a finding per record) and for a whole report (rule, sort,
//! summary).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kms_rotation::{InventorySource, Policy, Report, ReportScope, evaluate};

const RECORDS: usize = 1_000_000;
const RUNS: usize = 5;

fn main() -> Result<(), kms_rotation::Error> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let fleet = InventorySource::from_path(examples.join("fleet.json"))?
        .records()
        .to_vec();
    let mut policy = Policy::from_file(examples.join("policy.yaml"))?;
    policy.add_exceptions_file(examples.join("exceptions.yaml"))?;
    let records: Vec<_> = (0..RECORDS)
        .map(|i| {
            let mut record = fleet[i % fleet.len()].clone();
            record.arn = format!("{}-{i}", record.arn);
            record
        })
        .collect();
    let now = chrono::Utc::now();

    measure("rule only (evaluate)", || {
        let mut failing = 0usize;
        for record in &records {
            let finding = evaluate(black_box(record), &policy, now);
            failing += usize::from(finding.remediable);
        }
        black_box(failing);
    });
    measure("whole report (rule + sort + summary)", || {
        let report = Report::evaluate(
            black_box(&records),
            policy.clone(),
            ReportScope::default(),
            Vec::new(),
            now,
        );
        black_box(report.summary.compliant);
    });
    Ok(())
}

fn measure(name: &str, mut run: impl FnMut()) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    let rate = |d: Duration| RECORDS as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{name}: {RECORDS} records; best {:.0} ms ({:.2} M records/s), median {:.0} ms ({:.2} M records/s)",
        times[0].as_secs_f64() * 1e3,
        rate(times[0]),
        times[RUNS / 2].as_secs_f64() * 1e3,
        rate(times[RUNS / 2]),
    );
}
