//! The `terraform` and `cloudformation` sources: keys declared in code, judged by the same rule
//! before deploy, with findings that point at the file and line.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use kms_rotation::input::Syntax;
use kms_rotation::ops::{self, ScanOptions};
use kms_rotation::{
    CloudFormationSource, ErrorKind, Finding, Format, Report, Status, TerraformPlanSource,
};
use serde_json::{Value, json};

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

async fn scan(options: Value) -> Report {
    let mut options: ScanOptions = serde_json::from_value(options).unwrap();
    options.now = Some(now());
    ops::scan(options, None).await.unwrap()
}

fn example(name: &str) -> String {
    common::examples_dir()
        .join("iac")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Each finding's status and reason, by address.
fn verdicts(report: &Report) -> BTreeMap<String, (Status, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let address = f.location.as_ref().unwrap().address.clone();
            (address, (f.status, f.reason.as_str().to_owned()))
        })
        .collect()
}

fn verdict(status: Status, reason: &str) -> (Status, String) {
    (status, reason.to_owned())
}

fn finding<'a>(report: &'a Report, address: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.location.as_ref().unwrap().address == address)
        .unwrap()
}

#[tokio::test]
async fn the_example_plan_gives_every_verdict_of_its_keys() {
    let report = scan(json!({"terraform_plan": example("plan.json")})).await;
    assert_eq!(report.scope.source, "terraform");
    use Status::*;
    let expected = BTreeMap::from([
        ("aws_kms_key.payments", verdict(Pass, "rotation_enabled")),
        ("aws_kms_key.logs", verdict(Fail, "rotation_disabled")),
        (
            "aws_kms_key.signing",
            verdict(NotApplicable, "unsupported_key_spec"),
        ),
        (
            "aws_kms_key.webhooks",
            verdict(Fail, "rotation_not_supported"),
        ),
        ("aws_kms_key.tenant", verdict(Error, "unknown_until_apply")),
        ("aws_kms_key.sessions", verdict(Pass, "rotation_enabled")),
        ("aws_kms_key.global", verdict(Pass, "rotation_enabled")),
        (
            "aws_kms_replica_key.global_eu",
            verdict(Pass, "rotation_enabled"),
        ),
        (
            "aws_kms_replica_key.shared",
            verdict(Error, "unknown_until_apply"),
        ),
        (
            "aws_kms_external_key.imported",
            verdict(NotApplicable, "imported_key_material"),
        ),
        (
            "module.storage.aws_kms_key.data",
            verdict(Fail, "rotation_period_exceeds_policy"),
        ),
        (
            "module.storage.aws_kms_key.hsm",
            verdict(NotApplicable, "custom_key_store"),
        ),
    ]);
    let expected: BTreeMap<String, _> = expected
        .into_iter()
        .map(|(a, v)| (a.to_owned(), v))
        .collect();
    // The bucket is not a key: ignored.
    assert_eq!(verdicts(&report), expected);
}

#[tokio::test]
async fn plan_findings_carry_their_location_and_no_remediation_target() {
    let report = scan(json!({"terraform_plan": example("plan.json")})).await;
    let logs = finding(&report, "aws_kms_key.logs");
    let location = logs.location.as_ref().unwrap();
    assert_eq!(location.file, example("plan.json"));
    // The line of the resource in the plan file (its planned values).
    let text = std::fs::read_to_string(example("plan.json")).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"address\": \"aws_kms_key.logs\""))
        .unwrap()
        + 1;
    assert_eq!(location.line, Some(line as u32));
    assert_eq!(
        logs.arn,
        format!("{}#aws_kms_key.logs", example("plan.json"))
    );
    assert_eq!(logs.key_id, "aws_kms_key.logs");
    // Code has no ARN to write to: nothing for a plan to act on.
    assert_eq!(logs.remediation_target, None);
    assert!(!logs.remediable);

    let sessions = finding(&report, "aws_kms_key.sessions");
    // rotation_period_in_days is left to AWS (not in the configuration): its default.
    assert_eq!(
        sessions.period_source,
        Some(kms_rotation::PeriodSource::AssumedDefault)
    );
    let tenant = finding(&report, "aws_kms_key.tenant");
    let error = tenant.error.as_ref().unwrap();
    assert_eq!(error.code, "UnknownUntilApply");
    assert!(error.message.contains("enable_key_rotation"), "{error:?}");
    let replica = finding(&report, "aws_kms_replica_key.global_eu");
    assert!(
        replica
            .multi_region
            .as_ref()
            .is_some_and(|m| m.role.as_str() == "REPLICA")
    );
    let shared = finding(&report, "aws_kms_replica_key.shared");
    assert_eq!(
        shared.multi_region.as_ref().unwrap().primary_arn.as_deref(),
        Some("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")
    );
}

#[tokio::test]
async fn the_example_templates_give_every_verdict_of_their_keys() {
    let report =
        scan(json!({"cloudformation": [example("template.yaml"), example("template.json")]})).await;
    assert_eq!(report.scope.source, "cloudformation");
    use Status::*;
    let expected = BTreeMap::from([
        // template.yaml: short-form tags, string booleans.
        ("PaymentsKey", verdict(Pass, "rotation_enabled")),
        ("LogsKey", verdict(Fail, "rotation_disabled")),
        (
            "ArchiveKey",
            verdict(Fail, "rotation_period_exceeds_policy"),
        ),
        ("WebhookKey", verdict(Fail, "rotation_not_supported")),
        ("SigningKey", verdict(NotApplicable, "unsupported_key_spec")),
        (
            "ImportedKey",
            verdict(NotApplicable, "imported_key_material"),
        ),
        ("TenantKey", verdict(Error, "unknown_until_apply")),
        ("RegionalKey", verdict(Error, "unknown_until_apply")),
        ("SharedReplica", verdict(Error, "unknown_until_apply")),
        // template.json: long-form functions.
        ("OrdersKey", verdict(Pass, "rotation_enabled")),
        ("ReportsKey", verdict(Fail, "rotation_disabled")),
        ("ParameterPeriodKey", verdict(Error, "unknown_until_apply")),
        ("EncryptionKeyPair", verdict(Fail, "rotation_not_supported")),
    ]);
    let expected: BTreeMap<String, _> = expected
        .into_iter()
        .map(|(a, v)| (a.to_owned(), v))
        .collect();
    assert_eq!(verdicts(&report), expected);
    let imported = finding(&report, "ImportedKey");
    assert_eq!(imported.key_state.map(|s| s.as_str()), Some("Disabled"));
    let archive = finding(&report, "ArchiveKey");
    assert_eq!(archive.rotation.as_ref().unwrap().period_days, Some(730));
}

#[tokio::test]
async fn template_findings_point_at_the_resources_line() {
    let report =
        scan(json!({"cloudformation": [example("template.yaml"), example("template.json")]})).await;
    for (id, file) in [
        ("LogsKey", "template.yaml"),
        ("ReportsKey", "template.json"),
    ] {
        let location = finding(&report, id).location.clone().unwrap();
        let text = std::fs::read_to_string(example(file)).unwrap();
        let line = text
            .lines()
            .position(|l| {
                l.trim_start().starts_with(&format!("{id}:"))
                    || l.contains(&format!("\"{id}\": {{"))
            })
            .unwrap()
            + 1;
        assert_eq!(
            (location.file.as_str(), location.line),
            (example(file).as_str(), Some(line as u32))
        );
    }

    // SARIF: the file and the line, so that a pull-request check annotates it; still valid.
    let sarif: Value =
        serde_json::from_str(&report.render_to_string(Format::Sarif).unwrap()).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "LogsKey")
        .unwrap();
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        example("template.yaml")
    );
    let line = finding(&report, "LogsKey")
        .location
        .as_ref()
        .unwrap()
        .line
        .unwrap();
    assert_eq!(physical["region"]["startLine"], line);

    // JSON and CSV carry the location too.
    let json: Value =
        serde_json::from_str(&report.render_to_string(Format::Json).unwrap()).unwrap();
    let logs = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key_id"] == "LogsKey")
        .unwrap();
    assert_eq!(
        logs["location"],
        json!({"file": example("template.yaml"), "line": line, "address": "LogsKey"})
    );
    let csv = report.render_to_string(Format::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(&header[header.len() - 3..], ["file", "line", "address"]);
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[2] == "LogsKey")
        .unwrap();
    let tail: Vec<String> = row.iter().skip(row.len() - 3).map(str::to_owned).collect();
    assert_eq!(
        tail,
        [
            example("template.yaml"),
            line.to_string(),
            "LogsKey".to_owned()
        ]
    );
}

fn cfn(yaml: &str) -> Vec<Finding> {
    let source = CloudFormationSource::parse(yaml, Syntax::Yaml, "t.yaml").unwrap();
    source
        .records()
        .iter()
        .map(|r| kms_rotation::evaluate(r, &kms_rotation::Policy::default(), now()))
        .collect()
}

fn one(yaml_properties: &str) -> Finding {
    let yaml =
        format!("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n{yaml_properties}");
    cfn(&yaml).remove(0)
}

#[test]
fn every_key_property_of_a_template_is_read() {
    let f = one(
        "      EnableKeyRotation: true\n      RotationPeriodInDays: 90\n      KeySpec: SYMMETRIC_DEFAULT\n      KeyUsage: ENCRYPT_DECRYPT\n      Origin: AWS_KMS\n      Enabled: true\n      MultiRegion: true\n      PendingWindowInDays: 7\n",
    );
    assert_eq!(
        (f.status, f.reason.as_str()),
        (Status::Pass, "rotation_enabled")
    );
    assert_eq!(f.rotation.as_ref().unwrap().period_days, Some(90));
    assert_eq!(f.multi_region.as_ref().unwrap().role.as_str(), "PRIMARY");
    assert_eq!(f.key_usage.map(|u| u.as_str()), Some("ENCRYPT_DECRYPT"));
    // Disabled keys are judged (disabled_keys: evaluate).
    let f = one("      Enabled: \"false\"\n");
    assert_eq!(
        (f.status, f.key_state.map(|s| s.as_str())),
        (Status::Fail, Some("Disabled"))
    );
    // Imported material asking for rotation: the deploy would fail.
    let f = one("      Origin: EXTERNAL\n      EnableKeyRotation: \"True\"\n");
    assert_eq!(f.reason.as_str(), "rotation_not_supported");
    // The deploy fails; no key goes without rotation because of it.
    assert_eq!(f.severity.as_str(), "low");
    // Judged by age, imported material declared in code has no date yet.
    let policy: kms_rotation::Policy =
        serde_json::from_value(json!({"imported_key_max_age_days": 365})).unwrap();
    let source = CloudFormationSource::parse(
        "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {Origin: EXTERNAL}\n",
        Syntax::Yaml,
        "t.yaml",
    )
    .unwrap();
    let f = kms_rotation::evaluate(&source.records()[0], &policy, now());
    assert_eq!(
        (f.status, f.reason.as_str()),
        (Status::Error, "unknown_until_apply")
    );
    let f = one("      KeySpec: HMAC_512\n      KeyUsage: GENERATE_VERIFY_MAC\n");
    assert_eq!(f.reason.as_str(), "unsupported_key_spec");
}

#[test]
fn every_short_form_tag_and_long_form_function_is_unknown_until_deploy() {
    for value in [
        "!Ref P",
        "!If [C, true, false]",
        "!Sub \"${P}\"",
        "!GetAtt R.Attr",
        "!Equals [a, b]",
        "!Join [\"\", [t, rue]]",
        "!Select [0, [true]]",
        "!FindInMap [M, K, V]",
        "!ImportValue X",
        "{Ref: P}",
        "{\"Fn::If\": [C, true, false]}",
    ] {
        let f = one(&format!("      EnableKeyRotation: {value}\n"));
        assert_eq!(
            (f.status, f.reason.as_str()),
            (Status::Error, "unknown_until_apply"),
            "{value}"
        );
        let f = one(&format!(
            "      KeySpec: {value}\n      EnableKeyRotation: true\n"
        ));
        assert_eq!(f.reason.as_str(), "unknown_until_apply", "{value}");
        assert_eq!(f.error.as_ref().unwrap().operation, "DescribeKey");
    }
    // An unknown fact that decides nothing is no error: an HMAC key never rotates.
    let f = one("      KeySpec: HMAC_256\n      EnableKeyRotation: !Ref P\n");
    assert_eq!(f.reason.as_str(), "unsupported_key_spec");
}

#[test]
fn a_replica_shares_its_primarys_settings_when_the_template_declares_it() {
    let yaml = "Resources:\n  P:\n    Type: AWS::KMS::Key\n    Properties: {EnableKeyRotation: true, MultiRegion: true}\n  R:\n    Type: AWS::KMS::ReplicaKey\n    Properties:\n      PrimaryKeyArn: !GetAtt P.Arn\n      KeyPolicy: {}\n  L:\n    Type: AWS::KMS::ReplicaKey\n    Properties:\n      PrimaryKeyArn: {\"Fn::GetAtt\": [P, Arn]}\n      KeyPolicy: {}\n";
    let findings = cfn(yaml);
    for f in &findings[1..] {
        assert_eq!(
            (f.status, f.reason.as_str()),
            (Status::Pass, "rotation_enabled"),
            "{}",
            f.key_id
        );
        assert!(
            f.multi_region
                .as_ref()
                .is_some_and(|m| m.role.as_str() == "REPLICA")
        );
    }
}

fn plan_with(
    resource_type: &str,
    values: Value,
    after_unknown: Value,
    expressions: Value,
) -> Vec<Finding> {
    let plan = json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"child_modules": [{"address": "module.a[0]", "resources": [
            {"address": format!("module.a[0].{resource_type}.k"), "mode": "managed", "type": resource_type, "name": "k", "values": values},
            {"address": "module.a[0].data.aws_caller_identity.me", "mode": "data", "type": "aws_caller_identity", "name": "me", "values": {}}
        ]}]}},
        "resource_changes": [{"address": format!("module.a[0].{resource_type}.k"), "change": {"actions": ["create"], "after_unknown": after_unknown}}],
        "configuration": {"root_module": {"module_calls": {"a": {"module": {"resources": [
            {"address": format!("{resource_type}.k"), "mode": "managed", "type": resource_type, "name": "k", "expressions": expressions}
        ]}}}}}
    });
    let source = TerraformPlanSource::parse(&plan.to_string(), "plan.json").unwrap();
    source
        .records()
        .iter()
        .map(|r| kms_rotation::evaluate(r, &kms_rotation::Policy::default(), now()))
        .collect()
}

#[test]
fn every_key_argument_of_a_plan_is_read_in_child_modules() {
    let f = plan_with(
        "aws_kms_key",
        json!({"enable_key_rotation": true, "rotation_period_in_days": 400, "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT", "is_enabled": false, "multi_region": true, "deletion_window_in_days": 10, "custom_key_store_id": null}),
        json!({}),
        json!({}),
    );
    assert_eq!(f.len(), 1, "the data source is not a key");
    assert_eq!(
        (f[0].status, f[0].reason.as_str()),
        (Status::Fail, "rotation_period_exceeds_policy")
    );
    assert_eq!(f[0].key_id, "module.a[0].aws_kms_key.k");
    assert_eq!(f[0].key_state.map(|s| s.as_str()), Some("Disabled"));
    assert_eq!(f[0].multi_region.as_ref().unwrap().role.as_str(), "PRIMARY");

    let f = plan_with(
        "aws_kms_key",
        json!({"key_spec": "ECC_NIST_P384", "enable_key_rotation": true}),
        json!({}),
        json!({}),
    );
    assert_eq!(f[0].reason.as_str(), "rotation_not_supported");
    let f = plan_with(
        "aws_kms_key",
        json!({"custom_key_store_id": "cks-1", "xks_key_id": "x"}),
        json!({}),
        json!({}),
    );
    assert_eq!(
        (f[0].reason.as_str(), f[0].origin.map(|o| o.as_str())),
        ("custom_key_store", Some("EXTERNAL_KEY_STORE"))
    );
    let f = plan_with(
        "aws_kms_key",
        json!({"custom_key_store_id": "cks-1", "enable_key_rotation": true}),
        json!({}),
        json!({}),
    );
    assert_eq!(f[0].reason.as_str(), "rotation_not_supported");
    let f = plan_with(
        "aws_kms_external_key",
        json!({"enabled": true}),
        json!({}),
        json!({}),
    );
    assert_eq!(f[0].reason.as_str(), "imported_key_material");
    let f = plan_with(
        "aws_kms_replica_external_key",
        json!({"enabled": true}),
        json!({"primary_key_arn": true}),
        json!({"primary_key_arn": {"references": ["aws_kms_external_key.p.arn"]}}),
    );
    assert_eq!(
        (f[0].status, f[0].reason.as_str()),
        (Status::Error, "unknown_until_apply")
    );
}

#[test]
fn a_value_unknown_until_apply_is_never_guessed() {
    for argument in [
        "enable_key_rotation",
        "customer_master_key_spec",
        "custom_key_store_id",
        "is_enabled",
    ] {
        let mut values = json!({"enable_key_rotation": true});
        values.as_object_mut().unwrap().remove(argument);
        let f = plan_with(
            "aws_kms_key",
            values,
            json!({argument: true}),
            json!({argument: {"references": ["var.x"]}}),
        );
        assert_eq!(
            (f[0].status, f[0].reason.as_str()),
            (Status::Error, "unknown_until_apply"),
            "{argument}"
        );
        assert!(f[0].error.as_ref().unwrap().message.contains(argument));
    }
    // The period set by the code from an unknown value: unknown; left to AWS: its default.
    let f = plan_with(
        "aws_kms_key",
        json!({"enable_key_rotation": true}),
        json!({"rotation_period_in_days": true}),
        json!({"rotation_period_in_days": {"references": ["var.days"]}}),
    );
    assert_eq!(f[0].reason.as_str(), "unknown_until_apply");
    let f = plan_with(
        "aws_kms_key",
        json!({"enable_key_rotation": true}),
        json!({"rotation_period_in_days": true}),
        json!({}),
    );
    assert_eq!(f[0].reason.as_str(), "rotation_enabled");
}

#[test]
fn bad_input_names_the_file_field_and_line() {
    let write = |name: &str, text: &str| {
        let path = common::scratch(&format!("iac-{name}"));
        std::fs::write(&path, text).unwrap();
        path
    };
    // Not a plan: a state, say.
    let err = TerraformPlanSource::from_path(write(
        "state.json",
        "{\"format_version\": \"1.0\", \"values\": {}}",
    ))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("planned_values"));
    assert!(
        err.context()
            .file
            .as_ref()
            .unwrap()
            .to_string_lossy()
            .ends_with("state.json")
    );
    let err = TerraformPlanSource::from_path(write("broken.json", "{\n\"format_version\": \n"))
        .unwrap_err();
    assert_eq!(err.context().line, Some(3));
    // A wrong type names the resource and argument.
    let plan = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k", "values": {"enable_key_rotation": "yes"}}]}}});
    let err = TerraformPlanSource::parse(&serde_json::to_string_pretty(&plan).unwrap(), "p.json")
        .unwrap_err();
    assert_eq!(
        err.context().field.as_deref(),
        Some("aws_kms_key.k.enable_key_rotation")
    );
    assert_eq!(err.context().line, Some(7));

    let err =
        CloudFormationSource::from_paths(&[write("bad.yaml", "Resources:\n  K: [\n")]).unwrap_err();
    assert!(err.context().line.is_some(), "{err}");
    assert!(
        err.context()
            .file
            .as_ref()
            .unwrap()
            .to_string_lossy()
            .ends_with("bad.yaml")
    );
    let err =
        CloudFormationSource::from_paths(&[write("none.yaml", "Description: x\n")]).unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("Resources"));
    for (properties, field) in [
        ("KeySpec: RSA_1024", "KeySpec"),
        ("EnableKeyRotation: yes please", "EnableKeyRotation"),
        ("RotationPeriodInDays: 30", "RotationPeriodInDays"),
        ("PendingWindowInDays: 60", "PendingWindowInDays"),
    ] {
        let yaml = format!(
            "Resources:\n  Other: {{Type: X}}\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      {properties}\n"
        );
        let err = CloudFormationSource::parse(&yaml, Syntax::Yaml, "t.yaml").unwrap_err();
        assert_eq!(
            err.context().field.as_deref(),
            Some(format!("Resources.K.Properties.{field}").as_str()),
            "{err}"
        );
        assert_eq!(err.context().line, Some(3), "{err}");
    }
}

#[tokio::test]
async fn one_source_at_a_time_and_no_aws_options_with_code() {
    for (options, field) in [
        (
            json!({"terraform_plan": example("plan.json"), "cloudformation": [example("template.yaml")]}),
            "cloudformation",
        ),
        (
            json!({"inventory": "fleet.json", "terraformPlan": example("plan.json")}),
            "terraform_plan",
        ),
        (
            json!({"cloudformation": [example("template.yaml")], "profile": "x"}),
            "cloudformation",
        ),
    ] {
        let options: ScanOptions = serde_json::from_value(options).unwrap();
        let err = ops::scan(options, None).await.unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some(field), "{err}");
    }
}

#[tokio::test]
async fn a_saved_report_of_code_is_rechecked_and_its_inventory_reproduces_it() {
    let inventory = common::scratch("iac-inventory.json");
    let report =
        scan(json!({"terraform_plan": example("plan.json"), "save_inventory": inventory})).await;
    let again = scan(json!({"inventory": inventory})).await;
    assert_eq!(again.findings, report.findings);
    let json = report.render_to_string(Format::Json).unwrap();
    let rechecked = serde_json::from_str::<Report>(&json)
        .unwrap()
        .rechecked()
        .unwrap();
    assert_eq!(rechecked.findings, report.findings);
}

#[tokio::test]
async fn a_plan_of_code_writes_nothing() {
    let report = scan(json!({"terraform_plan": example("plan.json")})).await;
    let plan =
        kms_rotation::remediate::plan(&report, &kms_rotation::PlanOptions::default()).unwrap();
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    let skips: Vec<&str> = plan.skips.iter().map(|s| s.reason.as_str()).collect();
    assert!(skips.contains(&"no_remediation_target"), "{skips:?}");
}
