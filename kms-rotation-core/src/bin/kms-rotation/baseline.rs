//! `kms-rotation baseline`: the organisation baseline the core generates from the policy, to
//! stdout or a file.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, BaselineOptions};
use serde::Serialize;

use crate::exit::Code;
use crate::options::from_flags;
use crate::output;

#[derive(Debug, Args, Serialize)]
pub struct BaselineArgs {
    /// cloudformation (the Config rule, its remediation and role, the EventBridge rule for the
    /// event handler), conformance-pack (the rule and remediation), or terraform (a key that
    /// passes, at the policy's period).
    #[arg(long, value_name = "FORMAT",
          value_parser = ["cloudformation", "conformance-pack", "terraform"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,

    /// Policy file, JSON or YAML, whose target rotation period the baseline uses (default: the
    /// rule's defaults).
    #[arg(long = "policy", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<PathBuf>,

    /// Write the document to FILE (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    #[serde(skip)]
    output: Option<PathBuf>,
}

pub fn run(args: BaselineArgs) -> Result<Code> {
    let options: BaselineOptions = from_flags(&args, |_| {})?;
    let text = ops::baseline(options)?;
    output::write_text(text.as_bytes(), args.output.as_deref())?;
    Ok(Code::Ok)
}
