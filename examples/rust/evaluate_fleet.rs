//! Evaluates the sample fleet through the library API and prints the summary.
//!
//! `cargo run -p kms-rotation-examples --bin evaluate_fleet [FLEET.json]`

use std::path::PathBuf;

use kms_rotation::{InventorySource, KeySourceExt, Policy, ScanRequest, Status};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), kms_rotation::Error> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fleet = std::env::args_os()
        .nth(1)
        .map_or_else(|| here.join("fleet.json"), PathBuf::from);

    let source = InventorySource::from_path(&fleet)?;
    let mut policy = Policy::from_file(here.join("policy.yaml"))?;
    policy.add_exceptions_file(here.join("exceptions.yaml"))?;
    let report = source
        .scan(&ScanRequest {
            policy,
            ..ScanRequest::default()
        })
        .await?;

    let counts = &report.summary.by_status;
    println!("keys: {}", counts.total);
    for status in Status::ALL {
        println!("{status}: {}", counts.get(status));
    }
    for finding in report.findings.iter().filter(|f| f.status == Status::Fail) {
        println!(
            "fail {} {} ({})",
            finding.arn,
            finding.reason,
            finding.aliases.as_deref().unwrap_or_default().join(", ")
        );
    }
    println!("compliant: {}", report.is_compliant());
    Ok(())
}
