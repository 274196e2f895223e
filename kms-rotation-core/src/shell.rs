//! Values pasted into shell commands that people run with their credentials (plan scripts, the
//! fix commands of findings): reports and plans are files a user may have edited, so nothing in
//! them reaches a shell unquoted.

/// Quotes `s` for a POSIX shell unless it is plainly safe.
pub(crate) fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:/.@+=,".contains(&b));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_leaves_arns_alone_and_neutralises_the_rest() {
        let arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1";
        assert_eq!(quote(arn), arn);
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("x'$(rm)"), r"'x'\''$(rm)'");
        assert_eq!(quote(""), "''");
    }
}
