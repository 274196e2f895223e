//! `kms-rotation iam-policy --read-only | --remediate`: the least-privilege IAM policy the core
//! generates from the calls the code makes. The document goes to stdout, ready for
//! `aws iam create-policy --policy-document file://policy.json`; what each action is for, and
//! which are optional, goes to stderr.

use clap::{ArgGroup, Args};
use kms_rotation::ops::{self, IamPolicyOptions};
use kms_rotation::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::completions::write_stdout;
use crate::exit::Code;
use crate::options::from_flags;
use crate::output::note;

#[derive(Debug, Args, Serialize)]
#[command(group(ArgGroup::new("mode").required(true).args(["read_only", "remediate"])))]
pub struct IamPolicyArgs {
    /// The policy for scan (and plan when it scans): reads only.
    #[arg(long)]
    #[serde(skip)]
    read_only: bool,

    /// The policy for apply and rollback.
    #[arg(long)]
    #[serde(skip)]
    remediate: bool,

    /// A role that --role-arn will assume (repeatable): sts:AssumeRole is granted on it.
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,

    /// Print the policy document only, without its description on stderr.
    #[arg(long, short)]
    #[serde(skip)]
    quiet: bool,
}

pub fn run(args: IamPolicyArgs) -> Result<Code> {
    let mode = if args.remediate {
        "remediate"
    } else {
        "read_only"
    };
    let options: IamPolicyOptions = from_flags(&args, |map| {
        map.insert("mode".into(), mode.into());
    })?;
    let policy = ops::iam_policy(options)?;
    let mut document = serde_json::to_vec_pretty(&policy.document).map_err(|e| {
        Error::new(
            ErrorKind::Unexpected,
            format!("cannot print the policy: {e}"),
        )
    })?;
    document.push(b'\n');
    write_stdout(&document)?;
    if !args.quiet {
        let flag = if args.remediate {
            "--remediate"
        } else {
            "--read-only"
        };
        note(format_args!(
            "# kms-rotation iam-policy {flag}: every action it can call, and why"
        ));
        for p in &policy.permissions {
            let need = if p.optional { "optional" } else { "required" };
            note(format_args!(
                "# {} ({need}, statement {}): {}",
                p.action, p.sid, p.why
            ));
        }
        for line in &policy.notes {
            note(format_args!("# {line}"));
        }
    }
    Ok(Code::Ok)
}
