//! The organisation baseline, generated from a policy (pure): the AWS Config managed rule with
//! its remediation runbook, the EventBridge rule that sends key changes to the event handler
//! (`ops::event`), a conformance pack of the same rule, and a Terraform key that passes.
//!
//! The Config rule and runbook only turn rotation on (AWS's default period, 365 days); the
//! policy's period is what the Terraform key sets and what the event handler's fix sets.

use serde_json::{Value, json};

use crate::event::{DETAIL_TYPE, EVENT_NAMES, SOURCE};

/// The AWS Config managed rule that checks a customer managed key rotates.
pub const CONFIG_RULE: &str = "CMK_BACKING_KEY_ROTATION_ENABLED";
/// The SSM Automation runbook that turns a key's rotation on.
pub const REMEDIATION_RUNBOOK: &str = "AWSConfigRemediation-EnableKeyRotation";

/// What the runbook calls, per its documentation: nothing more is granted to its role.
const RUNBOOK_KMS_ACTIONS: [&str; 3] = [
    "kms:DescribeKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyRotationStatus",
];

/// The EventBridge pattern of the KMS calls the event handler re-checks for.
pub fn event_pattern() -> Value {
    json!({
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": EVENT_NAMES,
        }
    })
}

fn config_rule() -> Value {
    json!({
        "Type": "AWS::Config::ConfigRule",
        "Properties": {
            "ConfigRuleName": "cmk-backing-key-rotation-enabled",
            "Description": "Checks that automatic rotation is enabled on every customer managed KMS key.",
            "Source": {"Owner": "AWS", "SourceIdentifier": CONFIG_RULE},
            "MaximumExecutionFrequency": "TwentyFour_Hours"
        }
    })
}

fn remediation(role: Value, automatic: Value) -> Value {
    json!({
        "Type": "AWS::Config::RemediationConfiguration",
        "Properties": {
            "ConfigRuleName": {"Ref": "KeyRotationRule"},
            "TargetType": "SSM_DOCUMENT",
            "TargetId": REMEDIATION_RUNBOOK,
            "Automatic": automatic,
            "MaximumAutomaticAttempts": 5,
            "RetryAttemptSeconds": 60,
            "Parameters": {
                "AutomationAssumeRole": {"StaticValue": {"Values": [role]}},
                "KeyId": {"ResourceValue": {"Value": "RESOURCE_ID"}}
            }
        }
    })
}

fn automatic_parameter() -> Value {
    json!({
        "Type": "String",
        "AllowedValues": ["true", "false"],
        "Default": "false",
        "Description": format!("Run {REMEDIATION_RUNBOOK} automatically on every non-compliant key (true), or only when started by hand (false).")
    })
}

fn description(period_days: u32) -> String {
    format!(
        "kms-rotation baseline: AWS Config rule {CONFIG_RULE} with remediation through \
         {REMEDIATION_RUNBOOK}. Policy rotation period: {period_days} days (set by the event \
         handler and the Terraform key; the runbook enables AWS's default period)."
    )
}

/// A CloudFormation template: the Config rule, its remediation (automatic when the
/// `AutomaticRemediation` parameter is `true`) with a least-privilege role for the runbook,
/// and, when `EventHandlerArn` names the event handler's Lambda function, the EventBridge rule
/// that invokes it and the permission to do so.
pub fn cloudformation(period_days: u32) -> Value {
    let kms_keys = json!({"Fn::Sub": "arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*"});
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description(period_days),
        "Parameters": {
            "AutomaticRemediation": automatic_parameter(),
            "EventHandlerArn": {
                "Type": "String",
                "Default": "",
                "Description": "The ARN of the kms-rotation event handler's Lambda function (examples/events/template.yaml); empty: no EventBridge rule."
            }
        },
        "Conditions": {
            "RemediateAutomatically": {"Fn::Equals": [{"Ref": "AutomaticRemediation"}, "true"]},
            "HasEventHandler": {"Fn::Not": [{"Fn::Equals": [{"Ref": "EventHandlerArn"}, ""]}]}
        },
        "Resources": {
            "KeyRotationRule": config_rule(),
            "RemediationRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Description": format!("Assumed by SSM Automation to run {REMEDIATION_RUNBOOK}."),
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "ssm.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                        }]
                    },
                    "Policies": [{
                        "PolicyName": "enable-key-rotation",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "RunbookKeyCalls",
                                    "Effect": "Allow",
                                    "Action": RUNBOOK_KMS_ACTIONS,
                                    "Resource": kms_keys
                                },
                                {
                                    "Sid": "RunbookAutomation",
                                    "Effect": "Allow",
                                    "Action": ["ssm:GetAutomationExecution", "ssm:StartAutomationExecution"],
                                    "Resource": [
                                        {"Fn::Sub": format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}::automation-definition/{REMEDIATION_RUNBOOK}:*")},
                                        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*"}
                                    ]
                                }
                            ]
                        }
                    }]
                }
            },
            "KeyRotationRemediation": remediation(
                json!({"Fn::GetAtt": ["RemediationRole", "Arn"]}),
                json!({"Fn::If": ["RemediateAutomatically", true, false]}),
            ),
            "KeyEventsRule": {
                "Type": "AWS::Events::Rule",
                "Condition": "HasEventHandler",
                "Properties": {
                    "Description": "KMS calls that can change a key's rotation verdict, sent to the kms-rotation event handler.",
                    "EventPattern": event_pattern(),
                    "State": "ENABLED",
                    "Targets": [{"Arn": {"Ref": "EventHandlerArn"}, "Id": "kms-rotation-event-handler"}]
                }
            },
            "KeyEventsPermission": {
                "Type": "AWS::Lambda::Permission",
                "Condition": "HasEventHandler",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": "EventHandlerArn"},
                    "Principal": "events.amazonaws.com",
                    "SourceArn": {"Fn::GetAtt": ["KeyEventsRule", "Arn"]}
                }
            }
        },
        "Outputs": {
            "ConfigRuleName": {"Value": {"Ref": "KeyRotationRule"}},
            "RemediationRoleArn": {"Value": {"Fn::GetAtt": ["RemediationRole", "Arn"]}}
        }
    })
}

/// A conformance pack template: the same rule and remediation. A pack holds only Config rules
/// and remediations, so the runbook's role is a parameter (the CloudFormation template's
/// `RemediationRoleArn` output).
pub fn conformance_pack(period_days: u32) -> Value {
    json!({
        "Description": description(period_days),
        "Parameters": {
            "AutomaticRemediation": automatic_parameter(),
            "AutomationAssumeRoleArn": {
                "Type": "String",
                "Description": format!("The role {REMEDIATION_RUNBOOK} runs as (kms:DescribeKey, kms:EnableKeyRotation, kms:GetKeyRotationStatus): the baseline template's RemediationRoleArn output.")
            }
        },
        "Conditions": {
            "RemediateAutomatically": {"Fn::Equals": [{"Ref": "AutomaticRemediation"}, "true"]}
        },
        "Resources": {
            "KeyRotationRule": config_rule(),
            "KeyRotationRemediation": remediation(
                json!({"Ref": "AutomationAssumeRoleArn"}),
                json!({"Fn::If": ["RemediateAutomatically", true, false]}),
            )
        }
    })
}

/// A Terraform module snippet: a customer managed key that passes under the policy.
pub fn terraform(period_days: u32) -> String {
    format!(
        r#"# kms-rotation baseline: a customer managed key that passes under the policy
# (automatic rotation on, every {period_days} days).
variable "description" {{
  type        = string
  description = "What the key protects."
}}

variable "deletion_window_in_days" {{
  type    = number
  default = 30
}}

resource "aws_kms_key" "this" {{
  description              = var.description
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  key_usage                = "ENCRYPT_DECRYPT"
  enable_key_rotation      = true
  rotation_period_in_days  = {period_days}
  deletion_window_in_days  = var.deletion_window_in_days
}}

output "key_arn" {{
  value = aws_kms_key.this.arn
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terraform_key_rotates_at_the_policys_period() {
        let text = terraform(180);
        assert!(text.contains("enable_key_rotation      = true"));
        assert!(text.contains("rotation_period_in_days  = 180"));
    }

    #[test]
    fn the_pattern_lists_every_re_checked_call() {
        let pattern = event_pattern();
        assert_eq!(
            pattern["detail"]["eventName"].as_array().map(Vec::len),
            Some(9)
        );
    }
}
