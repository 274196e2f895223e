//! How the AWS source and target reach AWS: [`AwsOptions`], the one AWS options type of every
//! surface, and its checks.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;

use super::ExternalId;
use super::call::Backoff;
use crate::regions::check_name;
use crate::{Error, Result};

/// Declares `$name`: the fields written in it (each with its default after `=`, else its type's),
/// then every AWS option, with its `Default` and `aws_options`.
///
/// [`AwsOptions`] is declared this way, and so are the options of the operations that reach AWS
/// ([`ScanOptions`](crate::ops::ScanOptions), [`ApplyOptions`](crate::ops::ApplyOptions),
/// [`RollbackOptions`](crate::ops::RollbackOptions)): every surface gives the AWS options flat
/// among the operation's own (`max_attempts`, not `aws.max_attempts`), and each is a field of its
/// own, so that an error names it (`max_attempts`, `role_arns[1]`, `scan.max_attempts`) and an
/// unknown name is refused with the list of known ones. `#[serde(flatten)]` reads the same names
/// but buffers them first: its errors named no field, and it does not mix with
/// `deny_unknown_fields`.
macro_rules! with_aws_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $type:ty $(= $default:expr)?,
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $type,
            )*
            /// Read every region enabled for each account (Account `ListRegions`, statuses
            /// `ENABLED` and `ENABLED_BY_DEFAULT`; needs `account:ListRegions`). With `regions`
            /// also set, only those are read, and any that is not enabled is reported as a scope
            /// error ([`REGION_NOT_ENABLED`](crate::aws::REGION_NOT_ENABLED)). Without it, named
            /// regions are read as given; one that is not enabled fails ListKeys and is reported
            /// as a scope error too.
            #[serde(alias = "allRegions")]
            pub all_regions: bool,
            /// A named profile from the shared config files instead of the default chain.
            pub profile: Option<String>,
            /// Roles to assume, one account each (the account is taken from the ARN). Empty: the
            /// default credentials' own account.
            #[serde(alias = "roleArns")]
            pub role_arns: Vec<String>,
            /// The external id the roles require, if any. A secret: never printed (see
            /// [`ExternalId`](crate::aws::ExternalId)).
            #[serde(alias = "externalId")]
            #[schemars(with = "Option<String>")]
            pub external_id: Option<crate::aws::ExternalId>,
            /// Read the external id from this file instead (its trailing line break dropped),
            /// e.g. a mounted secret. Not together with `external_id`.
            #[serde(alias = "externalIdFile")]
            pub external_id_file: Option<std::path::PathBuf>,
            /// Read every ACTIVE account of the AWS organisation (Organizations `ListAccounts`,
            /// called from the management account or a delegated administrator), each through
            /// the role `org_role_name`. A listing that fails fails the scan: a partial list
            /// is never taken for the organisation. The account the scan runs in is read with
            /// its own credentials, not through the role. An account whose role cannot be
            /// assumed is a scope error naming it and the AWS error code; the others are still
            /// read. Not with `role_arns`; scans only (apply and rollback refuse it).
            pub organization: bool,
            /// With `organization`: the role assumed in each account (a name, with a path if it
            /// has one, e.g. `kms-rotation-scanner`), with `external_id` if set. Required with
            /// `organization`, refused without it.
            #[serde(alias = "orgRoleName")]
            pub org_role_name: Option<String>,
            /// With `organization`: only accounts in these organisational units (`ou-...`),
            /// nested OUs included.
            #[serde(alias = "includeOus")]
            pub include_ous: Vec<String>,
            /// With `organization`: not the accounts in these organisational units, nested OUs
            /// included.
            #[serde(alias = "excludeOus")]
            pub exclude_ous: Vec<String>,
            /// With `organization`: not these accounts (12 digits).
            #[serde(alias = "excludeAccounts")]
            pub exclude_accounts: Vec<String>,
            /// The role session name, visible in the target accounts' CloudTrail.
            #[serde(alias = "sessionName")]
            pub session_name: String,
            /// Send every AWS call (KMS, STS, Account) to this URL: for emulators.
            /// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_KMS` are honoured too when this is unset.
            #[serde(alias = "endpointUrl")]
            pub endpoint_url: Option<String>,
            /// Attempts per call, retries included. At least 1. Throttling is retried past this,
            /// within `throttling_budget`. (Reads use the SDK's standard retry mode, other calls
            /// adaptive.)
            #[serde(alias = "maxAttempts")]
            pub max_attempts: u32,
            /// The first retry's backoff ceiling; `None`: the SDK's (1 s). Throttled calls back
            /// off from it too, doubling up to 20 s, with full jitter.
            #[serde(
                rename = "initial_backoff_ms",
                alias = "initialBackoffMs",
                deserialize_with = "crate::ops::millis::option::deserialize"
            )]
            #[schemars(with = "Option<u64>", extend("default" = null))]
            pub initial_backoff: Option<std::time::Duration>,
            /// How long one call may go on being retried while it is throttled, from its first
            /// attempt. A throttle storm (other callers using the account's quota) then slows the
            /// scan down instead of leaving keys as `error`. Other failures are retried
            /// `max_attempts` times only.
            #[serde(
                rename = "throttling_budget_ms",
                alias = "throttlingBudgetMs",
                deserialize_with = "crate::ops::millis::deserialize"
            )]
            #[schemars(with = "u64", extend("default" = 300000))]
            pub throttling_budget: std::time::Duration,
            /// Keys read at once per account and region.
            #[serde(alias = "concurrencyPerRegion")]
            pub concurrency_per_region: usize,
            /// Account-region pairs read at once.
            #[serde(alias = "maxConcurrentRegions")]
            pub max_concurrent_regions: usize,
            /// Client-side request rates per account, region and operation, as `OPERATION=RATE`
            /// strings (`describe-key=1000`); the others keep their defaults.
            #[serde(rename = "rates", deserialize_with = "crate::aws::limits::syntax::deserialize")]
            #[schemars(with = "Vec<String>")]
            pub rate_limits: crate::aws::RateLimits,
            /// Connection timeout; `None`: the SDK's (3.1 s).
            #[serde(
                rename = "connect_timeout_ms",
                alias = "connectTimeoutMs",
                deserialize_with = "crate::ops::millis::option::deserialize"
            )]
            #[schemars(with = "Option<u64>", extend("default" = null))]
            pub connect_timeout: Option<std::time::Duration>,
            /// Limit on one call including its retries; `None`: no limit.
            #[serde(
                rename = "operation_timeout_ms",
                alias = "operationTimeoutMs",
                deserialize_with = "crate::ops::millis::option::deserialize"
            )]
            #[schemars(with = "Option<u64>", extend("default" = 120000))]
            pub operation_timeout: Option<std::time::Duration>,
            /// Limit on one attempt of a call; `None`: no limit.
            #[serde(
                rename = "operation_attempt_timeout_ms",
                alias = "operationAttemptTimeoutMs",
                deserialize_with = "crate::ops::millis::option::deserialize"
            )]
            #[schemars(with = "Option<u64>", extend("default" = 20000))]
            pub operation_attempt_timeout: Option<std::time::Duration>,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($field: crate::aws::with_aws_options!(@default $($default)?),)*
                    all_regions: false,
                    profile: None,
                    role_arns: Vec::new(),
                    external_id: None,
                    external_id_file: None,
                    organization: false,
                    org_role_name: None,
                    include_ous: Vec::new(),
                    exclude_ous: Vec::new(),
                    exclude_accounts: Vec::new(),
                    session_name: "kms-rotation".to_owned(),
                    endpoint_url: None,
                    max_attempts: 5,
                    initial_backoff: None,
                    throttling_budget: crate::aws::DEFAULT_THROTTLING_BUDGET,
                    concurrency_per_region: 64,
                    max_concurrent_regions: 32,
                    rate_limits: crate::aws::RateLimits::default(),
                    connect_timeout: None,
                    operation_timeout: Some(std::time::Duration::from_secs(120)),
                    operation_attempt_timeout: Some(std::time::Duration::from_secs(20)),
                }
            }
        }

        impl $name {
            /// The AWS options among these, to reach `regions`.
            pub fn aws_options(&self, regions: Vec<String>) -> crate::aws::AwsOptions {
                crate::aws::AwsOptions {
                    regions,
                    all_regions: self.all_regions,
                    profile: self.profile.clone(),
                    role_arns: self.role_arns.clone(),
                    external_id: self.external_id.clone(),
                    external_id_file: self.external_id_file.clone(),
                    organization: self.organization,
                    org_role_name: self.org_role_name.clone(),
                    include_ous: self.include_ous.clone(),
                    exclude_ous: self.exclude_ous.clone(),
                    exclude_accounts: self.exclude_accounts.clone(),
                    session_name: self.session_name.clone(),
                    endpoint_url: self.endpoint_url.clone(),
                    max_attempts: self.max_attempts,
                    initial_backoff: self.initial_backoff,
                    throttling_budget: self.throttling_budget,
                    concurrency_per_region: self.concurrency_per_region,
                    max_concurrent_regions: self.max_concurrent_regions,
                    rate_limits: self.rate_limits.clone(),
                    connect_timeout: self.connect_timeout,
                    operation_timeout: self.operation_timeout,
                    operation_attempt_timeout: self.operation_attempt_timeout,
                }
            }
        }
    };
    (@default) => {
        Default::default()
    };
    (@default $default:expr) => {
        $default
    };
}

pub(crate) use with_aws_options;

with_aws_options! {
    /// How the AWS source reaches AWS. Every field has a usable default; all are checked by
    /// [`AwsSource::new`](super::AwsSource::new) before any call.
    ///
    /// It is also the AWS part of every operation's options ([`crate::ops`]): deserialized from
    /// the same snake_case names on every surface (camelCase accepted for JavaScript), durations
    /// in milliseconds (`*_ms`), rate limits as `OPERATION=RATE` strings.
    ///
    /// Its `Debug` output is safe to log: the external id prints as `ExternalId(<redacted>)`.
    #[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    pub struct AwsOptions {
        /// Regions to read. Empty: every enabled region with `all_regions`, else the region of
        /// the default configuration (`AWS_REGION`, the profile). Set from an operation's
        /// `regions`.
        #[serde(skip)]
        pub regions: Vec<String>,
    }
}

/// The SDK's first backoff ceiling, used for throttled calls when `initial_backoff` is unset.
const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// [`AwsOptions::throttling_budget`]'s default: long enough to outlast a burst of other callers'
/// traffic, short enough that a quota exhausted for good ends the scan within minutes.
pub const DEFAULT_THROTTLING_BUDGET: Duration = Duration::from_secs(300);

impl AwsOptions {
    /// Checks every option; the error names the field and the value, except for the external
    /// id, whose value no message repeats.
    pub fn validate(&self) -> Result<()> {
        for (i, region) in self.regions.iter().enumerate() {
            check_name(region).map_err(|e| e.with_field(format!("regions[{i}]")))?;
        }
        let mut accounts = BTreeSet::new();
        for (i, role) in self.role_arns.iter().enumerate() {
            let account = role_account(role).ok_or_else(|| {
                Error::invalid_input(format!(
                    "`{role}` is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME"
                ))
                .with_field(format!("role_arns[{i}]"))
            })?;
            if !accounts.insert(account) {
                return Err(Error::invalid_input(format!(
                    "a second role for account {account} (`{role}`): give one role per account"
                ))
                .with_field(format!("role_arns[{i}]")));
            }
        }
        self.validate_organization()?;
        if let Some(external_id) = &self.external_id {
            external_id.check()?;
            if self.external_id_file.is_some() {
                return Err(Error::invalid_input(
                    "the external id is given twice, as a value and as a file: give one",
                )
                .with_field("external_id_file"));
            }
        }
        check_chars(&self.session_name, 2, 64, "+=,.@-").map_err(|why| {
            Error::invalid_input(format!("`{}` {why}", self.session_name))
                .with_field("session_name")
        })?;
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(
                Error::invalid_input(format!("`{url}` is not an http:// or https:// URL"))
                    .with_field("endpoint_url"),
            );
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("max_attempts"));
        }
        if self.concurrency_per_region == 0 {
            return Err(
                Error::invalid_input("must be at least 1").with_field("concurrency_per_region")
            );
        }
        if self.max_concurrent_regions == 0 {
            return Err(
                Error::invalid_input("must be at least 1").with_field("max_concurrent_regions")
            );
        }
        for (name, timeout) in [
            ("connect_timeout_ms", self.connect_timeout),
            ("operation_timeout_ms", self.operation_timeout),
            (
                "operation_attempt_timeout_ms",
                self.operation_attempt_timeout,
            ),
            ("initial_backoff_ms", self.initial_backoff),
            ("throttling_budget_ms", Some(self.throttling_budget)),
        ] {
            if timeout.is_some_and(|t| t.is_zero()) {
                return Err(Error::invalid_input("must be more than zero").with_field(name));
            }
        }
        self.rate_limits.validate()
    }
}

impl AwsOptions {
    /// The organisation options: each only with `organization`, the role name required with it,
    /// every id well formed.
    fn validate_organization(&self) -> Result<()> {
        let narrowing = [
            ("include_ous", self.include_ous.is_empty()),
            ("exclude_ous", self.exclude_ous.is_empty()),
            ("exclude_accounts", self.exclude_accounts.is_empty()),
        ];
        if !self.organization {
            if self.org_role_name.is_some() {
                return Err(Error::invalid_input(
                    "a role name for the organisation's accounts, but no organization: set \
                     organization, or give roles with role_arns",
                )
                .with_field("org_role_name"));
            }
            if let Some((field, _)) = narrowing.iter().find(|(_, empty)| !empty) {
                return Err(Error::invalid_input(
                    "narrows the organisation's accounts, but organization is not set",
                )
                .with_field(*field));
            }
            return Ok(());
        }
        if !self.role_arns.is_empty() {
            return Err(Error::invalid_input(
                "organization finds the accounts and assumes org_role_name in each: give it or \
                 role_arns, not both",
            )
            .with_field("role_arns"));
        }
        let Some(role) = &self.org_role_name else {
            return Err(Error::invalid_input(
                "organization needs the role to assume in each account (e.g. \
                 kms-rotation-scanner)",
            )
            .with_field("org_role_name"));
        };
        check_role_name(role).map_err(|why| {
            Error::invalid_input(format!("`{role}` {why}")).with_field("org_role_name")
        })?;
        for (field, ids) in [
            ("include_ous", &self.include_ous),
            ("exclude_ous", &self.exclude_ous),
        ] {
            for (i, id) in ids.iter().enumerate() {
                if !is_ou_id(id) {
                    return Err(Error::invalid_input(format!(
                        "`{id}` is not an organisational unit id (ou-xxxx-xxxxxxxx)"
                    ))
                    .with_field(format!("{field}[{i}]")));
                }
            }
        }
        for (i, account) in self.exclude_accounts.iter().enumerate() {
            if !is_account_id(account) {
                return Err(Error::invalid_input(format!(
                    "`{account}` is not an AWS account id (12 digits)"
                ))
                .with_field(format!("exclude_accounts[{i}]")));
            }
        }
        Ok(())
    }

    /// The options with `external_id_file` read into `external_id` (checked first, so that a
    /// file given next to a value is refused before it is read).
    pub fn with_external_id_file(mut self) -> Result<Self> {
        self.validate()?;
        if let Some(path) = self.external_id_file.take() {
            self.external_id = Some(ExternalId::from_file(path)?);
        }
        Ok(self)
    }

    /// How a call that may pass later is retried past the SDK's attempts: reads retry throttling
    /// this way, remediation every retryable failure.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff {
            initial: self.initial_backoff.unwrap_or(DEFAULT_INITIAL_BACKOFF),
            budget: self.throttling_budget,
        }
    }
}

/// The account id of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
pub(crate) fn role_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = resource.strip_prefix("role/")?;
    let valid = !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/');
    valid.then_some(account)
}

/// Whether `id` is an AWS account id: 12 digits.
pub(crate) fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Organizations' syntax of an OU id: `ou-`, 4 to 32 of `[0-9a-z]` (the root's part), `-`, 8 to
/// 32 of `[0-9a-z]`.
fn is_ou_id(id: &str) -> bool {
    let part = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    match id.strip_prefix("ou-").and_then(|rest| rest.split_once('-')) {
        Some((root, unit)) => part(root, 4) && part(unit, 8),
        None => false,
    }
}

/// IAM's rules for a role name with an optional path (`path/name`): 1 to 64 characters for the
/// name, word characters and `+=,.@-`, no empty path segment.
fn check_role_name(role: &str) -> std::result::Result<(), String> {
    let (path, name) = match role.rsplit_once('/') {
        Some((path, name)) => (Some(path), name),
        None => (None, role),
    };
    check_chars(name, 1, 64, "+=,.@-")?;
    if let Some(path) = path {
        if path.len() > 511 || path.split('/').any(str::is_empty) {
            return Err("has an empty or too long path".to_owned());
        }
        path.split('/')
            .try_for_each(|segment| check_chars(segment, 1, 511, "+=,.@-"))?;
    }
    Ok(())
}

/// STS's character rules for session names: word characters and `extra`. The reason does not
/// repeat the value; the caller adds it where it is not a secret.
fn check_chars(
    value: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> std::result::Result<(), String> {
    if !(min..=max).contains(&value.len()) {
        return Err(format!("must be {min} to {max} characters long"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || extra.contains(*c)))
    {
        return Err(format!("has a character STS refuses: `{bad}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn role_accounts_come_from_the_arn() {
        assert_eq!(
            role_account("arn:aws:iam::111122223333:role/scanner"),
            Some("111122223333")
        );
        assert_eq!(
            role_account("arn:aws-cn:iam::111122223333:role/path/to/scanner"),
            Some("111122223333")
        );
        for bad in [
            "",
            "scanner",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::1111:role/scanner",
            "arn:aws:sts::111122223333:role/scanner",
            "arn:aws:iam:us-east-1:111122223333:role/scanner",
            "arn:aws:iam::111122223333:role/",
        ] {
            assert_eq!(role_account(bad), None, "{bad}");
        }
    }

    #[test]
    fn invalid_options_are_named() {
        let check = |options: AwsOptions, field: &str| {
            let err = options.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.context().field.as_deref(), Some(field), "{err}");
        };
        check(
            AwsOptions {
                role_arns: vec!["arn:aws:iam::111122223333:role/a".into(), "nope".into()],
                ..AwsOptions::default()
            },
            "role_arns[1]",
        );
        check(
            AwsOptions {
                role_arns: vec![
                    "arn:aws:iam::111122223333:role/a".into(),
                    "arn:aws:iam::111122223333:role/b".into(),
                ],
                ..AwsOptions::default()
            },
            "role_arns[1]",
        );
        check(
            AwsOptions {
                regions: vec!["eu-west-1".into(), "eu west 1".into()],
                ..AwsOptions::default()
            },
            "regions[1]",
        );
        check(
            AwsOptions {
                max_attempts: 0,
                ..AwsOptions::default()
            },
            "max_attempts",
        );
        check(
            AwsOptions {
                throttling_budget: Duration::ZERO,
                ..AwsOptions::default()
            },
            "throttling_budget_ms",
        );
        check(
            AwsOptions {
                session_name: "has space".into(),
                ..AwsOptions::default()
            },
            "session_name",
        );
        check(
            AwsOptions {
                endpoint_url: Some("127.0.0.1:4566".into()),
                ..AwsOptions::default()
            },
            "endpoint_url",
        );
        assert!(AwsOptions::default().validate().is_ok());
    }

    #[test]
    fn organization_options_are_checked_before_any_call() {
        let org = |f: fn(&mut AwsOptions)| {
            let mut options = AwsOptions {
                organization: true,
                org_role_name: Some("kms-rotation-scanner".into()),
                ..AwsOptions::default()
            };
            f(&mut options);
            options
                .validate()
                .err()
                .and_then(|e| e.context().field.clone())
        };
        assert_eq!(org(|_| {}), None);
        assert_eq!(org(|o| o.org_role_name = Some("scanners/kms".into())), None);
        assert_eq!(
            org(|o| o.org_role_name = None),
            Some("org_role_name".into())
        );
        assert_eq!(
            org(|o| o.org_role_name = Some("a b".into())),
            Some("org_role_name".into())
        );
        assert_eq!(
            org(|o| o.org_role_name = Some("/x".into())),
            Some("org_role_name".into())
        );
        assert_eq!(
            org(|o| o.role_arns = vec!["arn:aws:iam::111122223333:role/a".into()]),
            Some("role_arns".into())
        );
        assert_eq!(
            org(|o| o.include_ous = vec!["ou-ab12-abcd1234".into(), "r-ab12".into()]),
            Some("include_ous[1]".into())
        );
        assert_eq!(
            org(|o| o.exclude_ous = vec!["ou-AB12-abcd1234".into()]),
            Some("exclude_ous[0]".into())
        );
        assert_eq!(
            org(|o| o.exclude_accounts = vec!["1111".into()]),
            Some("exclude_accounts[0]".into())
        );
        let without = |f: fn(&mut AwsOptions)| {
            let mut options = AwsOptions::default();
            f(&mut options);
            options
                .validate()
                .err()
                .and_then(|e| e.context().field.clone())
        };
        assert_eq!(
            without(|o| o.org_role_name = Some("r".into())),
            Some("org_role_name".into())
        );
        assert_eq!(
            without(|o| o.include_ous = vec!["ou-ab12-abcd1234".into()]),
            Some("include_ous".into())
        );
        assert_eq!(
            without(|o| o.exclude_accounts = vec!["111122223333".into()]),
            Some("exclude_accounts".into())
        );
    }

    #[test]
    fn an_invalid_external_id_is_named_but_never_echoed() {
        let secret = "not valid; shared-secret";
        let err = AwsOptions {
            role_arns: vec!["arn:aws:iam::111122223333:role/a".into()],
            external_id: Some(secret.into()),
            ..AwsOptions::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.context().field.as_deref(), Some("external_id"));
        assert!(!err.to_string().contains(secret), "{err}");
        assert!(!format!("{err:?}").contains("shared-secret"), "{err:?}");
    }

    #[test]
    fn options_debug_redacts_the_external_id() {
        let options = AwsOptions {
            external_id: Some("shared-secret".into()),
            ..AwsOptions::default()
        };
        let debug = format!("{options:?}");
        assert!(debug.contains("ExternalId(<redacted>)"), "{debug}");
        assert!(!debug.contains("shared-secret"), "{debug}");
    }

    #[test]
    fn the_invalid_role_is_named_in_the_message() {
        let err = AwsOptions {
            role_arns: vec!["arn:aws:iam::12:role/x".into()],
            ..AwsOptions::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("arn:aws:iam::12:role/x"), "{err}");
    }
}
