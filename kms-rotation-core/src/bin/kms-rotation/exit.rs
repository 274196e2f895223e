//! Exit codes, first match wins (`formats.md`): 2 bad input or usage; 3 the report is
//! incomplete; 1 a finding matches `--fail-on`; 0 otherwise.

use std::process::ExitCode;

use kms_rotation::exceptions::ExceptionsReview;
use kms_rotation::{Error, ErrorKind, Report, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    Findings = 1,
    BadInput = 2,
    /// A region or account could not be listed, or the scan could not run at all.
    Incomplete = 3,
}

impl Code {
    /// An apply or rollback: 3 when the journal failed (the run's record is incomplete), 1 when
    /// a key was not fixed (or restored), else 0.
    pub fn for_outcome(journal_failed: bool, success: bool) -> Code {
        match (journal_failed, success) {
            (true, _) => Code::Incomplete,
            (false, true) => Code::Ok,
            (false, false) => Code::Findings,
        }
    }

    /// Errors about what the user gave us are 2; anything else left the report unmade: 3.
    pub fn for_error(err: &Error) -> Code {
        match err.kind() {
            ErrorKind::InvalidInput | ErrorKind::NotFound => Code::BadInput,
            _ => Code::Incomplete,
        }
    }

    pub fn for_report(report: &Report, fail_on: FailOn) -> Code {
        if !report.is_complete() {
            Code::Incomplete
        } else if fail_on.matches(report) {
            Code::Findings
        } else {
            Code::Ok
        }
    }

    /// An exceptions review: 3 when its report is incomplete, 1 when an expired exception still
    /// matches a failing key, else 0.
    pub fn for_exceptions(review: &ExceptionsReview) -> Code {
        if !review.complete {
            Code::Incomplete
        } else if review.summary.expired_failing {
            Code::Findings
        } else {
            Code::Ok
        }
    }
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Which findings make the command exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any `fail` finding.
    Fail,
    /// Any `fail` or `error` finding.
    Error,
    /// Never.
    None,
}

impl FailOn {
    fn matches(self, report: &Report) -> bool {
        let counts = &report.summary.by_status;
        match self {
            FailOn::Fail => counts.get(Status::Fail) > 0,
            FailOn::Error => counts.get(Status::Fail) + counts.get(Status::Error) > 0,
            FailOn::None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_rotation::{Policy, ReportScope, ScopeError};

    fn report(scope_errors: Vec<ScopeError>) -> Report {
        let mut key = kms_rotation::KeyRecord::from_arn(
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .unwrap();
        key.errors.push(kms_rotation::model::KeyError {
            operation: "DescribeKey".into(),
            code: "AccessDeniedException".into(),
            message: String::new(),
        });
        Report::evaluate(
            &[key],
            Policy::default(),
            ReportScope::default(),
            scope_errors,
            chrono::Utc::now(),
        )
    }

    #[test]
    fn an_incomplete_report_is_3_whatever_fail_on_says() {
        let incomplete = report(vec![ScopeError {
            account_id: None,
            region: Some("eu-west-1".into()),
            operation: "ListKeys".into(),
            code: "AccessDeniedException".into(),
            message: String::new(),
        }]);
        for fail_on in [FailOn::Fail, FailOn::Error, FailOn::None] {
            assert_eq!(Code::for_report(&incomplete, fail_on), Code::Incomplete);
        }
    }

    #[test]
    fn error_findings_alone_fail_only_with_fail_on_error() {
        let errors_only = report(vec![]);
        assert_eq!(Code::for_report(&errors_only, FailOn::Fail), Code::Ok);
        assert_eq!(
            Code::for_report(&errors_only, FailOn::Error),
            Code::Findings
        );
        assert_eq!(Code::for_report(&errors_only, FailOn::None), Code::Ok);
    }

    #[test]
    fn an_exceptions_review_is_3_incomplete_then_1_on_expired_failing_keys() {
        use kms_rotation::exceptions::{ExceptionsReview, ExceptionsSummary};
        let review = |complete, expired_failing| ExceptionsReview {
            reviewed_at: chrono::Utc::now(),
            report_generated_at: chrono::Utc::now(),
            within_days: 30,
            complete,
            summary: ExceptionsSummary {
                expired_failing,
                ..ExceptionsSummary::default()
            },
            exceptions: Vec::new(),
        };
        assert_eq!(Code::for_exceptions(&review(false, true)), Code::Incomplete);
        assert_eq!(
            Code::for_exceptions(&review(false, false)),
            Code::Incomplete
        );
        assert_eq!(Code::for_exceptions(&review(true, true)), Code::Findings);
        assert_eq!(Code::for_exceptions(&review(true, false)), Code::Ok);
    }

    #[test]
    fn input_errors_are_2_and_the_rest_3() {
        assert_eq!(Code::for_error(&Error::invalid_input("x")), Code::BadInput);
        assert_eq!(
            Code::for_error(&Error::new(ErrorKind::Throttled, "x")),
            Code::Incomplete
        );
    }
}
