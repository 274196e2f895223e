//! Known AWS region names. A typo such as `us-esat-1` would otherwise scan nothing and pass, so
//! region names are checked before any call (unless the caller allows unknown ones: new regions,
//! emulators).

use crate::{Error, Result};

/// Regions of the `aws`, `aws-cn`, `aws-us-gov` and `aws-eusc` partitions known to this release.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "eusc-de-east-1",
];

/// Whether `region` is one of the AWS regions this release knows.
pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// The partition of `region`, for ARNs built from a region (`aws` for any region not of another
/// partition's prefix, emulators' included).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// Checks that `region` has the shape of a region name: lowercase letters, digits and dashes. It
/// becomes part of a host name, so anything else is refused before it reaches a URL. (Whether the
/// region exists is [`check_known`]'s question: new regions and emulators must remain possible.)
pub fn check_name(region: &str) -> Result<()> {
    let valid = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "`{region}` is not a region name (like eu-west-1)"
        )))
    }
}

/// Checks every name; the error names the first unknown one (`regions[i]`).
pub fn check_known(regions: &[String]) -> Result<()> {
    match regions.iter().enumerate().find(|(_, r)| !is_known(r)) {
        None => Ok(()),
        Some((i, unknown)) => Err(Error::invalid_input(format!(
            "unknown region `{unknown}` (a typo would scan nothing and pass); allow unknown \
             regions (allow_unknown_region, --allow-unknown-region) for new regions or emulators"
        ))
        .with_field(format!("regions[{i}]"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_partition_from_its_regions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(super::partition(region), partition);
        }
    }

    #[test]
    fn typos_are_caught() {
        assert!(super::check_known(&["us-east-1".into(), "eu-west-1".into()]).is_ok());
        let err = super::check_known(&["us-esat-1".into()]).unwrap_err();
        assert!(err.to_string().contains("us-esat-1"), "{err}");
    }

    #[test]
    fn names_that_cannot_be_host_names_are_refused() {
        for good in ["eu-west-1", "us-gov-west-1", "local"] {
            assert!(super::check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "eu west 1", "EU-WEST-1", "-eu", "eu-", "eu.west", "a/b"] {
            assert!(super::check_name(bad).is_err(), "{bad}");
        }
    }
}
