//! JSON Schemas of the files users write (policy, exceptions, inventory), of what the tool
//! writes (reports, plans, journal lines, outcomes, explanations, IAM policies) and of every
//! operation's options. They are derived from the Rust types, so they cannot drift from what the
//! code reads and writes; the copies in `schemas/` (for editors and other tools) and the types
//! the bindings declare are generated from them and checked against them by the tests.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::exceptions::ExceptionsReview;
use crate::explain::Explanation;
use crate::remediate::{ApplyOutcome, JournalEntry, Plan, RollbackOutcome};
use crate::{Inventory, Policy, Report, ops, policy::ExceptionsFile};

/// Which way a schema describes its type: as read (defaults allowed to be left out, aliases
/// and conversions as accepted) or as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// As the tool reads it: fields with defaults may be left out, aliases and input conversions
    /// are accepted (files users write, options).
    Read,
    /// As the tool writes it (reports, plans, journal lines, outcomes): what a reader of its
    /// output can rely on.
    Write,
}

/// One schema: its file name in `schemas/`, and which way it describes its type.
#[derive(Debug, Clone)]
pub struct Named {
    /// The file name in `schemas/`, without `.schema.json`.
    pub name: &'static str,
    /// Which way it describes its type.
    pub contract: Contract,
    /// The JSON Schema (draft 2020-12).
    pub schema: Schema,
}

fn schema<T: JsonSchema>(name: &'static str, contract: Contract) -> Named {
    let settings = match contract {
        Contract::Read => SchemaSettings::draft2020_12().for_deserialize(),
        Contract::Write => SchemaSettings::draft2020_12().for_serialize(),
    };
    Named {
        name,
        contract,
        schema: settings.into_generator().into_root_schema_for::<T>(),
    }
}

/// Every schema, in a stable order.
pub fn all() -> Vec<Named> {
    use Contract::{Read, Write};
    vec![
        schema::<Policy>("policy", Read),
        schema::<ExceptionsFile>("exceptions", Read),
        schema::<Inventory>("inventory", Read),
        schema::<Report>("report", Write),
        schema::<Plan>("plan", Write),
        schema::<JournalEntry>("journal-entry", Write),
        schema::<ApplyOutcome>("apply-outcome", Write),
        schema::<RollbackOutcome>("rollback-outcome", Write),
        schema::<ops::ScanOptions>("scan-options", Read),
        schema::<ops::EvaluateOptions>("evaluate-options", Read),
        schema::<ops::PlanOptions>("plan-options", Read),
        schema::<ops::ApplyOptions>("apply-options", Read),
        schema::<ops::RollbackOptions>("rollback-options", Read),
        schema::<ops::RenderOptions>("render-options", Read),
        schema::<ops::ExplainOptions>("explain-options", Read),
        schema::<Explanation>("explanation", Write),
        schema::<ops::ExceptionsOptions>("exceptions-options", Read),
        schema::<ExceptionsReview>("exceptions-review", Write),
        schema::<ops::DiffOptions>("diff-options", Read),
        schema::<crate::diff::ReportDiff>("report-diff", Write),
        schema::<ops::MergeOptions>("merge-options", Read),
        schema::<ops::BaselineOptions>("baseline-options", Read),
        schema::<ops::EventOptions>("event-options", Read),
        schema::<ops::EventOutcome>("event-outcome", Write),
        #[cfg(feature = "aws")]
        schema::<ops::IamPolicyOptions>("iam-policy-options", Read),
        #[cfg(feature = "aws")]
        schema::<crate::aws::permissions::IamPolicy>("iam-policy", Write),
        #[cfg(feature = "aws")]
        schema::<ops::SecurityHubOptions>("security-hub-options", Read),
        #[cfg(feature = "aws")]
        schema::<crate::aws::security_hub::SecurityHubOutcome>("security-hub-outcome", Write),
    ]
}
