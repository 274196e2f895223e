//! Sending a report's findings to AWS Security Hub (BatchImportFindings), as ASFF.
//!
//! Security Hub takes a finding under an account's default product only from that account, so
//! each account's findings go with that account's credentials: the scan's (the default
//! credentials, or the role assumed for the account), or one role given for the import. They go
//! to each key's region, or all to one region (an aggregation region, say).
//!
//! Batches hold at most 100 findings (the API's limit) of one account and region. Findings that
//! Security Hub refuses are sent again, twice at most, unless the refusal says the finding
//! itself is wrong (`InvalidInput`) or the caller may not import (`AccessDenied...`); whatever
//! still fails is counted and listed, never dropped: the outcome is not `complete`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_securityhub::types as sh;
use futures::StreamExt;
use serde::Serialize;

use super::client::Target;
use super::errors::{error_code, error_message};
use crate::Report;
use crate::report::asff::{AsffFinding, Destination, to_asff};

/// BatchImportFindings' limit on findings per call.
pub const BATCH_SIZE: usize = 100;

/// Sends of one finding at most: the first and two retries.
const SENDS: usize = 3;

/// Batches in flight at once, over all accounts and regions. Security Hub allows each account
/// and region 10 calls per second; the SDK's retries absorb a throttle.
const CONCURRENT_BATCHES: usize = 4;

/// What a send to Security Hub did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SecurityHubOutcome {
    /// Findings of the report.
    pub findings: usize,
    /// Findings Security Hub took (created or updated).
    pub imported: usize,
    /// Findings not taken, after the retries, each with Security Hub's error.
    pub failed: Vec<FailedImport>,
    /// BatchImportFindings calls made, retries included.
    pub calls: usize,
    /// True exactly when every finding was taken.
    pub complete: bool,
}

/// A finding Security Hub did not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FailedImport {
    /// The key's ARN.
    pub arn: String,
    /// The account the finding is about.
    pub account_id: String,
    /// The Security Hub region it was sent to.
    pub region: String,
    /// Security Hub's error code (or the call's: `AccessDeniedException`, `TimeoutError`...).
    pub code: String,
    /// Its message.
    pub message: String,
}

/// Sends every finding of `report` to Security Hub in `region` (each key's own when `None`),
/// with `source`'s credentials for each account: for a program that scanned with an
/// [`AwsSource`](super::AwsSource) of its own configuration (`AwsSource::from_sdk_config`).
pub async fn send_with_source(
    report: &Report,
    region: Option<&str>,
    source: &super::AwsSource,
) -> SecurityHubOutcome {
    send(report, region, |account| {
        source.sdk_config(account).cloned()
    })
    .await
}

/// One account's findings for one Security Hub region.
struct Group {
    account_id: String,
    region: String,
    findings: Vec<(String, AsffFinding)>,
}

/// Sends every finding of `report` to Security Hub in `region` (each key's own when `None`),
/// with the credentials `credentials` gives for each account (`None`: none for that account,
/// and its findings fail with `NoCredentials`).
pub(crate) async fn send(
    report: &Report,
    region: Option<&str>,
    credentials: impl Fn(&str) -> Option<SdkConfig>,
) -> SecurityHubOutcome {
    let mut outcome = SecurityHubOutcome {
        findings: report.findings.len(),
        ..SecurityHubOutcome::default()
    };
    let destination = Destination { region };
    let mut groups: BTreeMap<(&str, &str), Group> = BTreeMap::new();
    for finding in &report.findings {
        // Security Hub is in these partitions only; the product ARN is built from the key's.
        let partition = crate::model::KeyArn::parse(&finding.arn).map(|arn| arn.partition);
        if !matches!(partition, Ok("aws" | "aws-cn" | "aws-us-gov")) {
            outcome.failed.push(FailedImport {
                arn: finding.arn.clone(),
                account_id: finding.account_id.clone(),
                region: region.unwrap_or(&finding.region).to_owned(),
                code: "UnsupportedPartition".to_owned(),
                message: "the key's ARN names no partition Security Hub is in (aws, aws-cn, \
                          aws-us-gov)"
                    .to_owned(),
            });
            continue;
        }
        let hub_region = region.unwrap_or(&finding.region);
        let group = groups
            .entry((&finding.account_id, hub_region))
            .or_insert_with(|| Group {
                account_id: finding.account_id.clone(),
                region: hub_region.to_owned(),
                findings: Vec::new(),
            });
        let asff = to_asff(finding, &report.policy, report.generated_at, destination);
        group.findings.push((finding.arn.clone(), asff));
    }
    let mut jobs = Vec::new();
    for group in groups.into_values() {
        let Some(sdk) = credentials(&group.account_id) else {
            outcome
                .failed
                .extend(group.findings.into_iter().map(|(arn, _)| {
                    FailedImport {
                        arn,
                        account_id: group.account_id.clone(),
                        region: group.region.clone(),
                        code: "NoCredentials".to_owned(),
                        message: "no credentials for this account: give its role (role_arns) or \
                          scan it with its own credentials"
                            .to_owned(),
                    }
                }));
            continue;
        };
        let client = client(&sdk, &group.region);
        let mut findings = group.findings;
        while !findings.is_empty() {
            let rest = findings.split_off(findings.len().min(BATCH_SIZE));
            jobs.push(send_batch(
                client.clone(),
                group.account_id.clone(),
                group.region.clone(),
                std::mem::replace(&mut findings, rest),
            ));
        }
    }
    let mut results = futures::stream::iter(jobs).buffer_unordered(CONCURRENT_BATCHES);
    while let Some(batch) = results.next().await {
        outcome.imported += batch.imported;
        outcome.calls += batch.calls;
        outcome.failed.extend(batch.failed);
    }
    outcome.failed.sort_by(|a, b| a.arn.cmp(&b.arn));
    outcome.complete = outcome.failed.is_empty() && outcome.imported == outcome.findings;
    outcome
}

fn client(sdk: &SdkConfig, region: &str) -> aws_sdk_securityhub::Client {
    let config =
        aws_sdk_securityhub::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    aws_sdk_securityhub::Client::from_conf(config.build())
}

#[derive(Default)]
struct BatchResult {
    imported: usize,
    calls: usize,
    failed: Vec<FailedImport>,
}

/// Sends one batch, then again what Security Hub refused for a reason that may pass.
async fn send_batch(
    client: aws_sdk_securityhub::Client,
    account_id: String,
    region: String,
    mut pending: Vec<(String, AsffFinding)>,
) -> BatchResult {
    let mut result = BatchResult::default();
    let mut backoff = Duration::from_millis(200);
    for send in 1..=SENDS {
        result.calls += 1;
        let refused = match import(&client, &pending).await {
            Ok(refused) => refused,
            Err((code, message)) => pending
                .iter()
                .map(|(_, asff)| (asff.id.clone(), code.clone(), message.clone()))
                .collect(),
        };
        let settled = settle(pending, refused, send == SENDS);
        result.imported += settled.imported;
        result.failed.extend(
            settled
                .failed
                .into_iter()
                .map(|(arn, code, message)| FailedImport {
                    arn,
                    account_id: account_id.clone(),
                    region: region.clone(),
                    code,
                    message,
                }),
        );
        pending = settled.again;
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
    result
}

/// What one call did to the findings it sent.
#[derive(Debug, Default)]
struct Settled {
    /// Taken by Security Hub.
    imported: usize,
    /// Refused for a reason that may pass: to send again.
    again: Vec<(String, AsffFinding)>,
    /// Refused for good (or on the last send): `(arn, code, message)`.
    failed: Vec<(String, String, String)>,
}

/// Sorts the findings `sent` by Security Hub's `refused` list (`(id, code, message)`): a
/// finding it does not name was imported; one it names is sent `again` unless the refusal is
/// final or this was the `last` send. A refusal naming none of the findings sent means the
/// reply cannot be trusted to say which were taken: then none of the unnamed ones counts as
/// imported either.
fn settle(
    sent: Vec<(String, AsffFinding)>,
    refused: Vec<(String, String, String)>,
    last: bool,
) -> Settled {
    let mut by_id: BTreeMap<String, (String, AsffFinding)> = sent
        .into_iter()
        .map(|(arn, asff)| (asff.id.clone(), (arn, asff)))
        .collect();
    let mut named = Vec::new();
    let mut unknown = None;
    for (id, code, message) in refused {
        match by_id.remove(&id) {
            Some(finding) => named.push((finding, code, message)),
            // Named twice: already counted.
            None if named.iter().any(|((_, f), ..)| f.id == id) => {}
            None => unknown = Some((code, message)),
        }
    }
    let mut settled = Settled::default();
    match unknown {
        None => settled.imported = by_id.len(),
        Some((code, message)) => {
            let message = format!("Security Hub refused a finding it did not name: {message}");
            let code = format!("{code} (unnamed)");
            settled.failed.extend(
                by_id
                    .into_values()
                    .map(|(arn, _)| (arn, code.clone(), message.clone())),
            );
        }
    }
    for ((arn, asff), code, message) in named {
        if !last && may_pass_later(&code) {
            settled.again.push((arn, asff));
        } else {
            settled.failed.push((arn, code, message));
        }
    }
    settled
}

/// Security Hub's refusals that sending again cannot change.
fn may_pass_later(code: &str) -> bool {
    !(code.starts_with("InvalidInput")
        || code.starts_with("AccessDenied")
        || code.starts_with("InvalidAccess")
        || code.starts_with("UnsupportedPartition"))
}

/// One BatchImportFindings call: the ids refused, with their codes, or the call's own error.
async fn import(
    client: &aws_sdk_securityhub::Client,
    findings: &[(String, AsffFinding)],
) -> Result<Vec<(String, String, String)>, (String, String)> {
    let output = client
        .batch_import_findings()
        .set_findings(Some(findings.iter().map(|(_, f)| to_sdk(f)).collect()))
        .send()
        .await
        .map_err(|e| (error_code(&e), error_message(&e)))?;
    let refused = output
        .failed_findings()
        .iter()
        .map(|f| {
            (
                f.id().unwrap_or_default().to_owned(),
                f.error_code().unwrap_or("UnknownError").to_owned(),
                f.error_message().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(refused)
}

/// The SDK's type for an ASFF finding, field for field from the rendering's.
fn to_sdk(f: &AsffFinding) -> sh::AwsSecurityFinding {
    let severity = |s: &crate::report::asff::AsffSeverity| {
        sh::Severity::builder()
            .label(sh::SeverityLabel::from(s.label))
            .original(s.original)
            .build()
    };
    let resources = f
        .resources
        .iter()
        .map(|r| {
            let key = &r.details.aws_kms_key;
            let details = sh::AwsKmsKeyDetails::builder()
                .aws_account_id(&key.aws_account_id)
                .key_id(&key.key_id)
                .set_key_manager(key.key_manager.map(str::to_owned))
                .set_key_state(key.key_state.map(str::to_owned))
                .set_origin(key.origin.map(str::to_owned))
                .set_creation_date(key.creation_date)
                .set_key_rotation_status(key.key_rotation_status)
                .build();
            sh::Resource::builder()
                .r#type(r.kind)
                .id(&r.id)
                .partition(sh::Partition::from(r.partition.as_str()))
                .region(&r.region)
                .details(sh::ResourceDetails::builder().aws_kms_key(details).build())
                .build()
        })
        .collect();
    let compliance = sh::Compliance::builder()
        .status(sh::ComplianceStatus::from(f.compliance.status))
        .set_related_requirements(Some(
            f.compliance
                .related_requirements
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        ))
        .set_status_reasons(Some(
            f.compliance
                .status_reasons
                .iter()
                .map(|r| {
                    sh::StatusReason::builder()
                        .reason_code(r.reason_code)
                        .description(&r.description)
                        .build()
                })
                .collect(),
        ))
        .build();
    let provider = &f.finding_provider_fields;
    let provider_fields = sh::FindingProviderFields::builder()
        .severity(
            sh::FindingProviderSeverity::builder()
                .label(sh::SeverityLabel::from(provider.severity.label))
                .original(provider.severity.original)
                .build(),
        )
        .set_types(Some(
            provider.types.iter().map(|t| (*t).to_owned()).collect(),
        ))
        .build();
    let remediation = f.remediation.as_ref().map(|r| {
        sh::Remediation::builder()
            .recommendation(
                sh::Recommendation::builder()
                    .text(&r.recommendation.text)
                    .url(r.recommendation.url)
                    .build(),
            )
            .build()
    });
    sh::AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.iter().map(|t| (*t).to_owned()).collect()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(severity(&f.severity))
        .title(&f.title)
        .description(&f.description)
        .set_remediation(remediation)
        .set_product_fields(Some(
            f.product_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .set_resources(Some(resources))
        .compliance(compliance)
        .record_state(sh::RecordState::from(f.record_state))
        .finding_provider_fields(provider_fields)
        .build()
}

/// The credentials of each account for an import: with `role` given, that role's for its own
/// account only; else the scan's targets (a role per account, or the default credentials for
/// whichever account they belong to).
pub(crate) fn credentials_for(targets: &[Target], account_id: &str) -> Option<SdkConfig> {
    targets
        .iter()
        .find(|t| t.account_id.as_deref() == Some(account_id))
        .or_else(|| match targets {
            [only] if only.account_id.is_none() => Some(only),
            _ => None,
        })
        .map(|t| t.sdk.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyRecord, Policy, ReportScope};

    fn report_of(records: &[KeyRecord]) -> Report {
        Report::evaluate(
            records,
            Policy::default(),
            ReportScope::default(),
            Vec::new(),
            chrono::Utc::now(),
        )
    }

    /// Findings of an account with no credentials are not skipped in silence: each is listed
    /// as not imported, and the outcome is not complete. No call is made for them.
    #[tokio::test]
    async fn findings_without_credentials_are_failed_not_dropped() {
        let records: Vec<KeyRecord> = ["111122223333", "444455556666"]
            .iter()
            .map(|account| {
                KeyRecord::from_arn(&format!("arn:aws:kms:eu-west-1:{account}:key/k")).unwrap()
            })
            .collect();
        let report = report_of(&records);
        let outcome = send(&report, None, |_| None).await;
        assert_eq!(
            (outcome.findings, outcome.imported, outcome.calls),
            (2, 0, 0)
        );
        assert!(!outcome.complete);
        let failed: Vec<(&str, &str)> = (outcome.failed.iter())
            .map(|f| (f.account_id.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                ("111122223333", "NoCredentials"),
                ("444455556666", "NoCredentials")
            ]
        );
    }

    /// The findings of the sample fleet as they would be sent.
    fn sent() -> Vec<(String, AsffFinding)> {
        let records: Vec<KeyRecord> = (1..=3)
            .map(|i| {
                KeyRecord::from_arn(&format!("arn:aws:kms:eu-west-1:111122223333:key/k{i}"))
                    .unwrap()
            })
            .collect();
        let report = report_of(&records);
        (report.findings.iter())
            .map(|f| {
                let asff = to_asff(
                    f,
                    &report.policy,
                    report.generated_at,
                    Destination::default(),
                );
                (f.arn.clone(), asff)
            })
            .collect()
    }

    fn refusal(finding: &(String, AsffFinding), code: &str) -> (String, String, String) {
        (finding.1.id.clone(), code.to_owned(), "no".to_owned())
    }

    #[test]
    fn a_call_settles_each_finding_once() {
        let findings = sent();
        let refused = vec![
            refusal(&findings[0], "InternalException"),
            refusal(&findings[1], "InvalidInput"),
            // Named twice: still one finding.
            refusal(&findings[1], "InvalidInput"),
        ];
        let settled = settle(findings.clone(), refused.clone(), false);
        assert_eq!(settled.imported, 1);
        assert_eq!(settled.again.len(), 1);
        assert_eq!(settled.again[0].0, findings[0].0);
        assert_eq!(settled.failed.len(), 1);
        assert_eq!(settled.failed[0].0, findings[1].0);
        // On the last send, what may pass later fails too.
        let last = settle(findings, refused, true);
        assert_eq!(
            (last.imported, last.again.len(), last.failed.len()),
            (1, 0, 2)
        );
    }

    #[test]
    fn a_refusal_of_a_finding_not_sent_leaves_none_counted_as_imported() {
        let findings = sent();
        let refused = vec![
            refusal(&findings[0], "InvalidInput"),
            (
                "someone-else".to_owned(),
                "InvalidInput".to_owned(),
                "?".to_owned(),
            ),
        ];
        let settled = settle(findings, refused, false);
        assert_eq!(settled.imported, 0);
        assert_eq!(settled.failed.len(), 3);
        assert!(
            settled
                .failed
                .iter()
                .any(|(_, code, _)| code == "InvalidInput (unnamed)")
        );
    }

    /// A key in a partition Security Hub is not in is failed before any call.
    #[tokio::test]
    async fn a_partition_without_security_hub_is_failed_not_sent() {
        let record =
            KeyRecord::from_arn("arn:aws-iso:kms:us-iso-east-1:111122223333:key/k").unwrap();
        let report = report_of(&[record]);
        let outcome = send(&report, None, |_| panic!("no credentials are asked for")).await;
        assert!(!outcome.complete);
        assert_eq!(outcome.failed[0].code, "UnsupportedPartition");
    }

    #[test]
    fn refusals_about_the_finding_or_the_caller_are_not_retried() {
        assert!(!may_pass_later("InvalidInput"));
        assert!(!may_pass_later("AccessDeniedException"));
        assert!(!may_pass_later("InvalidAccessException"));
        assert!(!may_pass_later("InvalidAccess"));
        assert!(may_pass_later("ThrottlingException"));
        assert!(may_pass_later("InternalException"));
    }
}
