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
//!
//! `render [FORMAT]`: a report of 100,000 such findings rendered in every format (or FORMAT),
//! five times each, into a sink that only counts bytes: the best and median times, the size, and
//! the process's peak resident memory (VmHWM) before and after. Run one format per process
//! (`-- render csv`) to see what that format adds to the peak: a renderer that streams adds
//! nothing to what the report itself holds.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kms_rotation::input::{Syntax, parse};
use kms_rotation::ops::{self, EvaluateOptions};
use kms_rotation::{Format, InventorySource, KeyRecord, Policy, Report, ReportScope, evaluate};

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
    if wanted("render") {
        let format = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .nth(1);
        render(&fleet, &policy, now, format.as_deref())?;
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

fn render(
    fleet: &[KeyRecord],
    policy: &Policy,
    now: chrono::DateTime<chrono::Utc>,
    only: Option<&str>,
) -> Result<(), kms_rotation::Error> {
    const FINDINGS: usize = 100_000;
    const RUNS: usize = 5;
    let report = Report::from_records(
        records(fleet, FINDINGS),
        policy.clone(),
        ReportScope::default(),
        Vec::new(),
        now,
    );
    let before = peak_rss_mb();
    for format in Format::ALL {
        if only.is_some_and(|o| o != format.as_str()) {
            continue;
        }
        let mut bytes = 0;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let mut sink = Counter(0);
                let start = Instant::now();
                let rendered = report.render(format, &mut sink);
                let time = start.elapsed();
                bytes = sink.0;
                rendered.map(|()| time)
            })
            .collect::<Result<_, _>>()?;
        times.sort();
        println!(
            "render {:<8} {FINDINGS} findings: best {:>4.0} ms, median {:>4.0} ms, {:>5.1} MB out",
            format.as_str(),
            times[0].as_secs_f64() * 1e3,
            times[RUNS / 2].as_secs_f64() * 1e3,
            bytes as f64 / 1e6,
        );
    }
    println!(
        "peak RSS: {before:.0} MB with the report built, {:.0} MB after rendering",
        peak_rss_mb()
    );
    Ok(())
}

/// A writer that keeps nothing: it counts the bytes.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MB; 0 elsewhere.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
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
