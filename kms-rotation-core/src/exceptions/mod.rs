//! The review of a report's exceptions: which still excuse keys, which lapsed while keys still
//! need them, which match no key any more (stale, to remove), and which cannot be told.
//!
//! The review is pure: a report, a window and `now` in, a [`ExceptionsReview`] out. Each key's
//! verdict is the rule's on the report's evidence as of `now`, so an exception that lapsed
//! after the scan counts as lapsed. It fails closed: an exception is `unused` only when every
//! key's match is known, the report is complete, and (for an ARN) the report covers the key's
//! account and region; otherwise a key not read, not listed or not scanned may still match it,
//! and its state is `unknown`.

mod render;

pub use render::ExceptionsFormat;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::finding::Status;
use crate::model::KeyArn;
use crate::policy::{Exception, ExceptionMatch};
use crate::wire::wire_names;
use crate::{KeyRecord, Report, ReportScope, rule};

/// Where an exception stands, most urgent first (the review's order).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ExceptionState {
    /// Past its expiry day and still matching keys: they are judged without it.
    Expired,
    /// Matching no key, and every key's match is known in a complete report: stale, to remove.
    Unused,
    /// Matching no key known to match, but some key's match is unknown (its tags or aliases
    /// were not read) or the report is incomplete: it may still match one. Never `unused`.
    Unknown,
    /// Active and matching keys, and its expiry day is within the review's window.
    Expiring,
    /// Active and matching keys, expiring after the window.
    Active,
}
wire_names!(ExceptionState, "exception state");

/// One exception of the report's policy, reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReviewedException {
    /// Which key it excuses (`match` on the wire), as in the policy.
    #[serde(rename = "match")]
    pub matcher: ExceptionMatch,
    /// Who accepted the risk.
    pub owner: String,
    /// Why the key does not rotate.
    pub reason: String,
    /// The exception's ticket, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day (UTC) it excuses a key.
    pub expires: NaiveDate,
    /// Where it stands.
    pub state: ExceptionState,
    /// Days from the review's day (UTC) to the expiry day: 0 on the expiry day (still active),
    /// negative once expired.
    pub days_left: i64,
    /// The ARNs of the keys it matches, in report order.
    pub matched_keys: Vec<String>,
    /// Of `matched_keys`, the keys that fail the rule before exceptions (`fail` or `exempt` as
    /// of the review): the keys the exception is there for.
    pub failing_keys: Vec<String>,
    /// The ARNs of the keys it may or may not match: it matches on tags or aliases that were
    /// not read for them.
    pub unknown_keys: Vec<String>,
}

/// Exceptions counted by state.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ExceptionsSummary {
    /// Every exception of the policy.
    pub total: usize,
    /// Exceptions `expired`.
    pub expired: usize,
    /// Exceptions `unused`.
    pub unused: usize,
    /// Exceptions `unknown`.
    pub unknown: usize,
    /// Exceptions `expiring`.
    pub expiring: usize,
    /// Exceptions `active`.
    pub active: usize,
    /// True when an expired exception still matches a key that is `fail` as of the review: a
    /// lapsed risk acceptance nobody renewed or fixed (the CLI exits 1).
    pub expired_failing: bool,
}

impl ExceptionsSummary {
    fn add(&mut self, state: ExceptionState) {
        self.total += 1;
        *match state {
            ExceptionState::Expired => &mut self.expired,
            ExceptionState::Unused => &mut self.unused,
            ExceptionState::Unknown => &mut self.unknown,
            ExceptionState::Expiring => &mut self.expiring,
            ExceptionState::Active => &mut self.active,
        } += 1;
    }

    /// The count of `state`.
    pub fn get(&self, state: ExceptionState) -> usize {
        match state {
            ExceptionState::Expired => self.expired,
            ExceptionState::Unused => self.unused,
            ExceptionState::Unknown => self.unknown,
            ExceptionState::Expiring => self.expiring,
            ExceptionState::Active => self.active,
        }
    }
}

/// The review of every exception of a report's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExceptionsReview {
    /// The time of the review (UTC): days are counted from its day.
    pub reviewed_at: DateTime<Utc>,
    /// The report's `generated_at`: when its evidence was read.
    pub report_generated_at: DateTime<Utc>,
    /// Exceptions active and expiring within this many days are `expiring`.
    pub within_days: u32,
    /// False when the report is incomplete (a region or account was not listed): an exception
    /// matching no listed key may match one that was not, so none is `unused`.
    pub complete: bool,
    /// Counts per state, and whether an expired exception still matches a failing key.
    pub summary: ExceptionsSummary,
    /// Every exception, most urgent state first, then by expiry day, then by owner (then in
    /// the policy's order).
    pub exceptions: Vec<ReviewedException>,
}

/// A key as the review sees it: its evidence, and the rule's verdict as of the review.
struct Judged {
    record: KeyRecord,
    status: Status,
    would_fail: bool,
}

/// Reviews the exceptions of `report`'s policy as of `now`; those active and expiring within
/// `within_days` days are `expiring`.
pub fn review(report: &Report, within_days: u32, now: DateTime<Utc>) -> ExceptionsReview {
    let policy = &report.policy;
    let keys: Vec<Judged> = report
        .findings
        .iter()
        .map(|finding| {
            let record = finding.to_record();
            Judged {
                status: rule::evaluate(&record, policy, now).status,
                would_fail: rule::would_fail(&record, policy, now),
                record,
            }
        })
        .collect();
    let complete = report.is_complete();
    let mut summary = ExceptionsSummary::default();
    let mut exceptions: Vec<ReviewedException> = policy
        .exceptions
        .iter()
        .map(|exception| {
            // A key outside what the report covers may exist unseen: not "unused".
            let covered = complete && covers(&report.scope, &exception.matcher);
            let (reviewed, lapsed_on_failing) =
                review_one(exception, &keys, within_days, covered, now);
            summary.add(reviewed.state);
            summary.expired_failing |= lapsed_on_failing;
            reviewed
        })
        .collect();
    // A stable sort: ties keep the policy's order.
    exceptions.sort_by(|a, b| (a.state, a.expires, &a.owner).cmp(&(b.state, b.expires, &b.owner)));
    ExceptionsReview {
        reviewed_at: now,
        report_generated_at: report.generated_at,
        within_days,
        complete,
        summary,
        exceptions,
    }
}

/// Whether the report's accounts and regions include the key an ARN matcher names (an empty list
/// covers all). Other matchers name no place: any covered key could have matched.
fn covers(scope: &ReportScope, matcher: &ExceptionMatch) -> bool {
    let ExceptionMatch::Arn(arn) = matcher else {
        return true;
    };
    let Ok(arn) = KeyArn::parse(arn) else {
        return true;
    };
    scope.covers(arn.account_id, arn.region)
}

/// One exception reviewed, and whether it is expired and still matches a `fail` key.
fn review_one(
    exception: &Exception,
    keys: &[Judged],
    within_days: u32,
    covered: bool,
    now: DateTime<Utc>,
) -> (ReviewedException, bool) {
    let mut matched_keys = Vec::new();
    let mut failing_keys = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut matches_a_fail = false;
    for key in keys {
        match exception.matcher.matches(&key.record) {
            Some(true) => {
                matched_keys.push(key.record.arn.clone());
                if key.would_fail {
                    failing_keys.push(key.record.arn.clone());
                }
                matches_a_fail |= key.status == Status::Fail;
            }
            None => unknown_keys.push(key.record.arn.clone()),
            Some(false) => {}
        }
    }
    let days_left = (exception.expires - now.date_naive()).num_days();
    let state = if !matched_keys.is_empty() {
        if !exception.is_active(now) {
            ExceptionState::Expired
        } else if days_left <= i64::from(within_days) {
            ExceptionState::Expiring
        } else {
            ExceptionState::Active
        }
    } else if !unknown_keys.is_empty() || !covered {
        ExceptionState::Unknown
    } else {
        ExceptionState::Unused
    };
    let reviewed = ReviewedException {
        matcher: exception.matcher.clone(),
        owner: exception.owner.clone(),
        reason: exception.reason.clone(),
        ticket: exception.ticket.clone(),
        expires: exception.expires,
        state,
        days_left,
        matched_keys,
        failing_keys,
        unknown_keys,
    };
    (reviewed, state == ExceptionState::Expired && matches_a_fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyManager, KeySpec, KeyState, Origin, Rotation, ScopeError};
    use crate::{Policy, ReportScope};

    const FAILING: &str =
        "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    const PASSING: &str =
        "arn:aws:kms:eu-west-1:111122223333:key/00000002-0000-4000-8000-000000000002";
    const UNTAGGED: &str =
        "arn:aws:kms:eu-west-1:111122223333:key/00000003-0000-4000-8000-000000000003";

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    /// A customer key, rotation on or off, tags and aliases read (`team=a`, no alias) unless
    /// `tags` is None.
    fn key(arn: &str, rotating: bool, tags: Option<&[(&str, &str)]>) -> KeyRecord {
        KeyRecord {
            key_manager: Some(KeyManager::Customer),
            key_spec: Some(KeySpec::SymmetricDefault),
            origin: Some(Origin::AwsKms),
            key_state: Some(KeyState::Enabled),
            aliases: Some(vec![]),
            tags: tags.map(|tags| {
                (tags.iter())
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            }),
            rotation: Some(Rotation {
                enabled: rotating,
                period_days: rotating.then_some(365),
                next_rotation_date: None,
                on_demand_rotation_start_date: None,
                last_rotation: None,
            }),
            ..KeyRecord::from_arn(arn).unwrap()
        }
    }

    fn exception(owner: &str, matcher: ExceptionMatch, expires: &str) -> Exception {
        Exception {
            matcher,
            owner: owner.into(),
            reason: "accepted".into(),
            ticket: Some(format!("T-{owner}")),
            expires: expires.parse().unwrap(),
        }
    }

    fn arn(arn: &str) -> ExceptionMatch {
        ExceptionMatch::Arn(arn.into())
    }

    fn tag(value: &str) -> ExceptionMatch {
        ExceptionMatch::Tag {
            key: "team".into(),
            value: value.into(),
        }
    }

    fn report(
        keys: &[KeyRecord],
        exceptions: Vec<Exception>,
        scope_errors: Vec<ScopeError>,
    ) -> Report {
        let policy = Policy {
            exceptions,
            ..Policy::default()
        };
        Report::evaluate(keys, policy, ReportScope::default(), scope_errors, now())
    }

    fn fleet() -> Vec<KeyRecord> {
        vec![
            key(FAILING, false, Some(&[("team", "a")])),
            key(PASSING, true, Some(&[("team", "b")])),
        ]
    }

    /// The one exception of `owner` in the review.
    fn of<'a>(review: &'a ExceptionsReview, owner: &str) -> &'a ReviewedException {
        let mut found = review.exceptions.iter().filter(|e| e.owner == owner);
        let one = found.next().expect("reviewed");
        assert!(found.next().is_none());
        one
    }

    #[test]
    fn an_exception_expiring_after_the_window_is_active() {
        let review = review(
            &report(
                &fleet(),
                vec![exception("o", arn(FAILING), "2026-07-02")],
                vec![],
            ),
            30,
            now(),
        );
        let e = of(&review, "o");
        assert_eq!(e.state, ExceptionState::Active);
        assert_eq!(e.days_left, 31);
        assert_eq!(e.matched_keys, [FAILING]);
        assert_eq!(e.failing_keys, [FAILING]);
        assert!(e.unknown_keys.is_empty());
        assert_eq!(review.summary.active, 1);
        assert!(!review.summary.expired_failing);
    }

    #[test]
    fn expiring_counts_the_last_day_of_the_window_and_the_expiry_day() {
        let review = review(
            &report(
                &fleet(),
                vec![
                    exception("boundary", arn(FAILING), "2026-07-01"),
                    exception("today", tag("a"), "2026-06-01"),
                    exception("after", tag("a"), "2026-07-02"),
                ],
                vec![],
            ),
            30,
            now(),
        );
        assert_eq!(of(&review, "boundary").days_left, 30);
        assert_eq!(of(&review, "boundary").state, ExceptionState::Expiring);
        assert_eq!(of(&review, "today").days_left, 0);
        assert_eq!(of(&review, "today").state, ExceptionState::Expiring);
        assert_eq!(of(&review, "after").state, ExceptionState::Active);
        assert_eq!(review.summary.expiring, 2);
    }

    #[test]
    fn an_expired_exception_on_a_failing_key_is_expired_failing() {
        let review = review(
            &report(
                &fleet(),
                vec![exception("o", tag("a"), "2026-05-31")],
                vec![],
            ),
            30,
            now(),
        );
        let e = of(&review, "o");
        assert_eq!(e.state, ExceptionState::Expired);
        assert_eq!(e.days_left, -1);
        assert_eq!(e.failing_keys, [FAILING]);
        assert!(review.summary.expired_failing);
    }

    #[test]
    fn an_expired_exception_matching_only_passing_keys_is_expired_but_not_failing() {
        let review = review(
            &report(
                &fleet(),
                vec![exception("o", tag("b"), "2026-01-01")],
                vec![],
            ),
            30,
            now(),
        );
        let e = of(&review, "o");
        assert_eq!(e.state, ExceptionState::Expired);
        assert_eq!(e.matched_keys, [PASSING]);
        assert!(e.failing_keys.is_empty());
        assert!(!review.summary.expired_failing);
    }

    #[test]
    fn a_key_another_active_exception_exempts_is_not_expired_failing() {
        let review = review(
            &report(
                &fleet(),
                vec![
                    exception("lapsed", arn(FAILING), "2026-01-01"),
                    exception("renewed", tag("a"), "2027-01-01"),
                ],
                vec![],
            ),
            30,
            now(),
        );
        assert_eq!(of(&review, "lapsed").state, ExceptionState::Expired);
        assert_eq!(of(&review, "lapsed").failing_keys, [FAILING]);
        assert!(!review.summary.expired_failing);
    }

    #[test]
    fn an_exception_that_lapsed_after_the_scan_is_judged_as_of_the_review() {
        let report = report(
            &fleet(),
            vec![exception("o", arn(FAILING), "2026-06-10")],
            vec![],
        );
        assert_eq!(report.findings[0].status, Status::Exempt);
        let later = "2026-06-11T00:00:00Z".parse().unwrap();
        let review = review(&report, 30, later);
        assert_eq!(of(&review, "o").state, ExceptionState::Expired);
        assert!(review.summary.expired_failing);
        assert_eq!(review.report_generated_at, now());
        assert_eq!(review.reviewed_at, later);
    }

    #[test]
    fn an_exception_matching_no_key_of_a_complete_decidable_report_is_unused() {
        let review = review(
            &report(
                &fleet(),
                vec![
                    exception("gone", arn(UNTAGGED), "2027-01-01"),
                    exception("nobody", tag("c"), "2020-01-01"),
                ],
                vec![],
            ),
            30,
            now(),
        );
        for owner in ["gone", "nobody"] {
            let e = of(&review, owner);
            assert_eq!(e.state, ExceptionState::Unused, "{owner}");
            assert!(e.matched_keys.is_empty() && e.unknown_keys.is_empty());
        }
        assert_eq!(review.summary.unused, 2);
    }

    #[test]
    fn an_arn_outside_the_reports_accounts_or_regions_is_unknown_never_unused() {
        let policy = Policy {
            exceptions: vec![
                exception(
                    "elsewhere",
                    arn("arn:aws:kms:ap-south-2:111122223333:key/x"),
                    "2027-01-01",
                ),
                exception(
                    "other",
                    arn("arn:aws:kms:eu-west-1:999999999999:key/x"),
                    "2027-01-01",
                ),
                exception(
                    "here",
                    arn("arn:aws:kms:eu-west-1:111122223333:key/x"),
                    "2027-01-01",
                ),
            ],
            ..Policy::default()
        };
        let scope = ReportScope {
            source: "aws".into(),
            accounts: vec!["111122223333".into()],
            regions: vec!["eu-west-1".into()],
            shard: None,
        };
        let report = Report::evaluate(&fleet(), policy, scope, vec![], now());
        let review = review(&report, 30, now());
        assert_eq!(of(&review, "elsewhere").state, ExceptionState::Unknown);
        assert_eq!(of(&review, "other").state, ExceptionState::Unknown);
        assert_eq!(of(&review, "here").state, ExceptionState::Unused);
    }

    #[test]
    fn an_exception_on_tags_not_read_is_unknown_never_unused() {
        let mut keys = fleet();
        keys.push(key(UNTAGGED, true, None));
        let review = review(
            &report(&keys, vec![exception("o", tag("c"), "2027-01-01")], vec![]),
            30,
            now(),
        );
        let e = of(&review, "o");
        assert_eq!(e.state, ExceptionState::Unknown);
        assert_eq!(e.unknown_keys, [UNTAGGED]);
        assert_eq!(review.summary.unknown, 1);
        assert_eq!(review.summary.unused, 0);
    }

    #[test]
    fn an_exception_matching_nothing_in_an_incomplete_report_is_unknown() {
        let scope_error = ScopeError {
            account_id: Some("111122223333".into()),
            region: Some("ap-south-2".into()),
            operation: "ListKeys".into(),
            code: "AccessDeniedException".into(),
            message: String::new(),
        };
        let review = review(
            &report(
                &fleet(),
                vec![
                    exception("elsewhere", arn(UNTAGGED), "2027-01-01"),
                    exception("here", arn(FAILING), "2027-01-01"),
                ],
                vec![scope_error],
            ),
            30,
            now(),
        );
        assert!(!review.complete);
        assert_eq!(of(&review, "elsewhere").state, ExceptionState::Unknown);
        assert!(of(&review, "elsewhere").unknown_keys.is_empty());
        assert_eq!(of(&review, "here").state, ExceptionState::Active);
    }

    #[test]
    fn the_most_urgent_state_comes_first_then_expiry_then_owner() {
        let review = review(
            &report(
                &fleet(),
                vec![
                    exception("z-active", arn(FAILING), "2027-01-01"),
                    exception("b-expiring", arn(FAILING), "2026-06-20"),
                    exception("a-expiring", arn(FAILING), "2026-06-20"),
                    exception("unused", arn(UNTAGGED), "2027-01-01"),
                    exception("expired-late", arn(PASSING), "2026-05-01"),
                    exception("expired-early", arn(FAILING), "2026-01-01"),
                ],
                vec![],
            ),
            30,
            now(),
        );
        let owners: Vec<&str> = review.exceptions.iter().map(|e| e.owner.as_str()).collect();
        assert_eq!(
            owners,
            [
                "expired-early",
                "expired-late",
                "unused",
                "a-expiring",
                "b-expiring",
                "z-active"
            ]
        );
        assert_eq!(review.summary.total, 6);
    }

    #[test]
    fn the_renderings_name_every_exception_and_what_needs_doing() {
        let review = review(
            &report(
                &fleet(),
                vec![exception("o|wner", tag("a"), "2026-05-31")],
                vec![],
            ),
            30,
            now(),
        );
        let table = review.render_to_string(ExceptionsFormat::Table).unwrap();
        assert!(
            table.starts_with("1 exception(s): 1 expired, 0 unused"),
            "{table}"
        );
        assert!(table.contains("renew it or fix the key"), "{table}");
        assert!(table.contains("expired  2026-05-31  -1"), "{table}");
        assert!(
            table.contains(&format!("o|wner (T-o|wner): {FAILING}")),
            "{table}"
        );
        let markdown = review.render_to_string(ExceptionsFormat::Markdown).unwrap();
        assert!(
            markdown.starts_with("# KMS key rotation exceptions: EXPIRED"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| expired | 2026-05-31 | -1 | o\\|wner | tag team=a |"),
            "{markdown}"
        );
        let json = review.render_to_string(ExceptionsFormat::Json).unwrap();
        let back: ExceptionsReview = serde_json::from_str(&json).unwrap();
        assert_eq!(back, review);
    }
}
