//! STS `AssumeRole`, enough for one server to stand for many accounts: the role ARN's account
//! becomes the credentials' access key id (`TEST<account>`), which is how every KMS call names
//! its account here. Nothing is checked (no trust policy, no external id): only the reply's shape
//! is AWS's (the query protocol: a form-encoded body, an XML reply).

use chrono::{DateTime, Utc};

/// Whether a request body is an STS query-protocol call rather than a KMS JSON one.
pub(crate) fn is_sts(body: &[u8]) -> bool {
    body.starts_with(b"Action=")
}

/// The reply to an STS call: `(status, content type, body)`.
pub(crate) fn answer(body: &[u8], now: DateTime<Utc>) -> (u16, &'static str, String) {
    let form = String::from_utf8_lossy(body);
    let field = |name: &str| {
        form.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode(v))
    };
    let role = field("RoleArn").unwrap_or_default();
    let account = role
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split(':').next())
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let (Some("AssumeRole"), Some(account)) = (field("Action").as_deref(), account) else {
        let error = "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>\
                     <Message>only AssumeRole with an IAM role ARN is served</Message></Error>\
                     </ErrorResponse>";
        return (400, "text/xml", error.to_owned());
    };
    let session = field("RoleSessionName").unwrap_or_default();
    let role_name = role.rsplit('/').next().unwrap_or_default();
    let expires = (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleResult><Credentials>\
         <AccessKeyId>TEST{account}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
         <SessionToken>token</SessionToken><Expiration>{expires}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROATEST:{session}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser>\
         </AssumeRoleResult></AssumeRoleResponse>"
    );
    (200, "text/xml", body)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match value
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assume_role_gives_the_role_accounts_access_key() {
        let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fscanner&RoleSessionName=kms+rotation";
        assert!(is_sts(body));
        let (status, _, xml) = answer(body, Utc::now());
        assert_eq!(status, 200);
        assert!(
            xml.contains("<AccessKeyId>TEST210987654321</AccessKeyId>"),
            "{xml}"
        );
        assert!(xml.contains("assumed-role/scanner/kms rotation"), "{xml}");
    }

    #[test]
    fn anything_else_is_refused() {
        let (status, _, _) = answer(b"Action=GetCallerIdentity", Utc::now());
        assert_eq!(status, 400);
        let (status, _, _) = answer(b"Action=AssumeRole&RoleArn=nope", Utc::now());
        assert_eq!(status, 400);
        assert!(!is_sts(b"{}"));
        assert_eq!(decode("a%2Fb+c%"), "a/b c%");
    }
}
