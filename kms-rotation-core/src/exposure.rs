//! Exposure: who beyond the key's own account may use a key, read from its key policy and its
//! grants. It decides no verdict; it is the evidence that puts exposed keys first in a
//! remediation plan, as the control's rollout asks ("starting with internet-exposed assets").
//!
//! The decision is narrow on purpose, and documented in `docs/rule.md` ("Exposure"):
//! - `public`: an `Allow` statement whose principal is `*` (`"*"`, `{"AWS": "*"}`, or any
//!   `NotPrincipal`) and that no condition pins to an account, an organization or a VPC
//!   endpoint.
//! - `cross_account`: an `Allow` statement naming another account's principal, a wildcard
//!   pinned to another account, an organization or a VPC endpoint, or a grant to another
//!   account's principal.
//! - `account`: neither.
//! - `unknown`: the policy (or, when it alone says `account`, the grants) could not be read or
//!   understood. Never a guess.
//!
//! `Deny` statements are not credited (a narrowing deny is not modelled, so exposure can only be
//! over-stated), the actions a statement allows are not weighed, and service principals are
//! not counted.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{KeyError, operation};
use crate::wire::wire_names;

/// How far a key's use reaches, from most to least exposed (`unknown` ranks just after
/// `public`: it may be public).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ExposureLevel {
    /// A statement lets any principal of any account use the key.
    Public,
    /// The policy or grants could not be read or understood: it may be public.
    Unknown,
    /// Principals of other accounts (or an organization, or a VPC endpoint's callers) may use it.
    CrossAccount,
    /// Only principals of the key's own account may use it.
    Account,
}
wire_names!(ExposureLevel, "exposure level");

/// Where a piece of evidence comes from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EvidenceSource {
    /// A statement of the key policy (`default`).
    KeyPolicy,
    /// A grant (ListGrants).
    Grant,
}
wire_names!(EvidenceSource, "evidence source");

/// One statement or grant that reaches beyond the key's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExposureEvidence {
    /// `public` or `cross_account`.
    pub level: ExposureLevel,
    /// A key policy statement or a grant.
    pub source: EvidenceSource,
    /// The statement's `Sid`, or `Statement[i]` when it has none; the grant's id.
    pub statement: String,
    /// The principal as written (`*`, an account id, an ARN).
    pub principal: String,
    /// Why it counts, in words.
    pub detail: String,
}

/// What the key policy and grants say about who may use the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Exposure {
    /// The most exposed level the evidence shows; `unknown` when it could not be read.
    pub level: ExposureLevel,
    /// Every statement and grant that reaches beyond the key's account.
    #[serde(default)]
    pub evidence: Vec<ExposureEvidence>,
    /// For `unknown`: the read that failed, or why the policy could not be understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<KeyError>,
}

/// A grant as ListGrants gave it: its id and grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFact {
    /// The grant's id.
    pub grant_id: String,
    /// The grantee principal (an ARN, or a service principal); `None` when not reported.
    pub grantee_principal: Option<String>,
}

/// The error code for a key policy that is not a policy document this module understands.
pub const UNREADABLE_POLICY: &str = "UnreadableKeyPolicy";

impl Exposure {
    /// What the key policy alone says. A failed read, or a policy this module cannot
    /// understand, is `unknown`.
    pub fn from_policy(key_account: &str, policy: Result<&str, &KeyError>) -> Exposure {
        match policy
            .map_err(KeyError::clone)
            .and_then(|text| statements_evidence(key_account, text))
        {
            Ok(evidence) => Exposure {
                level: level_of(&evidence),
                evidence,
                error: None,
            },
            Err(error) => Exposure::unknown(error),
        }
    }

    /// Whether the grants can change this exposure: only an `account` policy can become
    /// `cross_account` through a grant (grants never make a key public). The others need no
    /// ListGrants call, which has the lowest quota of the reads (100/s).
    pub fn grants_can_change(&self) -> bool {
        self.level == ExposureLevel::Account
    }

    /// This exposure with the grants: a grant to another account's principal makes an
    /// `account` key `cross_account`; unread grants make it `unknown`. Other levels are kept.
    pub fn with_grants(
        self,
        key_account: &str,
        grants: Result<&[GrantFact], &KeyError>,
    ) -> Exposure {
        if !self.grants_can_change() {
            return self;
        }
        match grants {
            Ok(grants) => {
                let evidence = grants_evidence(key_account, grants);
                Exposure {
                    level: level_of(&evidence),
                    evidence,
                    error: None,
                }
            }
            Err(error) => Exposure::unknown(error.clone()),
        }
    }

    /// Nothing is known: `error` says why.
    pub fn unknown(error: KeyError) -> Exposure {
        Exposure {
            level: ExposureLevel::Unknown,
            evidence: Vec::new(),
            error: Some(error),
        }
    }
}

fn level_of(evidence: &[ExposureEvidence]) -> ExposureLevel {
    evidence
        .iter()
        .map(|e| e.level)
        .min()
        .unwrap_or(ExposureLevel::Account)
}

fn unreadable(message: impl Into<String>) -> KeyError {
    KeyError {
        operation: operation::GET_KEY_POLICY.to_owned(),
        code: UNREADABLE_POLICY.to_owned(),
        message: message.into(),
    }
}

/// One string or a list of strings, as policy documents write values.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The account a principal names: an account id, or the account field of an IAM or STS ARN.
fn principal_account(principal: &str) -> Option<&str> {
    let account = if principal.starts_with("arn:") {
        principal.split(':').nth(4)?
    } else {
        principal
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

fn statements_evidence(key_account: &str, text: &str) -> Result<Vec<ExposureEvidence>, KeyError> {
    let document: Value = serde_json::from_str(text)
        .map_err(|e| unreadable(format!("the key policy is not JSON: {e}")))?;
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => return Err(unreadable("the key policy has no Statement list")),
    };
    let mut evidence = Vec::new();
    for (i, statement) in statements.into_iter().enumerate() {
        let label = statement
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|sid| !sid.is_empty())
            .map_or_else(|| format!("Statement[{i}]"), str::to_owned);
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => {}
            Some("Deny") => continue,
            _ => return Err(unreadable(format!("{label} has no Effect Allow or Deny"))),
        }
        evidence.extend(statement_evidence(key_account, statement, &label));
    }
    Ok(evidence)
}

/// The principals an `Allow` statement names beyond the key's account.
fn statement_evidence(key_account: &str, statement: &Value, label: &str) -> Vec<ExposureEvidence> {
    let found = |level, principal: &str, detail: String| ExposureEvidence {
        level,
        source: EvidenceSource::KeyPolicy,
        statement: label.to_owned(),
        principal: principal.to_owned(),
        detail,
    };
    let mut evidence = Vec::new();
    let (wildcard, named) = principals(statement);
    if let Some(principal) = wildcard {
        let item = match pin(statement.get("Condition"), key_account) {
            Pin::None => found(
                ExposureLevel::Public,
                principal,
                "allows any principal, and no condition pins it to an account, an organization \
                 or a VPC endpoint"
                    .to_owned(),
            ),
            Pin::OwnAccount => return evidence,
            Pin::Beyond(how) => found(ExposureLevel::CrossAccount, principal, how),
        };
        evidence.push(item);
    }
    for principal in named {
        if let Some(account) = principal_account(principal)
            && account != key_account
        {
            evidence.push(found(
                ExposureLevel::CrossAccount,
                principal,
                format!("allows a principal of account {account}"),
            ));
        }
    }
    evidence
}

/// The wildcard principal of a statement (`*`, or a `NotPrincipal`: everyone but some), and the
/// AWS principals it names.
fn principals(statement: &Value) -> (Option<&str>, Vec<&str>) {
    if statement.get("NotPrincipal").is_some() {
        return (Some("NotPrincipal"), Vec::new());
    }
    match statement.get("Principal") {
        Some(Value::String(s)) if s == "*" => (Some("*"), Vec::new()),
        Some(Value::Object(map)) => {
            let aws = map.get("AWS").map(strings).unwrap_or_default();
            let wildcard = aws.iter().copied().find(|p| *p == "*");
            let named = aws.into_iter().filter(|p| *p != "*").collect();
            (wildcard, named)
        }
        _ => (None, Vec::new()),
    }
}

/// What a statement's conditions narrow a wildcard principal to.
enum Pin {
    /// Nothing: anyone.
    None,
    /// Principals of the key's own account only.
    OwnAccount,
    /// Other accounts, an organization or a VPC endpoint: the detail says which.
    Beyond(String),
}

/// Condition keys that pin the caller's account, with the values as account ids or ARNs.
const ACCOUNT_KEYS: &[&str] = &[
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:sourceaccount",
];
const ARN_KEYS: &[&str] = &["aws:principalarn", "aws:sourcearn"];
const ORGANIZATION_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];
const NETWORK_KEYS: &[&str] = &["aws:sourcevpce", "aws:sourcevpc"];

/// Conditions combine with AND: the narrowest pin wins. A pin counts only under an operator
/// that requires the key to be present and equal to (or, for `Like`, literally match) its
/// values: `ForAllValues:` and `...IfExists` hold when the key is absent, and negated
/// operators let everyone else through.
fn pin(condition: Option<&Value>, key_account: &str) -> Pin {
    let Some(Value::Object(operators)) = condition else {
        return Pin::None;
    };
    let mut beyond: Option<String> = None;
    for (operator, keys) in operators {
        let Some(like) = pinning_operator(operator) else {
            continue;
        };
        let Value::Object(keys) = keys else { continue };
        for (key, values) in keys {
            let key = key.to_ascii_lowercase();
            let values = strings(values);
            let is_arn = ARN_KEYS.contains(&key.as_str());
            // A pattern can match anything; an ARN pattern is judged by its account field.
            let pattern = like && values.iter().any(|v| v.contains(['*', '?']));
            if values.is_empty() || (pattern && !is_arn) {
                continue;
            }
            let accounts: Option<Vec<&str>> = if is_arn || ACCOUNT_KEYS.contains(&key.as_str()) {
                values
                    .iter()
                    .map(|v| principal_account(v))
                    .collect::<Option<_>>()
            } else if ORGANIZATION_KEYS.contains(&key.as_str()) {
                beyond.get_or_insert_with(|| {
                    format!(
                        "allows any principal of organization {} ({key})",
                        values.join(", ")
                    )
                });
                continue;
            } else if NETWORK_KEYS.contains(&key.as_str()) {
                beyond.get_or_insert_with(|| {
                    format!(
                        "allows any principal that calls through {} ({key}), from any account",
                        values.join(", ")
                    )
                });
                continue;
            } else {
                continue;
            };
            match accounts {
                Some(accounts) if accounts.iter().all(|a| *a == key_account) => {
                    return Pin::OwnAccount;
                }
                Some(accounts) => {
                    let others: Vec<&str> =
                        accounts.into_iter().filter(|a| *a != key_account).collect();
                    beyond.get_or_insert_with(|| {
                        format!(
                            "allows any principal of account {} ({key})",
                            others.join(", ")
                        )
                    });
                }
                // A value that names no account (a pattern in the account field): no pin.
                None => {}
            }
        }
    }
    beyond.map_or(Pin::None, Pin::Beyond)
}

/// `Some(like)` for an operator that can pin a key to its values (`like`: its values are
/// patterns); `None` for one that cannot.
fn pinning_operator(operator: &str) -> Option<bool> {
    let operator = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
    if operator.starts_with("ForAllValues:") || operator.ends_with("IfExists") {
        return None;
    }
    match operator {
        "StringEquals" | "StringEqualsIgnoreCase" | "ArnEquals" => Some(false),
        "StringLike" | "ArnLike" => Some(true),
        _ => None,
    }
}

fn grants_evidence(key_account: &str, grants: &[GrantFact]) -> Vec<ExposureEvidence> {
    grants
        .iter()
        .filter_map(|grant| {
            let principal = grant.grantee_principal.as_deref()?;
            let account = principal_account(principal).filter(|a| *a != key_account)?;
            Some(ExposureEvidence {
                level: ExposureLevel::CrossAccount,
                source: EvidenceSource::Grant,
                statement: grant.grant_id.clone(),
                principal: principal.to_owned(),
                detail: format!("grants use of the key to a principal of account {account}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "111111111111";
    const OTHER: &str = "222222222222";

    fn policy(statements: Value) -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    fn default_statement() -> Value {
        serde_json::json!({
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{OWN}:root")},
            "Action": "kms:*", "Resource": "*"
        })
    }

    fn wildcard(condition: Value) -> Value {
        serde_json::json!({
            "Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt", "Resource": "*", "Condition": condition
        })
    }

    fn assess(text: &str) -> Exposure {
        reads(Ok(text), Ok(&[]))
    }

    /// What the source does: the policy, then the grants.
    fn reads(policy: Result<&str, &KeyError>, grants: Result<&[GrantFact], &KeyError>) -> Exposure {
        Exposure::from_policy(OWN, policy).with_grants(OWN, grants)
    }

    fn level(statements: Value) -> ExposureLevel {
        assess(&policy(statements)).level
    }

    fn denied(operation: &str) -> KeyError {
        KeyError {
            operation: operation.to_owned(),
            code: "AccessDeniedException".to_owned(),
            message: String::new(),
        }
    }

    #[test]
    fn the_default_key_policy_is_account() {
        let exposure = assess(&policy(serde_json::json!([default_statement()])));
        assert_eq!(exposure.level, ExposureLevel::Account);
        assert!(exposure.evidence.is_empty());
    }

    #[test]
    fn every_spelling_of_a_wildcard_without_a_condition_is_public() {
        for principal in [
            serde_json::json!("*"),
            serde_json::json!({"AWS": "*"}),
            serde_json::json!({"AWS": ["arn:aws:iam::111111111111:root", "*"]}),
        ] {
            let statement = serde_json::json!({
                "Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"
            });
            let exposure = assess(&policy(serde_json::json!([default_statement(), statement])));
            assert_eq!(exposure.level, ExposureLevel::Public, "{principal}");
            assert_eq!(exposure.evidence[0].statement, "Statement[1]");
            assert_eq!(exposure.evidence[0].principal, "*");
        }
        // A lone statement object, not a list.
        let lone = serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*"});
        assert_eq!(level(lone), ExposureLevel::Public);
        // Allow with NotPrincipal: everyone but some.
        let not = serde_json::json!({"Effect": "Allow", "NotPrincipal": {"AWS": "x"}});
        assert_eq!(level(serde_json::json!([not])), ExposureLevel::Public);
    }

    #[test]
    fn a_deny_statement_exposes_nothing() {
        let deny = serde_json::json!({"Effect": "Deny", "Principal": "*", "Action": "kms:*"});
        assert_eq!(level(serde_json::json!([deny])), ExposureLevel::Account);
    }

    #[test]
    fn conditions_pinning_the_own_account_make_a_wildcard_account() {
        for (operator, key, value) in [
            ("StringEquals", "aws:PrincipalAccount", OWN.to_owned()),
            ("StringEquals", "kms:CallerAccount", OWN.to_owned()),
            (
                "ForAnyValue:StringEquals",
                "kms:CallerAccount",
                OWN.to_owned(),
            ),
            ("StringEquals", "aws:SourceAccount", OWN.to_owned()),
            (
                "ArnLike",
                "aws:PrincipalArn",
                format!("arn:aws:iam::{OWN}:role/*"),
            ),
        ] {
            let statement = wildcard(serde_json::json!({operator: {key: value}}));
            assert_eq!(
                level(serde_json::json!([statement])),
                ExposureLevel::Account,
                "{operator} {key}"
            );
        }
    }

    #[test]
    fn conditions_that_do_not_pin_leave_a_wildcard_public() {
        for (operator, key, value) in [
            // Absent key: these hold for everyone.
            ("StringEqualsIfExists", "aws:PrincipalAccount", OWN),
            ("ForAllValues:StringEquals", "kms:CallerAccount", OWN),
            // Everyone else gets through.
            ("StringNotEquals", "aws:PrincipalAccount", OWN),
            // A pattern matches any account.
            ("StringLike", "aws:PrincipalAccount", "*"),
            ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/x"),
            // A service, not an account.
            (
                "StringEquals",
                "kms:ViaService",
                "s3.eu-west-1.amazonaws.com",
            ),
            // The key's own account: true for every caller.
            ("StringEquals", "aws:ResourceAccount", OWN),
        ] {
            let statement = wildcard(serde_json::json!({operator: {key: value}}));
            assert_eq!(
                level(serde_json::json!([statement])),
                ExposureLevel::Public,
                "{operator} {key} {value}"
            );
        }
    }

    #[test]
    fn conditions_pinning_beyond_the_account_are_cross_account() {
        for (key, value, says) in [
            ("aws:PrincipalAccount", OTHER, OTHER),
            ("aws:PrincipalOrgID", "o-abc123", "organization o-abc123"),
            ("aws:SourceVpce", "vpce-1a2b", "vpce-1a2b"),
        ] {
            let statement = wildcard(serde_json::json!({"StringEquals": {key: value}}));
            let exposure = assess(&policy(serde_json::json!([statement])));
            assert_eq!(exposure.level, ExposureLevel::CrossAccount, "{key}");
            assert_eq!(exposure.evidence[0].statement, "Open");
            assert!(exposure.evidence[0].detail.contains(says), "{exposure:?}");
        }
    }

    #[test]
    fn an_own_account_pin_beside_a_broader_one_narrows_to_the_account() {
        let statement = wildcard(serde_json::json!({
            "StringEquals": {"aws:PrincipalOrgID": "o-abc123", "kms:CallerAccount": OWN}
        }));
        assert_eq!(
            level(serde_json::json!([statement])),
            ExposureLevel::Account
        );
    }

    #[test]
    fn another_accounts_principal_is_cross_account() {
        for principal in [
            format!("arn:aws:iam::{OTHER}:root"),
            OTHER.to_owned(),
            format!("arn:aws:iam::{OTHER}:role/reader"),
        ] {
            let statement = serde_json::json!({
                "Effect": "Allow", "Principal": {"AWS": [principal]}, "Action": "kms:Decrypt"
            });
            let exposure = assess(&policy(serde_json::json!([default_statement(), statement])));
            assert_eq!(exposure.level, ExposureLevel::CrossAccount, "{principal}");
            assert_eq!(exposure.evidence[0].principal, principal);
        }
        // A service principal is not an account.
        let service = serde_json::json!({
            "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*"
        });
        assert_eq!(level(serde_json::json!([service])), ExposureLevel::Account);
    }

    #[test]
    fn public_outranks_cross_account() {
        let other = serde_json::json!({
            "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "kms:Decrypt"
        });
        let open = serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*"});
        let exposure = assess(&policy(serde_json::json!([other, open])));
        assert_eq!(exposure.level, ExposureLevel::Public);
        assert_eq!(exposure.evidence.len(), 2);
    }

    #[test]
    fn grants_to_other_accounts_are_cross_account() {
        let text = policy(serde_json::json!([default_statement()]));
        let grants = [
            GrantFact {
                grant_id: "own".to_owned(),
                grantee_principal: Some(format!("arn:aws:iam::{OWN}:role/app")),
            },
            GrantFact {
                grant_id: "service".to_owned(),
                grantee_principal: Some("dynamodb.eu-west-1.amazonaws.com".to_owned()),
            },
            GrantFact {
                grant_id: "g-1".to_owned(),
                grantee_principal: Some(format!("arn:aws:iam::{OTHER}:role/app")),
            },
        ];
        let exposure = reads(Ok(&text), Ok(&grants));
        assert_eq!(exposure.level, ExposureLevel::CrossAccount);
        assert_eq!(exposure.evidence.len(), 1);
        assert_eq!(exposure.evidence[0].source, EvidenceSource::Grant);
        assert_eq!(exposure.evidence[0].statement, "g-1");
    }

    #[test]
    fn an_unread_policy_is_unknown_never_account() {
        let exposure = reads(Err(&denied("GetKeyPolicy")), Ok(&[]));
        assert_eq!(exposure.level, ExposureLevel::Unknown);
        assert_eq!(exposure.error.unwrap().operation, "GetKeyPolicy");
        for text in ["not json", "{}", r#"{"Statement": [{"Principal": "*"}]}"#] {
            let exposure = assess(text);
            assert_eq!(exposure.level, ExposureLevel::Unknown, "{text}");
            assert_eq!(exposure.error.unwrap().code, UNREADABLE_POLICY);
        }
    }

    #[test]
    fn unread_grants_matter_only_when_the_policy_says_account() {
        let account = policy(serde_json::json!([default_statement()]));
        let exposure = reads(Ok(&account), Err(&denied("ListGrants")));
        assert_eq!(exposure.level, ExposureLevel::Unknown);
        assert_eq!(exposure.error.unwrap().operation, "ListGrants");
        let open = policy(serde_json::json!([{"Effect": "Allow", "Principal": "*"}]));
        let exposure = reads(Ok(&open), Err(&denied("ListGrants")));
        assert_eq!(exposure.level, ExposureLevel::Public);
    }
}
