//! The AWS permissions kms-rotation needs, and the least-privilege IAM policy that grants them.
//!
//! [`Action`] is every AWS API action the crate calls: each call site names its operation through
//! it (the read calls through `limits::Op`, the remediation target, region discovery), so the
//! list cannot fall behind the code without a test noticing (`tests/iam_policy.rs` runs a scan,
//! an apply and a rollback with assumed roles, collects the calls that reached the servers, and
//! compares them with this list). Which [`Mode`] calls which action, and why, is one exhaustive
//! `match`: a new action has to be placed in every mode before it compiles.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Every AWS API action kms-rotation can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// KMS `ListKeys`: the keys of a region.
    ListKeys,
    /// KMS `ListAliases`: every alias of a region, for alias exceptions and reports.
    ListAliases,
    /// KMS `DescribeKey`: a key's kind, state and origin.
    DescribeKey,
    /// KMS `GetKeyRotationStatus`: whether and how often the key rotates.
    GetKeyRotationStatus,
    /// KMS `ListResourceTags`: a key's tags, for tag exceptions and priorities.
    ListResourceTags,
    /// KMS `ListKeyRotations`: a key's past rotations (`with_rotation_history`, imported keys).
    ListKeyRotations,
    /// KMS `GetKeyPolicy`: a key's policy, for its exposure.
    GetKeyPolicy,
    /// KMS `ListGrants`: a key's grants, for its exposure.
    ListGrants,
    /// KMS `EnableKeyRotation`: the fix (also sets the period).
    EnableKeyRotation,
    /// KMS `DisableKeyRotation`: rollback of a key that did not rotate before.
    DisableKeyRotation,
    /// Account `ListRegions`, for `all_regions`.
    ListRegions,
    /// STS `AssumeRole`, for `role_arns` and `organization`.
    AssumeRole,
    /// STS `GetCallerIdentity`: the account of the base credentials, for `organization` and
    /// `shard`.
    GetCallerIdentity,
    /// Organizations `ListAccounts`, for `organization`.
    ListAccounts,
    /// Organizations `ListAccountsForParent`, for `include_ous` and `exclude_ous`.
    ListAccountsForParent,
    /// Organizations `ListOrganizationalUnitsForParent`: the OUs nested in `include_ous` and
    /// `exclude_ous`.
    ListOrganizationalUnitsForParent,
    /// Security Hub `BatchImportFindings`, for `--security-hub`.
    BatchImportFindings,
}

/// What a policy is for: reading (`scan`, and `plan` when it scans) or changing keys (`apply`,
/// `rollback`). Separate, so that the identity that scans cannot write.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `scan`, and `plan` when it scans.
    #[default]
    ReadOnly,
    /// `apply` and `rollback`.
    Remediate,
}

/// Why a mode calls an action, and whether it can do without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// Optional: only some options call it, or a denial leaves a fact unread (reported as
    /// such, never guessed) instead of stopping the work.
    pub optional: bool,
    /// Why the mode calls it, for the policy's description.
    pub why: &'static str,
}

const fn required(why: &'static str) -> Option<Need> {
    Some(Need {
        optional: false,
        why,
    })
}

const fn optional(why: &'static str) -> Option<Need> {
    Some(Need {
        optional: true,
        why,
    })
}

/// What an action's `Resource` can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    /// The action takes no resource (ListKeys, ListAliases, ListRegions): `*`.
    Any,
    /// KMS keys of the identity's own account.
    Keys,
    /// The roles to assume.
    Roles,
    /// The identity's own account's default Security Hub product: the only one its findings
    /// can be imported under.
    HubProduct,
}

/// The keys of the account whose identity calls: with assumed roles, each role's own account.
/// Policy variables need policy version 2012-10-17.
const OWN_KEYS: &str = "arn:aws:kms:*:${aws:PrincipalAccount}:key/*";

/// The default Security Hub product of the identity's own account, in every region.
const OWN_HUB_PRODUCT: &str =
    "arn:aws:securityhub:*:${aws:PrincipalAccount}:product/${aws:PrincipalAccount}/default";

impl Action {
    /// Every action, in the order a policy lists them.
    pub const ALL: [Action; 17] = [
        Action::ListKeys,
        Action::ListAliases,
        Action::DescribeKey,
        Action::GetKeyRotationStatus,
        Action::ListResourceTags,
        Action::ListKeyRotations,
        Action::GetKeyPolicy,
        Action::ListGrants,
        Action::EnableKeyRotation,
        Action::DisableKeyRotation,
        Action::ListRegions,
        Action::AssumeRole,
        Action::GetCallerIdentity,
        Action::ListAccounts,
        Action::ListAccountsForParent,
        Action::ListOrganizationalUnitsForParent,
        Action::BatchImportFindings,
    ];

    /// The API operation's name, as errors and the model name it (`DescribeKey`).
    pub const fn operation(self) -> &'static str {
        use crate::model::operation;
        match self {
            Action::ListKeys => "ListKeys",
            Action::ListAliases => operation::LIST_ALIASES,
            Action::DescribeKey => operation::DESCRIBE_KEY,
            Action::GetKeyRotationStatus => operation::GET_KEY_ROTATION_STATUS,
            Action::ListResourceTags => operation::LIST_RESOURCE_TAGS,
            Action::ListKeyRotations => operation::LIST_KEY_ROTATIONS,
            Action::GetKeyPolicy => operation::GET_KEY_POLICY,
            Action::ListGrants => operation::LIST_GRANTS,
            Action::EnableKeyRotation => "EnableKeyRotation",
            Action::DisableKeyRotation => "DisableKeyRotation",
            Action::ListRegions => "ListRegions",
            Action::AssumeRole => "AssumeRole",
            Action::GetCallerIdentity => "GetCallerIdentity",
            Action::ListAccounts => "ListAccounts",
            Action::ListAccountsForParent => "ListAccountsForParent",
            Action::ListOrganizationalUnitsForParent => "ListOrganizationalUnitsForParent",
            Action::BatchImportFindings => "BatchImportFindings",
        }
    }

    /// The IAM service prefix (`kms`).
    pub const fn service(self) -> &'static str {
        match self {
            Action::ListRegions => "account",
            Action::AssumeRole | Action::GetCallerIdentity => "sts",
            Action::ListAccounts
            | Action::ListAccountsForParent
            | Action::ListOrganizationalUnitsForParent => "organizations",
            Action::BatchImportFindings => "securityhub",
            _ => "kms",
        }
    }

    /// The IAM action (`kms:DescribeKey`).
    pub fn iam_action(self) -> String {
        format!("{}:{}", self.service(), self.operation())
    }

    const fn resource(self) -> Resource {
        match self {
            Action::ListKeys
            | Action::ListAliases
            | Action::ListRegions
            | Action::GetCallerIdentity
            | Action::ListAccounts
            | Action::ListAccountsForParent
            | Action::ListOrganizationalUnitsForParent => Resource::Any,
            Action::AssumeRole => Resource::Roles,
            Action::BatchImportFindings => Resource::HubProduct,
            _ => Resource::Keys,
        }
    }

    /// Whether `mode` calls this action, and why; `None`: never.
    pub const fn need(self, mode: Mode) -> Option<Need> {
        match (mode, self) {
            (Mode::ReadOnly, Action::ListKeys) => required(
                "lists the keys of every region read (IAM policy only: no key policy grants it)",
            ),
            (Mode::ReadOnly, Action::DescribeKey) => required(
                "tells a key's kind, state and origin; a key it cannot describe is an `error` \
                 finding (describe_failed)",
            ),
            (Mode::ReadOnly, Action::GetKeyRotationStatus) => required(
                "reads whether a key rotates, and its period, for every key the rule has not \
                 settled already; a denied read is an `error` finding (rotation_status_failed), \
                 never a pass",
            ),
            (Mode::ReadOnly, Action::ListAliases) => optional(
                "one listing per region, always tried: aliases are evidence and match \
                 exceptions. Denied: every key of the region carries the failed read, alias \
                 exceptions become `exception_undecidable`, and plan refuses alias selections",
            ),
            (Mode::ReadOnly, Action::ListResourceTags) => optional(
                "for keys that would fail (tag exceptions, the plan's production priority), or \
                 every key with --all-tags. Denied: keys a tag exception may cover are `error` \
                 (exception_undecidable), plan refuses tag selections, and tag priorities rank \
                 such keys as if they matched",
            ),
            (Mode::ReadOnly, Action::ListKeyRotations) => optional(
                "only with --with-rotation-history, and for imported keys when the policy sets \
                 imported_key_max_age_days. Denied: the history is missing, and those imported \
                 keys are `error` (rotation_status_failed)",
            ),
            (Mode::ReadOnly, Action::GetKeyPolicy | Action::ListGrants) => optional(
                "for keys that would fail (every key with --exposure always; none with \
                 --exposure never): who beyond the account may use the key, so that the plan \
                 fixes exposed keys first. Denied: the key's exposure is `unknown`, ranked as \
                 if public; the verdict does not change",
            ),
            (Mode::ReadOnly, Action::ListRegions) => {
                optional("only with --all-regions: which regions are enabled for the account")
            }
            (Mode::ReadOnly | Mode::Remediate, Action::AssumeRole) => optional(
                "only with --role-arn (and --organization's --org-role-name when scanning), and \
                 for the identity that runs kms-rotation, not for the roles; each role's trust \
                 policy should require the external id",
            ),
            (Mode::ReadOnly, Action::GetCallerIdentity) => optional(
                "only with --organization (the account it runs in is read with its own \
                 credentials) or --shard without --role-arn (the account decides the shard); \
                 STS allows it without any policy",
            ),
            (Mode::ReadOnly, Action::ListAccounts) => optional(
                "only with --organization, from the management or a delegated administrator \
                 account: the ACTIVE accounts to read. Denied: the scan fails (a partial \
                 organisation is never scanned as whole)",
            ),
            (
                Mode::ReadOnly,
                Action::ListAccountsForParent | Action::ListOrganizationalUnitsForParent,
            ) => optional(
                "only with --include-ou or --exclude-ou: the accounts of those OUs and the OUs \
                 nested in them. Denied: the scan fails",
            ),
            (Mode::ReadOnly, Action::BatchImportFindings) => optional(
                "only with --security-hub: sends each account's findings to Security Hub, with \
                 that account's own identity (Security Hub takes a finding only from the \
                 account it is about). Denied: the findings are reported as not imported (exit \
                 3); the report is written anyway",
            ),
            (Mode::ReadOnly, Action::EnableKeyRotation | Action::DisableKeyRotation) => None,
            (Mode::Remediate, Action::DescribeKey) => required(
                "re-checks each key's scope right before writing: an edited or stale plan \
                 cannot make apply or rollback write elsewhere",
            ),
            (Mode::Remediate, Action::GetKeyRotationStatus) => {
                required("reads each key before writing, and again until the change shows")
            }
            (Mode::Remediate, Action::EnableKeyRotation) => required(
                "apply's one write, with an explicit period; rollback puts back an old period \
                 with it",
            ),
            (Mode::Remediate, Action::DisableKeyRotation) => {
                required("rollback only: puts back rotation that was off before apply turned it on")
            }
            (
                Mode::Remediate,
                Action::ListKeys
                | Action::ListAliases
                | Action::ListResourceTags
                | Action::ListKeyRotations
                | Action::GetKeyPolicy
                | Action::ListGrants
                | Action::ListRegions
                | Action::GetCallerIdentity
                | Action::ListAccounts
                | Action::ListAccountsForParent
                | Action::ListOrganizationalUnitsForParent
                | Action::BatchImportFindings,
            ) => None,
        }
    }
}

impl Mode {
    /// The actions this mode calls, optional ones included.
    pub fn actions(self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.need(self).is_some())
            .collect()
    }
}

/// An IAM policy document, ready for `aws iam create-policy --policy-document`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PolicyDocument {
    /// The policy language version, `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements: one for the required actions, one per optional action.
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Statement {
    /// `Required` or `RequiredOnKeys` for what the mode always needs, `Optional<Operation>`
    /// for each optional action: delete that statement to leave it out.
    #[serde(rename = "Sid")]
    pub sid: String,
    /// Always `Allow`.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// The actions granted, `service:Operation`.
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    /// What they are granted on.
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
}

/// One action of a policy and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Permission {
    /// The IAM action (`kms:ListResourceTags`).
    pub action: String,
    /// Whether the action may be removed from the policy: only some options call it, or a
    /// denial leaves a fact unread (reported as such, never guessed) instead of stopping the work.
    pub optional: bool,
    /// Why the action is there.
    pub why: &'static str,
    /// The statement that grants it.
    pub sid: String,
}

/// The least-privilege policy of a mode: the document, and what each of its actions is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IamPolicy {
    /// What the policy is for.
    pub mode: Mode,
    /// The policy itself.
    pub document: PolicyDocument,
    /// Every action of the document, in its order.
    pub permissions: Vec<Permission>,
    /// What the document cannot say: where key policies come in, what was left out.
    pub notes: Vec<String>,
}

/// The policy for `mode`. `role_arns` are the roles `--role-arn` assumes: `sts:AssumeRole` is
/// granted on them, and left out when there are none.
pub fn iam_policy(mode: Mode, role_arns: &[String]) -> Result<IamPolicy> {
    for (i, role) in role_arns.iter().enumerate() {
        if super::role_account(role).is_none() {
            return Err(Error::invalid_input(format!(
                "`{role}` is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME"
            ))
            .with_field(format!("role_arns[{i}]")));
        }
    }
    let mut statements: Vec<Statement> = Vec::new();
    let mut permissions = Vec::new();
    for action in mode.actions() {
        let Some(need) = action.need(mode) else {
            continue;
        };
        let resources = match action.resource() {
            Resource::Any => vec!["*".to_owned()],
            Resource::Keys => vec![OWN_KEYS.to_owned()],
            Resource::Roles if role_arns.is_empty() => continue,
            Resource::Roles => role_arns.to_vec(),
            Resource::HubProduct => vec![OWN_HUB_PRODUCT.to_owned()],
        };
        let sid = match (need.optional, action.resource()) {
            (true, _) => format!("Optional{}", action.operation()),
            (false, Resource::Keys) => "RequiredOnKeys".to_owned(),
            (false, _) => "Required".to_owned(),
        };
        match statements.iter_mut().find(|s| s.sid == sid) {
            Some(statement) => statement.actions.push(action.iam_action()),
            None => statements.push(Statement {
                sid: sid.clone(),
                effect: "Allow",
                actions: vec![action.iam_action()],
                resources,
            }),
        }
        permissions.push(Permission {
            action: action.iam_action(),
            optional: need.optional,
            why: need.why,
            sid,
        });
    }
    // Required statements first, so that the optional ones can be cut from the end.
    statements.sort_by_key(|s| s.sid.starts_with("Optional"));
    permissions.sort_by_key(|p| p.optional);

    let mut notes = vec![
        "The key actions are granted on the keys of the identity's own account \
         (${aws:PrincipalAccount}), and take effect only where the key policy lets IAM policies \
         grant access, as the default key policy does. Outside the aws partition, change \
         `arn:aws:` to the partition's."
            .to_owned(),
    ];
    if role_arns.is_empty() {
        notes.push(
            "sts:AssumeRole is left out: with --role-arn, give the role ARNs here to grant it \
             to the identity that runs kms-rotation, and give each role the rest of the policy."
                .to_owned(),
        );
    } else {
        notes.push(
            "sts:AssumeRole belongs to the identity that runs kms-rotation; each role needs the \
             other statements."
                .to_owned(),
        );
    }
    if mode == Mode::ReadOnly {
        notes.push(
            "With --organization, sts:GetCallerIdentity, sts:AssumeRole on \
             arn:aws:iam::*:role/ORG_ROLE_NAME and the organizations: actions belong to the \
             identity that runs kms-rotation (in the management or a delegated administrator \
             account); the role in each account needs the other statements. Without \
             --organization, delete the organizations: statements."
                .to_owned(),
        );
    }
    if mode == Mode::Remediate {
        notes.push(
            "To make AWS refuse other rotation periods, add a condition on \
             kms:RotationPeriodInDays to kms:EnableKeyRotation."
                .to_owned(),
        );
    }
    Ok(IamPolicy {
        mode,
        document: PolicyDocument {
            version: "2012-10-17",
            statements,
        },
        permissions,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_listed_once_and_has_a_service() {
        let mut all = Action::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Action::ALL.len());
        for action in Action::ALL {
            assert!(
                ["kms", "account", "sts", "securityhub", "organizations"]
                    .contains(&action.service())
            );
        }
    }

    #[test]
    fn reading_never_writes_and_remediation_never_lists() {
        let read = Mode::ReadOnly.actions();
        assert!(!read.contains(&Action::EnableKeyRotation));
        assert!(!read.contains(&Action::DisableKeyRotation));
        let fix = Mode::Remediate.actions();
        assert_eq!(
            fix,
            [
                Action::DescribeKey,
                Action::GetKeyRotationStatus,
                Action::EnableKeyRotation,
                Action::DisableKeyRotation,
                Action::AssumeRole
            ]
        );
    }

    #[test]
    fn optional_actions_have_statements_of_their_own_after_the_required_ones() {
        let roles = ["arn:aws:iam::111122223333:role/kms-rotation-scanner".to_owned()];
        let policy = iam_policy(Mode::ReadOnly, &roles).unwrap();
        let sids: Vec<&str> = policy
            .document
            .statements
            .iter()
            .map(|s| s.sid.as_str())
            .collect();
        assert_eq!(
            sids,
            [
                "Required",
                "RequiredOnKeys",
                "OptionalListAliases",
                "OptionalListResourceTags",
                "OptionalListKeyRotations",
                "OptionalGetKeyPolicy",
                "OptionalListGrants",
                "OptionalListRegions",
                "OptionalAssumeRole",
                "OptionalGetCallerIdentity",
                "OptionalListAccounts",
                "OptionalListAccountsForParent",
                "OptionalListOrganizationalUnitsForParent",
                "OptionalBatchImportFindings"
            ]
        );
        let org = &policy.document.statements[policy.document.statements.len() - 4];
        assert_eq!(org.actions, ["organizations:ListAccounts"]);
        assert_eq!(org.resources, ["*"]);
        let hub = policy.document.statements.last().unwrap();
        assert_eq!(hub.actions, ["securityhub:BatchImportFindings"]);
        assert_eq!(hub.resources, [OWN_HUB_PRODUCT]);
        let assume = &policy.document.statements[policy.document.statements.len() - 6];
        assert_eq!(assume.actions, ["sts:AssumeRole"]);
        assert_eq!(assume.resources, roles);
        let on_keys = &policy.document.statements[1];
        assert_eq!(
            on_keys.actions,
            ["kms:DescribeKey", "kms:GetKeyRotationStatus"]
        );
        assert_eq!(on_keys.resources, [OWN_KEYS]);
        for permission in &policy.permissions {
            assert_eq!(permission.optional, permission.sid.starts_with("Optional"));
            assert!(!permission.why.is_empty());
        }
    }

    #[test]
    fn without_roles_assume_role_is_left_out_and_said_so() {
        let policy = iam_policy(Mode::Remediate, &[]).unwrap();
        let actions: Vec<&str> = policy
            .permissions
            .iter()
            .map(|p| p.action.as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "kms:DescribeKey",
                "kms:GetKeyRotationStatus",
                "kms:EnableKeyRotation",
                "kms:DisableKeyRotation"
            ]
        );
        assert!(
            policy
                .notes
                .iter()
                .any(|n| n.contains("sts:AssumeRole is left out"))
        );
        let json = serde_json::to_value(&policy.document).unwrap();
        assert_eq!(json["Version"], "2012-10-17");
        assert_eq!(json["Statement"][0]["Effect"], "Allow");
    }

    #[test]
    fn a_bad_role_arn_is_refused_by_field() {
        let err = iam_policy(Mode::ReadOnly, &["arn:aws:iam::1:role/x".to_owned()]).unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some("role_arns[0]"));
    }
}
