//! Secrets stay secret: the AWS credentials in the environment, the session token and the
//! external id never appear in what `kms-rotation` prints or writes, even at `-vvv`, through a
//! whole scan, plan, apply and rollback against the project's KMS test server (and, when moto is
//! configured, through roles assumed from moto's STS).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output};

use kms_rotation::aws::{AwsOptions, AwsSource};
use kms_test_server::{Faults, KmsTestServer};

// Distinctive values: any of them in any output is a leak.
const ACCESS_KEY_ID: &str = "AKIDCANARY0ACCESS0ID";
const SECRET_ACCESS_KEY: &str = "canarySecretAccessKey0x7f3a9";
const SESSION_TOKEN: &str = "canarySessionToken0x5e2bd";
const EXTERNAL_ID: &str = "canary-external-id-0x4d7a";

/// Every value no output may contain.
const SECRETS: &[&str] = &[SECRET_ACCESS_KEY, SESSION_TOKEN, EXTERNAL_ID, ACCESS_KEY_ID];

/// Runs the CLI with the dummy credentials, and keeps what every run printed.
struct Session {
    /// Reports, plans and journals: every file in it is checked.
    dir: PathBuf,
    /// Holds the external id file, which is the one place the secret may be.
    secret_dir: PathBuf,
    endpoint: String,
    printed: Vec<(String, Vec<u8>)>,
}

impl Session {
    fn new(name: &str, endpoint: &str) -> Session {
        aws_common::assert_loopback(endpoint);
        let root = std::env::temp_dir().join(format!(
            "kms-rotation-secrets-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        let (dir, secret_dir) = (root.join("out"), root.join("secret"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&secret_dir).unwrap();
        Session {
            dir,
            secret_dir,
            endpoint: endpoint.to_owned(),
            printed: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// A file holding the external id, as a mounted secret would (with a line break).
    fn external_id_file(&self) -> String {
        let path = self.secret_dir.join("external-id");
        std::fs::write(&path, format!("{EXTERNAL_ID}\n")).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// The command with only the dummy credentials and no configuration files: nothing from
    /// the developer's shell can take part. The SDK is told to log the bodies it redacts
    /// (STS's temporary credentials among them): the CLI's ceiling must hold even so.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = common::cli();
        command
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .env("LOG_SENSITIVE_BODIES", "true")
            .env("LOG_SIGNABLE_BODY", "true")
            .envs(env.iter().copied());
        command
    }

    /// Runs a command (off the async runtime that serves the test server) and keeps its output.
    async fn run(&mut self, label: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args, env);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        self.printed
            .push((format!("{label} stdout"), out.stdout.clone()));
        self.printed
            .push((format!("{label} stderr"), out.stderr.clone()));
        out
    }

    /// [`run`](Session::run) with the endpoint and few attempts, for the AWS-facing commands.
    async fn run_aws(&mut self, label: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let endpoint = self.endpoint.clone();
        let mut all = args.to_vec();
        all.extend(["--endpoint-url", &endpoint, "--max-attempts", "2"]);
        self.run(label, &all, env).await
    }

    /// Asserts that no secret is in anything printed or in any file written.
    fn assert_nothing_leaked(&self, secrets: &[&str]) {
        let mut checked = self.printed.clone();
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            checked.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
        for (what, bytes) in &checked {
            let text = String::from_utf8_lossy(bytes);
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{what} contains the secret {secret}:\n{text}"
                );
            }
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The sample fleet's keys of its first account (the server's account for unknown access keys).
fn first_account() -> Vec<kms_rotation::KeyRecord> {
    common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_any_output_of_scan_plan_apply_and_rollback_at_vvv() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    let mut s = Session::new("server", &server.endpoint_url());
    let id_file = s.external_id_file();
    let (report, plan, journal, inventory) = (
        s.path("report.json"),
        s.path("plan.json"),
        s.path("journal.ndjson"),
        s.path("inventory.json"),
    );
    let regions = ["--region", "us-east-1", "--region", "eu-west-1"];
    let by_env = [("KMS_ROTATION_EXTERNAL_ID", EXTERNAL_ID)];

    let mut args = vec!["-vvv", "scan", "--fail-on", "none", "-o", &report];
    args.extend(regions);
    args.extend(["--save-inventory", &inventory]);
    let out = s.run_aws("scan", &args, &by_env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The run really was verbose, the SDK's debug output included, and the external id really
    // reached the options (then printed redacted).
    let log = stderr(&out);
    assert!(log.contains("DEBUG"), "{log}");
    assert!(log.contains("aws_smithy_runtime"), "{log}");
    assert!(
        log.contains("external_id: Some(ExternalId(<redacted>))"),
        "{log}"
    );

    let out = s
        .run(
            "plan",
            &["plan", "--report", &report, "-o", &plan, "-vvv"],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let planned = kms_rotation::remediate::Plan::from_file(&plan).unwrap();
    assert!(!planned.actions.is_empty(), "the fleet has keys to fix");

    let apply = [
        "apply",
        "--plan",
        &plan,
        "--journal",
        &journal,
        "--yes",
        "--verify-delay-ms",
        "10",
        "--external-id-file",
        &id_file,
        "-vvv",
    ];
    let out = s.run_aws("apply", &apply, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("external_id: Some(ExternalId(<redacted>))"),
        "the file's id was used: {}",
        stderr(&out)
    );
    let writes = server.write_calls().len();
    assert!(writes >= planned.actions.len(), "{writes} writes");

    let rollback = [
        "rollback",
        "--journal",
        &journal,
        "--yes",
        "--verify-delay-ms",
        "10",
        "-vvv",
    ];
    let out = s.run_aws("rollback", &rollback, &by_env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(server.write_calls().len() > writes, "rollback wrote");

    // RUST_LOG cannot lift the dependencies' ceiling.
    let mut args = vec!["scan", "--fail-on", "none", "--format", "ndjson"];
    args.extend(regions);
    let out = s
        .run_aws(
            "scan RUST_LOG=trace",
            &args,
            &[
                ("KMS_ROTATION_EXTERNAL_ID", EXTERNAL_ID),
                ("RUST_LOG", "trace"),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.contains("aws_smithy_runtime::client::orchestrator"),
        "{log}"
    );
    for line in log.lines().filter(|l| l.contains(" TRACE ")) {
        assert!(
            line.contains("kms_rotation::"),
            "a dependency at trace: {line}"
        );
    }

    s.assert_nothing_leaked(SECRETS);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_external_id_is_not_in_help_or_in_errors() {
    let mut s = Session::new("errors", "http://127.0.0.1:9");
    let by_env = [("KMS_ROTATION_EXTERNAL_ID", EXTERNAL_ID)];

    // clap shows environment values in --help unless told not to.
    let out = s.run("help", &["scan", "--help"], &by_env).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("KMS_ROTATION_EXTERNAL_ID"),
        "the variable is documented"
    );

    // Both the variable and the file: exit 2 before any call, naming the flags.
    let id_file = s.external_id_file();
    let args = [
        "scan",
        "--region",
        "us-east-1",
        "--external-id-file",
        &id_file,
    ];
    let out = s.run_aws("twice", &args, &by_env).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--external-id-file"),
        "{}",
        stderr(&out)
    );

    // An id STS would refuse, from argv, the environment and a file: exit 2, the value never
    // repeated.
    let bad = format!("{EXTERNAL_ID} with spaces");
    let bad_file = s.secret_dir.join("bad-id");
    std::fs::write(&bad_file, format!("{bad}\n")).unwrap();
    let bad_path = bad_file.to_str().unwrap();
    let role = "arn:aws:iam::111122223333:role/scanner";
    for (label, args, env) in [
        (
            "argv",
            vec!["scan", "--role-arn", role, "--external-id", &bad],
            vec![],
        ),
        (
            "env",
            vec!["scan", "--role-arn", role],
            vec![("KMS_ROTATION_EXTERNAL_ID", bad.as_str())],
        ),
        (
            "file",
            vec!["scan", "--role-arn", role, "--external-id-file", bad_path],
            vec![],
        ),
    ] {
        let mut args = args;
        args.extend(["--region", "us-east-1", "-vvv"]);
        let out = s.run_aws(label, &args, &env).await;
        assert_eq!(out.status.code(), Some(2), "{label}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("external-id: the external id has whitespace"),
            "{label}: {}",
            stderr(&out)
        );
    }
    let out = s
        .run_aws(
            "missing file",
            &[
                "scan",
                "--region",
                "us-east-1",
                "--external-id-file",
                "/nonexistent/id",
            ],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent/id"), "{}", stderr(&out));

    s.assert_nothing_leaked(SECRETS);
}

/// The library's `Debug` of everything that holds the external id or credentials: options, the
/// source with assumed roles, the remediation target and its clients.
#[tokio::test]
async fn debug_output_of_sources_and_targets_holds_no_secret() {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            Some(SESSION_TOKEN.to_owned()),
            None,
            "kms-rotation-tests",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    let options = AwsOptions {
        regions: vec!["us-east-1".into()],
        role_arns: vec!["arn:aws:iam::111122223333:role/scanner".into()],
        external_id: Some(EXTERNAL_ID.into()),
        ..AwsOptions::default()
    };
    let source = std::sync::Arc::new(AwsSource::from_sdk_config(sdk, options).await.unwrap());
    let client = source
        .kms_client("111122223333", "us-east-1", None)
        .unwrap();
    let target = kms_rotation::aws::AwsTarget::from_source(source.clone());
    for (what, debug) in [
        ("options", format!("{:?}", source.options())),
        ("source", format!("{source:?}")),
        ("client", format!("{client:?}")),
        ("target", format!("{target:?}")),
    ] {
        for secret in [SECRET_ACCESS_KEY, SESSION_TOKEN, EXTERNAL_ID] {
            assert!(!debug.contains(secret), "{what} shows {secret}: {debug}");
        }
    }
}

/// moto's URL, or `None` (that part skipped) outside CI when it is not configured.
fn moto_url() -> Option<String> {
    match std::env::var("KMS_ROTATION_MOTO_URL") {
        Ok(url) if !url.is_empty() => {
            aws_common::assert_loopback(&url);
            Some(url.trim_end_matches('/').to_owned())
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!("KMS_ROTATION_MOTO_URL must point at a moto server on 127.0.0.1 in CI")
        }
        _ => {
            eprintln!("note: KMS_ROTATION_MOTO_URL is not set; skipping the assumed-role part");
            None
        }
    }
}

/// Resets moto (shared by the test binaries, which cargo runs one after another).
fn reset_moto(url: &str) {
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.contains(" 200 "), "moto reset failed: {reply}");
}

/// With a role assumed through moto's STS: the external id goes to STS, the temporary
/// credentials come back, and neither shows in any output.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_when_roles_are_assumed_on_moto() {
    let Some(url) = moto_url() else { return };
    reset_moto(&url);
    const ACCOUNT: &str = "210987654321";
    let role = format!("arn:aws:iam::{ACCOUNT}:role/kms-rotation-remediator");
    // A key without rotation in the role's account, created through the same role.
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOSETUP").await;
    let setup = AwsSource::from_sdk_config(
        sdk,
        AwsOptions {
            role_arns: vec![role.clone()],
            external_id: Some(EXTERNAL_ID.into()),
            ..aws_common::options(&["us-east-1"])
        },
    )
    .await
    .unwrap();
    let kms = setup.kms_client(ACCOUNT, "us-east-1", None).unwrap();
    kms.create_key().send().await.unwrap();

    let mut s = Session::new("moto", &url);
    let id_file = s.external_id_file();
    let (report, plan, journal) = (
        s.path("report.json"),
        s.path("plan.json"),
        s.path("journal.ndjson"),
    );
    let by_env = [("KMS_ROTATION_EXTERNAL_ID", EXTERNAL_ID)];
    let scan = [
        "-vvv",
        "scan",
        "--region",
        "us-east-1",
        "--role-arn",
        &role,
        "--fail-on",
        "none",
        "-o",
        &report,
    ];
    let out = s.run_aws("scan", &scan, &by_env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sdk_invocation_id") && stderr(&out).contains("STS.AssumeRole"),
        "the role was assumed: {}",
        stderr(&out)
    );
    // The organisation's roles are assumed with the external id too (once up front, then by
    // the credentials provider).
    let org =
        aws_sdk_organizations::Client::new(&aws_common::sdk_config(&url, "AKIDMOTOSETUP").await);
    org.create_organization().send().await.unwrap();
    org.create_account()
        .email("member@example.com")
        .account_name("member")
        .send()
        .await
        .unwrap();
    let organization = [
        "-vvv",
        "scan",
        "--region",
        "us-east-1",
        "--organization",
        "--org-role-name",
        "kms-rotation-scanner",
        "--fail-on",
        "none",
        "--format",
        "json",
    ];
    let out = s
        .run_aws("scan --organization", &organization, &by_env)
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("STS.AssumeRole"),
        "the organisation role was assumed: {}",
        stderr(&out)
    );

    let out = s
        .run(
            "plan",
            &["plan", "--report", &report, "-o", &plan, "-vvv"],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let planned = kms_rotation::remediate::Plan::from_file(&plan).unwrap();
    assert_eq!(planned.actions.len(), 1);

    let apply = [
        "apply",
        "--plan",
        &plan,
        "--journal",
        &journal,
        "--yes",
        "--verify-delay-ms",
        "10",
        "--role-arn",
        &role,
        "--external-id-file",
        &id_file,
        "-vvv",
    ];
    let out = s.run_aws("apply", &apply, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rollback = [
        "rollback",
        "--journal",
        &journal,
        "--yes",
        "--verify-delay-ms",
        "10",
        "--role-arn",
        &role,
        "-vvv",
    ];
    let out = s.run_aws("rollback", &rollback, &by_env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // moto's temporary session tokens all start with this; its secret keys are random.
    let moto_session_token = "FQoGZXIvYXdzEBYaD";
    let mut secrets = SECRETS.to_vec();
    secrets.push(moto_session_token);
    s.assert_nothing_leaked(&secrets);
}
