//! Throughput of the rule and of `ops::evaluate`:
//! `cargo bench -p kms-rotation-core --no-default-features --bench evaluate [-- rule|ops]`.
//!
//! `rule`: 1,000,000 records (the sample fleet's 22 kinds of key, repeated with distinct ARNs)
//! with the sample policy and its exceptions, five times; the best and median rates for the rule
//! alone (`evaluate`, a finding per record) and for a whole report (rule, order, summary).
//!
//! `ops`: `ops::evaluate` on 100,000 such records, text in and report out, as the bindings and
//! the CLI use it: reading the JSON text of the records, evaluating (one record per key, report
//! order, the rule, the summary), and writing the report as compact JSON; seven runs, each step
//! timed apart.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kms_rotation::input::{Syntax, parse};
use kms_rotation::ops::{self, EvaluateOptions};
use kms_rotation::{InventorySource, KeyRecord, Policy, Report, ReportScope, evaluate};

fn main() -> Result<(), kms_rotation::Error> {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let fleet = InventorySource::from_path(examples.join("fleet.json"))?
        .records()
        .to_vec();
    let mut policy = Policy::from_file(examples.join("policy.yaml"))?;
    policy.add_exceptions_file(examples.join("exceptions.yaml"))?;
    let now = "2026-06-01T00:00:00Z"
        .parse()
        .map_err(|e| kms_rotation::Error::invalid_input(format!("{e}")))?;
    if wanted("rule") {
        rule(&fleet, &policy, now);
    }
    if wanted("ops") {
        ops_evaluate(&fleet, &policy, now)?;
    }
    Ok(())
}

/// `n` records: the fleet's kinds of key in turn, each with its own ARN.
fn records(fleet: &[KeyRecord], n: usize) -> Vec<KeyRecord> {
    (0..n)
        .map(|i| {
            let mut record = fleet[i % fleet.len()].clone();
            let key_id = format!("{i:08x}-0000-4000-8000-000000000000");
            record.arn = record.arn.replace(&record.key_id, &key_id);
            record.key_id = key_id;
            record
        })
        .collect()
}

fn rule(fleet: &[KeyRecord], policy: &Policy, now: chrono::DateTime<chrono::Utc>) {
    const RECORDS: usize = 1_000_000;
    let records = records(fleet, RECORDS);
    measure("rule only (evaluate)", RECORDS, 5, || {
        let mut failing = 0usize;
        for record in &records {
            let finding = evaluate(black_box(record), policy, now);
            failing += usize::from(finding.remediable);
        }
        black_box(failing);
    });
    measure("whole report (rule + order + summary)", RECORDS, 5, || {
        let report = Report::evaluate(
            black_box(&records),
            policy.clone(),
            ReportScope::default(),
            Vec::new(),
            now,
        );
        black_box(report.summary.compliant);
    });
}

fn ops_evaluate(
    fleet: &[KeyRecord],
    policy: &Policy,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), kms_rotation::Error> {
    const RECORDS: usize = 100_000;
    const RUNS: usize = 7;
    let text = serde_json::to_string(&records(fleet, RECORDS))
        .map_err(|e| kms_rotation::Error::invalid_input(e.to_string()))?;
    let mut steps: [Vec<Duration>; 4] = Default::default();
    let mut report_bytes = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let records: Vec<KeyRecord> = parse(black_box(&text), Syntax::Json)?;
        let read = Instant::now();
        let report = ops::evaluate(EvaluateOptions {
            records,
            policy: Some(policy.clone()),
            now: Some(now),
        })?;
        let evaluated = Instant::now();
        let json = serde_json::to_string(&report)
            .map_err(|e| kms_rotation::Error::invalid_input(e.to_string()))?;
        let written = Instant::now();
        report_bytes = json.len();
        drop(black_box((report, json)));
        let dropped = Instant::now();
        for (step, time) in steps.iter_mut().zip([
            read - start,
            evaluated - read,
            written - evaluated,
            dropped - start,
        ]) {
            step.push(time);
        }
    }
    println!(
        "ops::evaluate: {RECORDS} records, {:.0} MB of JSON in, {:.0} MB of report out, {RUNS} runs",
        text.len() as f64 / 1e6,
        report_bytes as f64 / 1e6
    );
    for (name, times) in [
        "read the records (JSON text)",
        "ops::evaluate (one record per key, order, rule, summary)",
        "write the report (compact JSON)",
        "all, freeing included",
    ]
    .iter()
    .zip(steps.iter_mut())
    {
        report(name, RECORDS, times);
    }
    Ok(())
}

fn measure(name: &str, records: usize, runs: usize, mut run: impl FnMut()) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    report(name, records, &mut times);
}

fn report(name: &str, records: usize, times: &mut [Duration]) {
    times.sort();
    let rate = |d: Duration| records as f64 / d.as_secs_f64() / 1e6;
    let (best, median) = (times[0], times[times.len() / 2]);
    println!(
        "{name}: {records} records; best {:.0} ms ({:.2} M records/s), median {:.0} ms ({:.2} M records/s)",
        best.as_secs_f64() * 1e3,
        rate(best),
        median.as_secs_f64() * 1e3,
        rate(median),
    );
}
