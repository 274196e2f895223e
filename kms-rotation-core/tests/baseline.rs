//! `baseline`: the organisation baseline generated from the policy. The templates hold the AWS
//! Config rule and its remediation runbook, and pass `cfn-lint` (from the test venv,
//! `KMS_ROTATION_VENV`, which `scripts/test` sets), as does the event handler's template in
//! `examples/events/`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use kms_rotation::baseline::{CONFIG_RULE, REMEDIATION_RUNBOOK, event_pattern};
use kms_rotation::ops::{self, BaselineFormat, BaselineOptions};
use kms_rotation::{ErrorKind, Policy};
use serde_json::Value;

fn generate(format: BaselineFormat, policy: Option<Policy>) -> String {
    ops::baseline(BaselineOptions {
        format,
        policy,
        ..BaselineOptions::default()
    })
    .unwrap()
}

fn template(format: BaselineFormat) -> Value {
    serde_json::from_str(&generate(format, None)).unwrap()
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<&'a Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == kind)
        .collect()
}

/// The Config rule and its remediation, as both templates must hold them.
fn assert_rule_and_remediation(template: &Value) {
    let rules = resources_of_type(template, "AWS::Config::ConfigRule");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["Properties"]["Source"]["Owner"], "AWS");
    assert_eq!(
        rules[0]["Properties"]["Source"]["SourceIdentifier"],
        CONFIG_RULE
    );
    let remediations = resources_of_type(template, "AWS::Config::RemediationConfiguration");
    assert_eq!(remediations.len(), 1);
    let remediation = &remediations[0]["Properties"];
    assert_eq!(remediation["TargetId"], REMEDIATION_RUNBOOK);
    assert_eq!(remediation["TargetType"], "SSM_DOCUMENT");
    assert_eq!(
        remediation["Parameters"]["KeyId"]["ResourceValue"]["Value"],
        "RESOURCE_ID"
    );
    assert!(remediation["Parameters"]["AutomationAssumeRole"]["StaticValue"].is_object());
    // Automatic only when the parameter says so: off by default.
    assert_eq!(
        remediation["Automatic"]["Fn::If"][0],
        "RemediateAutomatically"
    );
    assert_eq!(
        template["Parameters"]["AutomaticRemediation"]["Default"],
        "false"
    );
}

#[test]
fn the_cloudformation_baseline_deploys_the_rule_its_remediation_and_the_event_rule() {
    let template = template(BaselineFormat::Cloudformation);
    assert_rule_and_remediation(&template);

    let roles = resources_of_type(&template, "AWS::IAM::Role");
    assert_eq!(roles.len(), 1);
    let role = &roles[0]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "ssm.amazonaws.com"
    );
    let statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let actions: Vec<&str> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "kms:DescribeKey",
            "kms:EnableKeyRotation",
            "kms:GetKeyRotationStatus",
            "ssm:GetAutomationExecution",
            "ssm:StartAutomationExecution"
        ],
        "the runbook's calls and nothing more"
    );
    assert!(statements.iter().all(|s| s["Resource"] != "*"));

    let rules = resources_of_type(&template, "AWS::Events::Rule");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["Condition"], "HasEventHandler");
    assert_eq!(rules[0]["Properties"]["EventPattern"], event_pattern());
    assert_eq!(
        rules[0]["Properties"]["Targets"][0]["Arn"]["Ref"],
        "EventHandlerArn"
    );
    assert_eq!(
        resources_of_type(&template, "AWS::Lambda::Permission").len(),
        1
    );
}

#[test]
fn the_conformance_pack_holds_only_the_rule_and_its_remediation() {
    let template = template(BaselineFormat::ConformancePack);
    assert_rule_and_remediation(&template);
    assert_eq!(template["Resources"].as_object().unwrap().len(), 2);
}

#[test]
fn the_terraform_key_rotates_at_the_policys_target_period() {
    let policy: Policy = serde_json::from_value(serde_json::json!({
        "max_rotation_period_days": 365,
        "target_rotation_period_days": 180
    }))
    .unwrap();
    let text = generate(BaselineFormat::Terraform, Some(policy));
    assert!(text.contains("resource \"aws_kms_key\""));
    assert!(text.contains("enable_key_rotation      = true"));
    assert!(text.contains("rotation_period_in_days  = 180"));
    assert!(text.contains("customer_master_key_spec = \"SYMMETRIC_DEFAULT\""));
    let default = generate(BaselineFormat::Terraform, None);
    assert!(default.contains("rotation_period_in_days  = 365"));
}

#[test]
fn options_are_checked_and_name_their_field() {
    let err = serde_json::from_value::<BaselineOptions>(serde_json::json!({"format": "yaml"}))
        .unwrap_err();
    assert!(err.to_string().contains("conformance-pack"), "{err}");
    let both = BaselineOptions {
        policy: Some(Policy::default()),
        policy_file: Some("policy.yaml".into()),
        ..BaselineOptions::default()
    };
    let err = ops::baseline(both).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("policy_file"));
    let camel: BaselineOptions =
        serde_json::from_value(serde_json::json!({"policyFile": "p.yaml"})).unwrap();
    assert_eq!(camel.policy_file.as_deref(), Some(Path::new("p.yaml")));
}

/// `cfn-lint` from the test venv, or `None` (test skipped) outside CI when there is none.
fn cfn_lint() -> Option<PathBuf> {
    match std::env::var_os("KMS_ROTATION_VENV") {
        Some(venv) => {
            let bin = PathBuf::from(venv).join("bin/cfn-lint");
            assert!(
                bin.exists(),
                "{}: missing (tests/requirements.txt pins it)",
                bin.display()
            );
            Some(bin)
        }
        None if std::env::var_os("CI").is_some() => {
            panic!("KMS_ROTATION_VENV must name the test venv (with cfn-lint) in CI")
        }
        None => {
            eprintln!(
                "note: KMS_ROTATION_VENV is not set; skipping cfn-lint (set it to .venv-test to run)"
            );
            None
        }
    }
}

#[test]
fn the_templates_pass_cfn_lint() {
    let Some(cfn_lint) = cfn_lint() else {
        return;
    };
    let mut files = vec![common::examples_dir().join("events/template.yaml")];
    for (format, name) in [
        (BaselineFormat::Cloudformation, "baseline.json"),
        (BaselineFormat::ConformancePack, "conformance-pack.json"),
    ] {
        let path = common::scratch(name);
        std::fs::write(&path, generate(format, None)).unwrap();
        files.push(path);
    }
    for file in files {
        let out = std::process::Command::new(&cfn_lint)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cfn-lint {}:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
