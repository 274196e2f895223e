//! The plan's order: the control's rollout fixes "internet-exposed and production assets" first.
//! A key ranks at the first priority rule it matches; the default is public keys, then keys
//! other accounts may use, then production-tagged keys, then the rest.
//!
//! A rule that needs a fact the finding lacks (exposure or tags not read, or unreadable) ranks
//! the key as if it matched: an unknown may be the worse case, so it is never left for last. The
//! action's `priority_reason` says so.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::planner::TagMatch;
use crate::exposure::{EvidenceSource, ExposureLevel};
use crate::finding::Finding;
use crate::{Error, Result};

/// Tag keys that name an environment, compared without case.
const ENVIRONMENT_TAGS: &[&str] = &["environment", "env", "stage"];
/// Environment values that mean production, compared without case.
const PRODUCTION_VALUES: &[&str] = &["prod", "production"];

/// One rule of the plan's order, as written on every surface: `exposure` (`public`, then
/// `cross_account`), `public`, `cross_account`, `production`, or `tag:KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub enum Priority {
    /// `exposure`: public keys, then cross-account keys (two ranks).
    Exposure,
    /// `public`: a statement lets anyone use the key (or its exposure is unknown).
    Public,
    /// `cross_account`: other accounts may use the key (public keys too).
    CrossAccount,
    /// `production`: a tag `environment`, `env` or `stage` set to `prod` or `production` (keys
    /// and values in any case).
    Production,
    /// `tag:KEY=VALUE`: that tag, exactly.
    Tag(TagMatch),
}

impl Priority {
    /// The default order: public, cross-account, production, the rest.
    pub fn defaults() -> Vec<Priority> {
        vec![Priority::Exposure, Priority::Production]
    }

    /// The ranks this rule takes: `exposure` is `public` then `cross_account`.
    fn ranks(&self) -> Vec<Rule<'_>> {
        match self {
            Priority::Exposure => vec![Rule::Public, Rule::CrossAccount],
            Priority::Public => vec![Rule::Public],
            Priority::CrossAccount => vec![Rule::CrossAccount],
            Priority::Production => vec![Rule::Production],
            Priority::Tag(tag) => vec![Rule::Tag(tag)],
        }
    }
}

impl FromStr for Priority {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "exposure" => Ok(Priority::Exposure),
            "public" => Ok(Priority::Public),
            "cross_account" | "cross-account" => Ok(Priority::CrossAccount),
            "production" => Ok(Priority::Production),
            other => match other.strip_prefix("tag:") {
                Some(tag) => Ok(Priority::Tag(tag.parse()?)),
                None => Err(Error::invalid_input(format!(
                    "`{other}` is not a priority: expected exposure, public, cross_account, \
                     production or tag:KEY=VALUE"
                ))),
            },
        }
    }
}

impl TryFrom<String> for Priority {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Priority> for String {
    fn from(priority: Priority) -> String {
        priority.to_string()
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Priority::Exposure => f.write_str("exposure"),
            Priority::Public => f.write_str("public"),
            Priority::CrossAccount => f.write_str("cross_account"),
            Priority::Production => f.write_str("production"),
            Priority::Tag(tag) => write!(f, "tag:{}={}", tag.key, tag.value),
        }
    }
}

/// One rank of the order.
#[derive(Debug, Clone, Copy)]
enum Rule<'a> {
    Public,
    CrossAccount,
    Production,
    Tag(&'a TagMatch),
}

/// A rule's answer for one finding: no, yes (and why), or unknown (and what is missing).
enum Answer {
    No,
    Yes(String),
    Unknown(String),
}

impl Rule<'_> {
    fn answer(self, finding: &Finding) -> Answer {
        match self {
            Rule::Public | Rule::CrossAccount => exposure_answer(self, finding),
            Rule::Production => match &finding.tags {
                None => Answer::Unknown("tags not read".to_owned()),
                Some(tags) => tags
                    .iter()
                    .find(|(k, v)| {
                        ENVIRONMENT_TAGS.iter().any(|t| k.eq_ignore_ascii_case(t))
                            && PRODUCTION_VALUES.iter().any(|p| v.eq_ignore_ascii_case(p))
                    })
                    .map_or(Answer::No, |(k, v)| {
                        Answer::Yes(format!("production: tag {k}={v}"))
                    }),
            },
            Rule::Tag(tag) => match &finding.tags {
                None => Answer::Unknown("tags not read".to_owned()),
                Some(tags) if tags.get(&tag.key) == Some(tag.value.as_str()) => {
                    Answer::Yes(format!("tag {}={}", tag.key, tag.value))
                }
                Some(_) => Answer::No,
            },
        }
    }

    fn name(self) -> String {
        match self {
            Rule::Public => "public".to_owned(),
            Rule::CrossAccount => "cross_account".to_owned(),
            Rule::Production => "production".to_owned(),
            Rule::Tag(tag) => format!("tag:{}={}", tag.key, tag.value),
        }
    }
}

fn exposure_answer(rule: Rule<'_>, finding: &Finding) -> Answer {
    let Some(exposure) = &finding.exposure else {
        return Answer::Unknown("exposure not read".to_owned());
    };
    let wanted = match rule {
        Rule::Public => ExposureLevel::Public,
        _ => ExposureLevel::CrossAccount,
    };
    match exposure.level {
        ExposureLevel::Unknown => {
            let why = exposure
                .error
                .as_ref()
                .map_or_else(String::new, |e| format!(" ({} {})", e.operation, e.code));
            Answer::Unknown(format!("exposure unknown{why}"))
        }
        level if level <= wanted => {
            let evidence = exposure.evidence.iter().find(|e| e.level <= wanted);
            Answer::Yes(match evidence {
                Some(e) => {
                    let place = match e.source {
                        EvidenceSource::KeyPolicy => "statement",
                        EvidenceSource::Grant => "grant",
                    };
                    format!("{level}: {place} `{}` {}", e.statement, e.detail)
                }
                None => level.to_string(),
            })
        }
        _ => Answer::No,
    }
}

/// The ranks of a plan's priorities, in order (`exposure` takes two): built once per plan.
pub(super) struct Order<'a>(Vec<Rule<'a>>);

impl<'a> Order<'a> {
    pub(super) fn new(priorities: &'a [Priority]) -> Self {
        Order(priorities.iter().flat_map(Priority::ranks).collect())
    }

    /// A finding's rank (1-based; one past the last rule when none matches) and why.
    pub(super) fn rank(&self, finding: &Finding) -> (usize, String) {
        for (i, rule) in self.0.iter().enumerate() {
            match rule.answer(finding) {
                Answer::No => {}
                Answer::Yes(why) => return (i + 1, why),
                Answer::Unknown(missing) => {
                    return (i + 1, format!("{missing}: ranked as if {}", rule.name()));
                }
            }
        }
        self.unranked()
    }

    /// The rank of a key no rule matches: one past the last.
    pub(super) fn unranked(&self) -> (usize, String) {
        (self.0.len() + 1, "no priority rule matches".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::{Exposure, ExposureEvidence};
    use crate::model::KeyError;

    fn finding(exposure: Option<Exposure>, tags: Option<&[(&str, &str)]>) -> Finding {
        let mut record =
            crate::KeyRecord::from_arn("arn:aws:kms:eu-west-1:111111111111:key/k").unwrap();
        record.exposure = exposure.map(Box::new);
        record.tags = tags.map(|t| {
            t.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        });
        crate::rule::evaluate(&record, &crate::Policy::default(), chrono::Utc::now())
    }

    fn exposed(level: ExposureLevel) -> Option<Exposure> {
        Some(Exposure {
            level,
            evidence: vec![ExposureEvidence {
                level,
                source: EvidenceSource::KeyPolicy,
                statement: "Open".to_owned(),
                principal: "*".to_owned(),
                detail: "allows any principal".to_owned(),
            }],
            error: None,
        })
    }

    fn rank(finding: &Finding, priorities: &[Priority]) -> (usize, String) {
        Order::new(priorities).rank(finding)
    }

    fn account() -> Option<Exposure> {
        Some(Exposure {
            level: ExposureLevel::Account,
            evidence: Vec::new(),
            error: None,
        })
    }

    #[test]
    fn the_default_order_is_public_cross_account_production_rest() {
        let defaults = Priority::defaults();
        let none: &[(&str, &str)] = &[];
        let cases = [
            (finding(exposed(ExposureLevel::Public), Some(none)), 1),
            (finding(exposed(ExposureLevel::CrossAccount), Some(none)), 2),
            (finding(account(), Some(&[("Environment", "PROD")])), 3),
            (finding(account(), Some(&[("env", "production")])), 3),
            (finding(account(), Some(&[("environment", "staging")])), 4),
        ];
        for (finding, expected) in cases {
            assert_eq!(rank(&finding, &defaults).0, expected, "{finding:?}");
        }
        assert_eq!(Order::new(&defaults).0.len(), 3);
    }

    #[test]
    fn the_reason_names_the_evidence() {
        let (_, why) = rank(
            &finding(exposed(ExposureLevel::Public), Some(&[])),
            &Priority::defaults(),
        );
        assert_eq!(why, "public: statement `Open` allows any principal");
        let (_, why) = rank(
            &finding(account(), Some(&[("stage", "prod")])),
            &Priority::defaults(),
        );
        assert_eq!(why, "production: tag stage=prod");
    }

    #[test]
    fn unknown_facts_rank_as_if_they_matched() {
        let unknown = Some(Exposure::unknown(KeyError {
            operation: "GetKeyPolicy".to_owned(),
            code: "AccessDeniedException".to_owned(),
            message: String::new(),
        }));
        let (rank_of, why) = rank(&finding(unknown, Some(&[])), &Priority::defaults());
        assert_eq!(rank_of, 1);
        assert_eq!(
            why,
            "exposure unknown (GetKeyPolicy AccessDeniedException): ranked as if public"
        );
        let (rank_of, why) = rank(&finding(None, Some(&[])), &Priority::defaults());
        assert_eq!(
            (rank_of, why.as_str()),
            (1, "exposure not read: ranked as if public")
        );
        let tag = vec![Priority::Tag(TagMatch::new("team", "pay"))];
        let (rank_of, why) = rank(&finding(account(), None), &tag);
        assert_eq!(
            (rank_of, why.as_str()),
            (1, "tags not read: ranked as if tag:team=pay")
        );
    }

    #[test]
    fn cross_account_includes_public_keys() {
        let rules = [Priority::CrossAccount];
        assert_eq!(
            rank(&finding(exposed(ExposureLevel::Public), None), &rules).0,
            1
        );
        assert_eq!(rank(&finding(account(), None), &rules).0, 2);
    }

    #[test]
    fn priorities_parse_and_print_the_same() {
        for text in [
            "exposure",
            "public",
            "cross_account",
            "production",
            "tag:env=prod",
        ] {
            let priority: Priority = text.parse().unwrap();
            assert_eq!(priority.to_string(), text);
        }
        assert_eq!(
            "cross-account".parse::<Priority>().unwrap(),
            Priority::CrossAccount
        );
        for bad in ["", "prod", "tag:", "tag:=x", "environment=prod"] {
            assert!(bad.parse::<Priority>().is_err(), "{bad}");
        }
    }
}
