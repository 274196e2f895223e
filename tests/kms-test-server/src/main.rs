//! `kms-test-server --inventory FILE`: serves the inventory's keys until killed. The first stdout
//! line is the endpoint URL, so a Python or Node test can start it and read where it listens.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kms_test_server::{Faults, KmsTestServer, ListKeysFailure, Selection, Writes};

/// A loopback AWS KMS server with AWS's semantics and fault injection.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Inventory file (JSON, or YAML by extension) whose keys the server holds.
    #[arg(long)]
    inventory: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Added to every reply.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Apply AWS's default request quotas per account and region.
    #[arg(long)]
    aws_quotas: bool,
    /// A quota, OPERATION=REQUESTS_PER_SECOND; repeatable, overrides --aws-quotas.
    #[arg(long, value_parser = parse_pair::<u32>)]
    quota: Vec<(String, u32)>,
    /// Fraction of calls answered with KMSInternalException.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// HTTP status of those errors (500 or 503).
    #[arg(long, default_value_t = 500)]
    error_status: u16,
    /// Fraction of calls whose reply is held for --timeout-ms.
    #[arg(long, default_value_t = 0.0)]
    timeout_rate: f64,
    #[arg(long, default_value_t = 60_000)]
    timeout_ms: u64,
    /// Fraction of successful calls answered with invalid JSON.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Fraction of calls answered ThrottlingException whatever the rate.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Fraction of successful calls whose reply stops halfway (connection closed).
    #[arg(long, default_value_t = 0.0)]
    truncate_rate: f64,
    /// Fraction of calls whose connection is reset instead of answered.
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    /// Stop answering after this many calls.
    #[arg(long)]
    stop_after: Option<usize>,
    /// The most items any list page holds.
    #[arg(long)]
    page_cap: Option<usize>,
    /// REGION=CODE: ListKeys in REGION always fails with CODE; repeatable.
    #[arg(long, value_parser = parse_pair::<String>)]
    fail_list_keys: Vec<(String, String)>,
    /// Writes: `apply`, `ignore` (200 but no change) or `fail[:CODE]` (default AccessDeniedException).
    #[arg(long, default_value = "apply", value_parser = parse_writes)]
    writes: Writes,
    /// Seed of every random fault.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn parse_pair<T: std::str::FromStr>(text: &str) -> Result<(String, T), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected NAME=VALUE"))?;
    let value = value
        .parse()
        .map_err(|_| format!("`{text}`: bad value `{value}`"))?;
    Ok((name.to_owned(), value))
}

fn parse_writes(text: &str) -> Result<Writes, String> {
    match text {
        "apply" => Ok(Writes::Apply),
        "ignore" => Ok(Writes::Ignore),
        "fail" => Ok(Writes::failing()),
        _ => match text.strip_prefix("fail:") {
            Some(code) if !code.is_empty() => Ok(Writes::Fail(code.to_owned())),
            _ => Err(format!(
                "`{text}`: expected apply, ignore, fail or fail:CODE"
            )),
        },
    }
}

impl Args {
    fn faults(&self) -> Faults {
        let mut quotas = if self.aws_quotas {
            Faults::aws_default_quotas()
        } else {
            BTreeMap::new()
        };
        quotas.extend(self.quota.iter().cloned());
        Faults {
            seed: self.seed,
            latency: Duration::from_millis(self.latency_ms),
            quotas,
            server_errors: Selection::fraction(self.error_rate),
            server_error_status: self.error_status,
            timeouts: Selection::fraction(self.timeout_rate),
            timeout_hold: Duration::from_millis(self.timeout_ms),
            malformed: Selection::fraction(self.malformed_rate),
            throttles: Selection::fraction(self.throttle_rate),
            truncated: Selection::fraction(self.truncate_rate),
            resets: Selection::fraction(self.reset_rate),
            stop_after: self.stop_after,
            page_cap: self.page_cap,
            paging_faults: Vec::new(),
            list_keys_failures: self
                .fail_list_keys
                .iter()
                .map(|(region, code)| ListKeysFailure {
                    account_id: None,
                    region: region.clone(),
                    code: code.clone(),
                })
                .collect(),
            writes: self.writes.clone(),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let started = async {
        let records = kms_test_server::load_inventory(&args.inventory)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        KmsTestServer::start_on(addr, records, args.faults()).await
    };
    match started.await {
        Ok(server) => {
            println!("{}", server.endpoint_url());
            eprintln!(
                "kms-test-server: serving {} on {}",
                args.inventory.display(),
                server.endpoint_url()
            );
            // Serves until killed; the call log is read over HTTP (`GET /_calls`).
            std::future::pending().await
        }
        Err(e) => {
            eprintln!("kms-test-server: {}: {e}", args.inventory.display());
            ExitCode::from(2)
        }
    }
}
