//! What each reason code of the rule means, why it matters, and how to fix the key: the text of
//! `kms-rotation explain`, from `docs/rule.md`.
//!
//! The `match` in [`explain`] is exhaustive, so a new [`Reason`] does not compile without its
//! explanation; a test checks [`REASONS`] against the reason codes of the finding schema.

use serde::Serialize;

use crate::model::KeyArn;
use crate::{Finding, Policy, Reason, Status, shell};

/// One reason code, explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Explanation {
    /// The reason code explained.
    pub reason: Reason,
    /// The statuses a finding with this reason can have (a failing reason is `exempt` when an
    /// active exception covers the key).
    pub statuses: &'static [Status],
    /// What the rule saw.
    pub meaning: &'static str,
    /// Why it matters for the control.
    pub why: &'static str,
    /// What to do in the AWS console, step by step (or why there is nothing to do).
    pub fix_console: &'static [&'static str],
    /// The aws CLI commands that fix it, in order, or one that shows the fact when there is
    /// nothing to fix. `KEY_ARN` and `REGION` stand for the key a fix goes to (the finding's
    /// `remediation_target`, or its `arn`) and that key's region, `DAYS` for the policy's
    /// `target_rotation_period_days`: [`fix_commands`] fills them in.
    pub fix_cli: &'static [&'static str],
}

/// Every reason code, in the order of the rule's decision table.
pub const REASONS: [Reason; 19] = [
    Reason::DescribeFailed,
    Reason::AwsManaged,
    Reason::UnsupportedKeySpec,
    Reason::CustomKeyStore,
    Reason::ImportedKeyMaterial,
    Reason::ImportedKeyRotatedOnDemand,
    Reason::ImportedKeyRotationOverdue,
    Reason::PendingDeletion,
    Reason::KeyStatePendingImport,
    Reason::KeyStateUnavailable,
    Reason::KeyStateCreating,
    Reason::KeyDisabled,
    Reason::RotationStatusFailed,
    Reason::RotationDisabled,
    Reason::RotationPeriodExceedsPolicy,
    Reason::RotationEnabled,
    Reason::ExceptionUndecidable,
    Reason::UnknownUntilApply,
    Reason::RotationNotSupported,
];

const ERROR: &[Status] = &[Status::Error];
const NOT_APPLICABLE: &[Status] = &[Status::NotApplicable];
const PASS: &[Status] = &[Status::Pass];
const FAIL: &[Status] = &[Status::Fail, Status::Exempt];

const OPEN_THE_KEY: &str = "Open the AWS KMS console in the key's region, choose Customer managed \
                            keys, and choose the key (its ARN is the finding's `arn`).";
const NOTHING_TO_FIX: &str =
    "Nothing to fix: the control does not apply to this key, and it does not count against it.";

/// The explanation of `reason`.
pub fn explain(reason: Reason) -> Explanation {
    let (statuses, meaning, why, fix_console, fix_cli): (
        &'static [Status],
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    ) = match reason {
        Reason::DescribeFailed => (
            ERROR,
            "DescribeKey failed for the key (access denied, throttled past the retries, a \
             timeout...), or the record lacks key_manager, key_spec, origin or key_state. The \
             finding's `error` has the AWS error code.",
            "Without those facts nobody can tell what kind of key it is: it may be a customer \
             key that does not rotate. An unreadable key is never counted as passing or \
             failing; `scan --fail-on error` makes it fail the run.",
            &[
                "Read the finding's error.code: AccessDeniedException means the scanning \
                 identity may not describe the key.",
                "In IAM, give the scanning identity kms:DescribeKey (`kms-rotation iam-policy \
                 --read-only`).",
                "In the KMS console, open the key's Key policy tab and check that it lets IAM \
                 policies grant access (the default key policy's `arn:aws:iam::ACCOUNT:root` \
                 statement), or names the scanning role.",
                "Scan again.",
            ],
            &["aws kms describe-key --key-id KEY_ARN --region REGION"],
        ),
        Reason::AwsManaged => (
            NOT_APPLICABLE,
            "An AWS managed key (key_manager AWS, an alias like alias/aws/s3): a service created \
             it for you.",
            "AWS rotates AWS managed keys every year, and their rotation cannot be configured, \
             so the control does not apply to them.",
            &[NOTHING_TO_FIX],
            &[
                "aws kms describe-key --key-id KEY_ARN --region REGION --query KeyMetadata.KeyManager",
            ],
        ),
        Reason::UnsupportedKeySpec => (
            NOT_APPLICABLE,
            "The key spec is not SYMMETRIC_DEFAULT: an asymmetric (RSA, ECC, SM2, ML-DSA, \
             ML-KEM) or HMAC key.",
            "AWS KMS has no automatic rotation for these keys. To rotate one, create a new key \
             and move its users (and its alias) to it.",
            &[NOTHING_TO_FIX],
            &["aws kms describe-key --key-id KEY_ARN --region REGION --query KeyMetadata.KeySpec"],
        ),
        Reason::CustomKeyStore => (
            NOT_APPLICABLE,
            "The key lives in a custom key store: its origin is AWS_CLOUDHSM or \
             EXTERNAL_KEY_STORE, or it has a custom key store id.",
            "AWS KMS cannot rotate key material it does not hold: rotation is done in the \
             CloudHSM cluster or the external key manager (or by moving to a new key).",
            &[NOTHING_TO_FIX],
            &["aws kms describe-key --key-id KEY_ARN --region REGION \
             --query 'KeyMetadata.[Origin,CustomKeyStoreId]'"],
        ),
        Reason::ImportedKeyMaterial => (
            NOT_APPLICABLE,
            "The key's material was imported (origin EXTERNAL), and the policy does not set \
             imported_key_max_age_days.",
            "Imported material cannot rotate automatically, only on demand, so the control \
             does not apply. Set imported_key_max_age_days in the policy to judge these keys \
             on the age of their material instead.",
            &[
                "Nothing to fix for the control. To judge imported keys, add \
                 `imported_key_max_age_days: 365` (say) to the policy file and scan again.",
            ],
            &["aws kms list-key-rotations --key-id KEY_ARN --region REGION"],
        ),
        Reason::ImportedKeyRotatedOnDemand => (
            PASS,
            "An imported key (origin EXTERNAL) whose material, imported or rotated last, is no \
             older than the policy's imported_key_max_age_days.",
            "Its material is as fresh as the policy asks.",
            &[
                "Nothing to fix. Rotate it on demand again before it is imported_key_max_age_days old.",
            ],
            &["aws kms list-key-rotations --key-id KEY_ARN --region REGION"],
        ),
        Reason::ImportedKeyRotationOverdue => (
            FAIL,
            "An imported key (origin EXTERNAL) whose material, imported or rotated last, is \
             older than the policy's imported_key_max_age_days.",
            "Old key material protects everything encrypted under it for as long as it lasts. \
             kms-rotation cannot fix it: it only turns on automatic rotation, which imported \
             keys do not have (plan skips them as imported_key).",
            &[
                OPEN_THE_KEY,
                "On the Key material tab, import new key material: download the wrapping \
                 public key and import token, wrap the new material, and upload it.",
                "Choose Rotate key material (on-demand rotation) to make the new material \
                 current. The commands below do the same; the new material is wrapped with \
                 the public key between the first two.",
            ],
            &[
                "aws kms get-parameters-for-import --key-id KEY_ARN --wrapping-algorithm \
                 RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_4096 --region REGION",
                "aws kms import-key-material --key-id KEY_ARN --encrypted-key-material \
                 fileb://EncryptedKeyMaterial.bin --import-token fileb://ImportToken.bin \
                 --import-type NEW_KEY_MATERIAL --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE \
                 --region REGION",
                "aws kms rotate-key-on-demand --key-id KEY_ARN --region REGION",
            ],
        ),
        Reason::PendingDeletion => (
            NOT_APPLICABLE,
            "The key is scheduled for deletion (PendingDeletion, or PendingReplicaDeletion for \
             a multi-Region replica).",
            "AWS reports rotation as off for such keys by design, and the key is on its way \
             out. If the deletion was a mistake, cancel it: the key is then judged again.",
            &[
                "Nothing to fix if the key should go.",
                "Otherwise: open the key, choose Key actions, then Cancel key deletion (the \
                 key comes back Disabled), then Enable it.",
            ],
            &["aws kms cancel-key-deletion --key-id KEY_ARN --region REGION"],
        ),
        Reason::KeyStatePendingImport => (
            NOT_APPLICABLE,
            "The key is waiting for its key material to be imported (PendingImport): it \
             cannot be used yet.",
            "A key with no material encrypts nothing, so there is nothing to rotate yet.",
            &[
                "Nothing to fix for the control. To use the key, import its material (Key \
                 material tab).",
            ],
            &["aws kms describe-key --key-id KEY_ARN --region REGION --query KeyMetadata.KeyState"],
        ),
        Reason::KeyStateUnavailable => (
            NOT_APPLICABLE,
            "The key is Unavailable: its custom key store is disconnected.",
            "The key cannot be used or configured until its key store is connected again.",
            &[
                "Nothing to fix for the control. To use the key, reconnect its custom key \
                 store (Custom key stores, Key store actions, Connect).",
            ],
            &["aws kms describe-key --key-id KEY_ARN --region REGION \
             --query 'KeyMetadata.[KeyState,CustomKeyStoreId]'"],
        ),
        Reason::KeyStateCreating => (
            NOT_APPLICABLE,
            "The key is still being created (Creating), as a new multi-Region replica is for \
             a while.",
            "It cannot be configured yet; it will be judged once it is created.",
            &["Nothing to fix: scan again in a few minutes."],
            &["aws kms describe-key --key-id KEY_ARN --region REGION --query KeyMetadata.KeyState"],
        ),
        Reason::KeyDisabled => (
            NOT_APPLICABLE,
            "The key is Disabled, and the policy says disabled_keys: skip.",
            "A disabled key keeps its rotation setting and comes back with one EnableKey call, \
             so by default it is judged like any key; this policy chose to skip disabled keys. \
             KMS refuses to turn on rotation for a disabled key.",
            &[
                "Nothing to fix under this policy. Before enabling the key again, turn on its \
                 rotation right after (Key rotation tab), or judge disabled keys by removing \
                 `disabled_keys: skip` from the policy.",
            ],
            &["aws kms get-key-rotation-status --key-id KEY_ARN --region REGION"],
        ),
        Reason::RotationStatusFailed => (
            ERROR,
            "GetKeyRotationStatus failed for the key, or its rotation status was not read at \
             all (for an imported key judged by age: ListKeyRotations failed, or no date is \
             known). The finding's `error` has the AWS error code, or NotCollected.",
            "A rotation status that could not be read is never taken as off: the key may or \
             may not rotate, so it is neither a pass nor a fail. `scan --fail-on error` makes \
             it fail the run.",
            &[
                "Read the finding's error.code: AccessDeniedException means the scanning \
                 identity may not read the key's rotation.",
                "In IAM, give the scanning identity kms:GetKeyRotationStatus (`kms-rotation \
                 iam-policy --read-only`), and check that the key policy lets IAM policies \
                 grant access.",
                "For throttling, scan again later or lower --rate get-key-rotation-status.",
                "Scan again.",
            ],
            &["aws kms get-key-rotation-status --key-id KEY_ARN --region REGION"],
        ),
        Reason::RotationDisabled => (
            FAIL,
            "Automatic rotation is off for this customer managed symmetric key.",
            "Its key material never changes: everything ever encrypted under it depends on \
             that one material, for as long as the key lives. The control (CIS AWS \
             Foundations, Security Hub KMS.4, cmk-backing-key-rotation-enabled) requires \
             automatic rotation.",
            &[
                OPEN_THE_KEY,
                "For a multi-Region replica, open its primary instead: the setting is shared.",
                "On the Key rotation tab, choose Edit, select Enable automatic rotation, set \
                 the rotation period (90-2560 days, at most the policy's \
                 max_rotation_period_days), and Save.",
                "Or, for many keys at once: kms-rotation plan, then kms-rotation apply.",
            ],
            &[
                "aws kms enable-key-rotation --key-id KEY_ARN --region REGION \
                 --rotation-period-in-days DAYS",
            ],
        ),
        Reason::RotationPeriodExceedsPolicy => (
            FAIL,
            "The key rotates, but its rotation period is longer than the policy's \
             max_rotation_period_days.",
            "Material that lives longer than the policy allows protects more data for longer \
             than the risk was accepted for.",
            &[
                OPEN_THE_KEY,
                "For a multi-Region replica, open its primary instead: the setting is shared.",
                "On the Key rotation tab, choose Edit, set a rotation period no longer than \
                 the policy's max_rotation_period_days, and Save.",
                "Or, for many keys at once: kms-rotation plan, then kms-rotation apply.",
            ],
            &[
                "aws kms enable-key-rotation --key-id KEY_ARN --region REGION \
                 --rotation-period-in-days DAYS",
            ],
        ),
        Reason::RotationEnabled => (
            PASS,
            "Automatic rotation is on, with a period the policy accepts.",
            "This is what the control asks for.",
            &["Nothing to fix."],
            &["aws kms get-key-rotation-status --key-id KEY_ARN --region REGION"],
        ),
        Reason::ExceptionUndecidable => (
            ERROR,
            "The key would fail, and an active exception matches by tag or alias, but the \
             key's tags or aliases were not read (or their read failed), so nobody can say \
             whether the exception covers it.",
            "Calling it a fail could make a plan write to a key its owner exempted; calling it \
             exempt could hide a key nobody exempted. So it is an error until the facts are \
             read.",
            &[
                "Scan again with the facts read: `kms-rotation scan --all-tags` reads every \
                 key's tags.",
                "If the read was denied, give the scanning identity kms:ListResourceTags or \
                 kms:ListAliases (`kms-rotation iam-policy --read-only`).",
                "Or match the exception by arn or key_id, which can always be decided.",
            ],
            &["aws kms list-resource-tags --key-id KEY_ARN --region REGION"],
        ),
        Reason::UnknownUntilApply => (
            ERROR,
            "The key is declared in a Terraform plan or a CloudFormation template, and a fact \
             the rule needs (its key spec, origin, key store, state, rotation or rotation \
             period) is set by a reference or an intrinsic function (`!Ref`, `!If`, a \
             resource's attribute), so it is known only after apply or deploy. The finding's \
             `error.message` names the property, and `location` the file, line and resource.",
            "Guessing the value could pass a key that will not rotate. Until it is known the \
             key is neither a pass nor a fail; `scan --fail-on error` makes it fail the check.",
            &[
                "Set the property to a literal in the code (`enable_key_rotation = true`, \
                 `EnableKeyRotation: true`), so the check can judge it before deploy.",
                "Or deploy, then scan the account: the key's real settings are judged then.",
            ],
            &["aws kms get-key-rotation-status --key-id KEY_ARN --region REGION"],
        ),
        Reason::RotationNotSupported => (
            FAIL,
            "The key is declared in a Terraform plan or a CloudFormation template with \
             automatic rotation on, but its kind cannot rotate automatically: not \
             SYMMETRIC_DEFAULT (RSA, ECC, HMAC...), imported key material (origin EXTERNAL), \
             or a custom key store.",
            "KMS refuses EnableKeyRotation for such a key, so the apply or deploy would fail. \
             The control does not apply to the key; the setting should go.",
            &[
                "Remove `enable_key_rotation` (Terraform) or `EnableKeyRotation` \
                 (CloudFormation) from the key, or make the key SYMMETRIC_DEFAULT with origin \
                 AWS_KMS if it should rotate.",
                "For imported key material, rotate on demand instead (kms-rotation's \
                 imported_key_max_age_days policy judges its age once deployed).",
            ],
            &["aws kms describe-key --key-id KEY_ARN --region REGION \
             --query 'KeyMetadata.[KeySpec,Origin,CustomKeyStoreId]'"],
        ),
    };
    Explanation {
        reason,
        statuses,
        meaning,
        why,
        fix_console,
        fix_cli,
    }
}

/// The aws CLI commands that fix `finding`'s key, with its values filled in (each quoted for
/// the shell: a report is a file a user may have edited); empty unless the finding is `fail` or
/// `exempt` (an exception accepts the risk for a time; the fix is still the same).
///
/// The commands go to the key a fix acts on: a replica's primary (`remediation_target`), in
/// that key's region, with the policy's target period.
pub fn fix_commands(finding: &Finding, policy: &Policy) -> Vec<String> {
    if !matches!(finding.status, Status::Fail | Status::Exempt) {
        return Vec::new();
    }
    let target = finding
        .remediation_target
        .as_deref()
        .unwrap_or(&finding.arn);
    let region = KeyArn::parse(target).map_or(finding.region.as_str(), |arn| arn.region);
    let (target, region) = (shell::quote(target), shell::quote(region));
    let days = policy.target_rotation_period_days.days().to_string();
    explain(finding.reason)
        .fix_cli
        .iter()
        .map(|command| {
            // Word by word, so that a value is never searched for another placeholder.
            let words = command.split(' ').map(|word| match word {
                "KEY_ARN" => target.as_str(),
                "REGION" => region.as_str(),
                "DAYS" => days.as_str(),
                word => word,
            });
            words.collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Every reason code, explained, in the order of [`REASONS`].
pub fn explain_all() -> Vec<Explanation> {
    REASONS.into_iter().map(explain).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_listed_once_and_explained() {
        let mut codes: Vec<&str> = REASONS.iter().map(|r| r.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), REASONS.len());
        for explanation in explain_all() {
            assert!(!explanation.statuses.is_empty());
            assert!(!explanation.meaning.is_empty() && !explanation.why.is_empty());
            assert!(!explanation.fix_console.is_empty());
            assert!(!explanation.fix_cli.is_empty());
            for command in explanation.fix_cli {
                assert!(command.starts_with("aws kms "), "{}", explanation.reason);
            }
        }
    }
}
