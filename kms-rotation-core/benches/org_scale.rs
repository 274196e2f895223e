//! Organisation scale: the `kms-rotation` command, run as a child process (so its peak RSS and CPU
//! time are its own), against the KMS test server with AWS's default quotas and 25 ms per call.
//!
//! `cargo bench -p kms-rotation-core --features cli --bench org_scale -- SCENARIO [SIZE]`
//!
//! | scenario | what | SIZE (default) |
//! |---|---|---|
//! | `one-region` | a compliance scan (`--exposure never`) of one region | keys (20,000) |
//! | `one-region-exposure` | the same with the default exposure reads | keys (20,000) |
//! | `regions` | a compliance scan of 17 regions | keys per region (2,000) |
//! | `accounts` | a compliance scan of 3 regions in each of 20 accounts (`--role-arn` each, through the server's STS) | keys per account and region (500) |
//! | `remediation` | `apply --yes` of a plan fixing every key of one region, journal in a temporary directory | keys (2,000) |
//! | `remediation-at-quota` | the same with `--writes-per-second 15` (the EnableKeyRotation quota) | keys (2,000) |
//! | `remediation-above-quota` | the same with `--writes-per-second 30`: twice the quota, so the writes must absorb throttling | keys (2,000) |
//!
//! A quarter of the keys of a scan fail (rotation off); every key of the remediation does. Each
//! run prints the wall time, the calls per operation, the throttled replies (absorbed: the run
//! still checks every key), the quota bound (the largest, over account x region x operation, of
//! the calls that passed divided by the operation's quota: N / 1000 s for a compliance scan of N
//! keys in a region) and the ratio to it, the command's peak RSS and CPU time, and calls per
//! second of the command's CPU. It exits non-zero when a key has no finding, or an `error` one,
//! or (remediation) a key was not fixed. `KMS_ROTATION_CLI=PATH` runs another build of the
//! command, to compare two builds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use fleet::{LATENCY, REGIONS};
use kms_rotation::model::KeyRecord;
use kms_test_server::{Faults, KmsTestServer};
use nix::sys::resource::{UsageWho, getrusage};

mod fleet;

/// `KMS_ROTATION_CLI` runs another build of the command (to compare two builds).
fn cli_path() -> String {
    std::env::var("KMS_ROTATION_CLI")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kms-rotation").to_owned())
}

/// What one scenario reads or fixes.
struct Scenario {
    accounts: Vec<String>,
    regions: &'static [&'static str],
    keys_per_region: usize,
    /// Every key fails (rotation off), rather than a quarter of them.
    all_failing: bool,
    /// Extra arguments to the command.
    args: Vec<String>,
    remediate: bool,
}

impl Scenario {
    fn parse(name: &str, size: Option<usize>) -> Option<Scenario> {
        let one = vec!["111122223333".to_owned()];
        let never = || vec!["--exposure".to_owned(), "never".to_owned()];
        let scenario = match name {
            "one-region" | "one-region-exposure" => Scenario {
                accounts: one,
                regions: &REGIONS[..1],
                keys_per_region: size.unwrap_or(20_000),
                all_failing: false,
                args: if name == "one-region" {
                    never()
                } else {
                    Vec::new()
                },
                remediate: false,
            },
            "regions" => Scenario {
                accounts: one,
                regions: REGIONS,
                keys_per_region: size.unwrap_or(2_000),
                all_failing: false,
                args: never(),
                remediate: false,
            },
            "accounts" => {
                let accounts: Vec<String> = (1..=20)
                    .map(|n| format!("{:012}", 100_000_000_000u64 + n))
                    .collect();
                let mut args = never();
                for account in &accounts {
                    args.push("--role-arn".to_owned());
                    args.push(format!("arn:aws:iam::{account}:role/kms-rotation-bench"));
                }
                Scenario {
                    accounts,
                    regions: &REGIONS[..3],
                    keys_per_region: size.unwrap_or(500),
                    all_failing: false,
                    args,
                    remediate: false,
                }
            }
            "remediation" | "remediation-at-quota" | "remediation-above-quota" => Scenario {
                accounts: one,
                regions: &REGIONS[..1],
                keys_per_region: size.unwrap_or(2_000),
                all_failing: true,
                args: match name {
                    "remediation-at-quota" => Some("15"),
                    "remediation-above-quota" => Some("30"),
                    _ => None,
                }
                .map_or_else(Vec::new, |rate| {
                    vec!["--writes-per-second".to_owned(), rate.to_owned()]
                }),
                remediate: true,
            },
            _ => return None,
        };
        Some(scenario)
    }

    fn fleet(&self) -> Vec<KeyRecord> {
        let mut records = Vec::new();
        for account in &self.accounts {
            for region in self.regions {
                for n in 0..self.keys_per_region {
                    let record = fleet::key(account, region, n, !self.all_failing && n % 4 != 0);
                    records.push(record);
                }
            }
        }
        records
    }

    /// The arguments every command gets: where AWS is, which regions.
    fn connection(&self, endpoint: &str) -> Vec<String> {
        let mut args = vec!["--endpoint-url".to_owned(), endpoint.to_owned()];
        for region in self.regions {
            args.push("--region".to_owned());
            args.push((*region).to_owned());
        }
        args
    }
}

/// Runs the command to the end on a blocking thread, so the server keeps its workers.
async fn cli(args: Vec<String>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || run_cli(&args, &[0]))
        .await
        .map_err(|e| format!("the command's thread failed: {e}"))?
}

/// Runs the command to the end; its stderr is shown when it fails.
fn run_cli(args: &[String], ok_codes: &[i32]) -> Result<(), String> {
    let cli = cli_path();
    let output = Command::new(&cli)
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {cli}: {e}"))?;
    match output.status.code() {
        Some(code) if ok_codes.contains(&code) => Ok(()),
        other => Err(format!(
            "`kms-rotation {}` ended with {other:?}:\n{}",
            args.first().map_or("", String::as_str),
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// The children's peak RSS (MiB) and CPU time so far.
fn children_usage() -> (f64, Duration) {
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => {
            let cpu = |t: nix::sys::time::TimeVal| {
                Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
            };
            (
                usage.max_rss() as f64 / 1024.0,
                cpu(usage.user_time()) + cpu(usage.system_time()),
            )
        }
        Err(_) => (f64::NAN, Duration::ZERO),
    }
}

/// Findings in a JSON report, and how many of them are `error`.
fn count_findings(report: &Path) -> Result<(usize, usize), String> {
    let text = std::fs::read(report).map_err(|e| format!("{}: {e}", report.display()))?;
    let report: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", report.display()))?;
    let findings = report["findings"]
        .as_array()
        .ok_or("the report has no findings array")?;
    let errors = findings.iter().filter(|f| f["status"] == "error").count();
    Ok((findings.len(), errors))
}

/// A temporary directory of this run, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Result<TempDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "kms-rotation-bench-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The default request quotas of the operations the scenarios call (kms-api.md §4.1).
fn quota(operation: &str) -> Option<f64> {
    Faults::aws_default_quotas()
        .get(operation)
        .map(|q| f64::from(*q))
}

async fn bench(name: &str, scenario: Scenario) -> Result<(), String> {
    let records = scenario.fleet();
    let arns: Vec<String> = records.iter().map(|r| r.arn.clone()).collect();
    let total = records.len();
    let faults = Faults {
        latency: LATENCY,
        ..Faults::default()
    }
    .with_aws_quotas();
    let server = KmsTestServer::start(records, faults)
        .await
        .map_err(|e| format!("cannot start the test server: {e}"))?;
    let endpoint = server.endpoint_url();
    let dir = TempDir::new(name)?;
    let mut args: Vec<String>;
    if scenario.remediate {
        // The plan is made first (a scan) and not timed.
        let plan = dir.0.join("plan.json");
        args = vec!["plan".to_owned(), "--quiet".to_owned()];
        args.extend(scenario.connection(&endpoint));
        args.extend(["--exposure".to_owned(), "never".to_owned()]);
        args.extend(["--output".to_owned(), plan.display().to_string()]);
        cli(args).await?;
        server.clear_calls();
        args = vec![
            "apply".to_owned(),
            "--quiet".to_owned(),
            "--yes".to_owned(),
            "--plan".to_owned(),
            plan.display().to_string(),
            "--journal".to_owned(),
            dir.0.join("journal.ndjson").display().to_string(),
            "--endpoint-url".to_owned(),
            endpoint.clone(),
        ];
    } else {
        args = vec!["scan".to_owned(), "--quiet".to_owned()];
        args.extend(scenario.connection(&endpoint));
        args.extend(["--fail-on".to_owned(), "none".to_owned()]);
        args.extend(["--format".to_owned(), "json".to_owned()]);
        args.extend([
            "--output".to_owned(),
            dir.0.join("report.json").display().to_string(),
        ]);
    }
    args.extend(scenario.args.iter().cloned());

    let (_, cpu_before) = children_usage();
    let start = Instant::now();
    cli(args).await?;
    let wall = start.elapsed().as_secs_f64();
    let (peak_mib, cpu_after) = children_usage();
    let cpu = (cpu_after - cpu_before).as_secs_f64();

    let calls = server.calls();
    let mut per_op: BTreeMap<&str, usize> = BTreeMap::new();
    let mut passed: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    let mut throttled = 0;
    for call in &calls {
        *per_op.entry(call.operation.as_str()).or_default() += 1;
        if call.error_code.as_deref() == Some("ThrottlingException") {
            throttled += 1;
        } else {
            let key = (
                call.account_id.as_str(),
                call.region.as_str(),
                call.operation.as_str(),
            );
            *passed.entry(key).or_default() += 1;
        }
    }
    // The quota bound: the slowest (account, region, operation) at its quota, the rest in
    // parallel with it.
    let (bound, bound_by) = passed
        .iter()
        .filter_map(|((_, _, op), n)| quota(op).map(|q| (*n as f64 / q, *op)))
        .fold(
            (0.0, ""),
            |best, (t, op)| if t > best.0 { (t, op) } else { best },
        );

    let checked = if scenario.remediate {
        let fixed = arns
            .iter()
            .filter(|arn| server.rotation_of(arn).is_some_and(|r| r.enabled))
            .count();
        format!("{fixed} of {total} keys rotating afterwards")
    } else {
        let (findings, errors) = count_findings(&dir.0.join("report.json"))?;
        if findings != total || errors != 0 {
            return Err(format!(
                "{findings} findings for {total} keys, {errors} of them `error`: a key was lost"
            ));
        }
        format!("{findings} findings for {total} keys, 0 error")
    };
    let ops: Vec<String> = per_op.iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!(
        "{name}: {total} keys ({} accounts x {} regions x {}): {wall:.2} s; quota bound {bound:.2} s \
         ({bound_by}), ratio {:.2}; throttled replies absorbed {throttled}; {checked}\n  \
         calls: {} ({}); command peak RSS {peak_mib:.0} MiB, CPU {cpu:.2} s, \
         {:.0} calls per CPU-second",
        scenario.accounts.len(),
        scenario.regions.len(),
        scenario.keys_per_region,
        wall / bound,
        calls.len(),
        ops.join(", "),
        calls.len() as f64 / cpu,
    );
    if scenario.remediate && !checked.starts_with(&format!("{total} of")) {
        return Err(format!("not every key was fixed: {checked}"));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; the scenario is the first other argument.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let name = args.first().map_or("one-region", String::as_str);
    let size = args.get(1).and_then(|s| s.parse().ok());
    let Some(scenario) = Scenario::parse(name, size) else {
        eprintln!(
            "unknown scenario `{name}`: one-region, one-region-exposure, regions, accounts, \
             remediation, remediation-at-quota, remediation-above-quota"
        );
        return ExitCode::from(2);
    };
    match bench(name, scenario).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{name}: {err}");
            ExitCode::FAILURE
        }
    }
}
