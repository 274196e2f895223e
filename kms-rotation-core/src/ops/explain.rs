//! `explain`: what a reason code means, why it matters and how to fix it.

use serde::Deserialize;

use crate::explain::{self, Explanation, REASONS};
use crate::{Error, Result};

/// Options of [`explain`].
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ExplainOptions {
    /// A finding's reason code (`rotation_disabled`); none: every reason code.
    // Read as a string, so that an unknown code is refused with the list of known ones; the
    // schema (and so the bindings' types) names the codes.
    #[schemars(with = "Option<crate::Reason>")]
    pub reason: Option<String>,
}

/// The explanation of `options.reason`, or of every reason code in the rule's order.
pub fn explain(options: ExplainOptions) -> Result<Vec<Explanation>> {
    let Some(code) = options.reason else {
        return Ok(explain::explain_all());
    };
    let reason = REASONS
        .into_iter()
        .find(|r| r.as_str() == code.trim())
        .ok_or_else(|| {
            let known: Vec<&str> = REASONS.iter().map(|r| r.as_str()).collect();
            Error::invalid_input(format!(
                "`{code}` is not a reason code of a finding; expected one of: {}",
                known.join(", ")
            ))
            .with_field("reason")
        })?;
    Ok(vec![explain::explain(reason)])
}
