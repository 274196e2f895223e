//! The command at a terminal and in a pipe: a person at a terminal gets the table, colours and
//! progress bars; a pipe, a file or a CI log gets none of them. Each stream is a real
//! pseudo-terminal or a real pipe, as the command would meet it.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::fs::File;
use std::io::Read;
use std::process::Stdio;
use std::thread::JoinHandle;

use kms_rotation::Finding;
use kms_test_server::{Faults, KmsTestServer};

/// Where a stream of the command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Terminal,
    Pipe,
}

#[derive(Debug)]
struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

const COLOUR: &str = "\x1b[";

/// Runs the command with only dummy credentials and a loopback endpoint in its environment (no
/// NO_COLOR, no KMS_ROTATION_* from the developer's shell), plus `env`.
fn run(args: &[&str], env: &[(&str, &str)], stdout: To, stderr: To) -> Run {
    let mut command = common::cli();
    command
        .args(args)
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let (out, out_reader) = stream(stdout);
    let (err, err_reader) = stream(stderr);
    let mut child = command.stdout(out).stderr(err).spawn().unwrap();
    // The command holds our end of each terminal: without dropping it, reading never ends.
    drop(command);
    // Pipes are read as the command writes too, so that a full pipe never blocks it.
    let out_reader = out_reader.unwrap_or_else(|| read_all(child.stdout.take().unwrap()));
    let err_reader = err_reader.unwrap_or_else(|| read_all(child.stderr.take().unwrap()));
    let status = child.wait().unwrap();
    let text =
        |reader: JoinHandle<Vec<u8>>| String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Run {
        stdout: text(out_reader),
        stderr: text(err_reader),
        code: status.code().expect("exited, not killed"),
    }
}

/// Everything `from` gives until its end, read by a thread.
fn read_all(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0; 4096];
        loop {
            match from.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // EIO from a terminal: every end of its other side is closed.
                Err(e) if e.raw_os_error() == Some(5) => break,
                Err(e) => panic!("reading the command's output: {e}"),
            }
        }
        bytes
    })
}

/// A pipe, or a new pseudo-terminal (160 columns) read by a thread as the command writes.
fn stream(to: To) -> (Stdio, Option<JoinHandle<Vec<u8>>>) {
    match to {
        To::Pipe => (Stdio::piped(), None),
        To::Terminal => {
            let size = nix::pty::Winsize {
                ws_row: 50,
                ws_col: 160,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            let pty = nix::pty::openpty(Some(&size), None).unwrap();
            let reader = read_all(File::from(pty.master));
            (Stdio::from(pty.slave), Some(reader))
        }
    }
}

const SCAN: &[&str] = &[
    "scan",
    "--inventory",
    "fleet.json",
    "--policy",
    "policy.yaml",
    "--exceptions",
    "exceptions.yaml",
    "--now",
    "2026-11-22T12:00:00Z",
];

fn scan(extra: &[&str]) -> Vec<String> {
    SCAN.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The KMS test server with the sample fleet's keys of one account and region, and scratch
/// paths for a plan and a journal: what the remediation commands need.
struct Fleet {
    server: KmsTestServer,
    plan: String,
    journal: String,
}

impl Fleet {
    async fn start(latency: std::time::Duration, name: &str) -> Fleet {
        let records: Vec<_> = common::fleet()
            .into_iter()
            .filter(|r| r.account_id == "111122223333" && r.region == "us-east-1")
            .collect();
        let faults = Faults {
            latency,
            ..Faults::default()
        };
        let path = |file: &str| {
            let path = common::scratch(&format!("{name}-{file}"));
            path.to_str().unwrap().to_owned()
        };
        Fleet {
            server: KmsTestServer::start(records, faults).await.unwrap(),
            plan: path("plan.json"),
            journal: path("journal.ndjson"),
        }
    }

    /// The flags that send AWS calls to the server.
    fn aws(&self) -> Vec<String> {
        [
            "--endpoint-url",
            &self.server.endpoint_url(),
            "--max-attempts",
            "2",
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

/// Writes verified at once, without a write limit.
const QUICK: [&str; 4] = ["--verify-delay-ms", "10", "--writes-per-second", "0"];

/// [`run`] on a blocking thread, so that the test server keeps answering.
fn run_blocking(args: Vec<&str>, stdout: To, stderr: To) -> impl Future<Output = Run> + use<> {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    async move {
        tokio::task::spawn_blocking(move || run(&strs(&args), &[], stdout, stderr))
            .await
            .unwrap()
    }
}

#[test]
fn a_terminal_gets_the_table_in_colour_and_a_pipe_gets_the_json_report() {
    let args = scan(&[]);
    let at_terminal = run(&strs(&args), &[], To::Terminal, To::Pipe);
    assert_eq!(at_terminal.code, 1, "{at_terminal:?}");
    let table = &at_terminal.stdout;
    assert!(
        table.contains("STATUS") && table.contains("NEXT ROTATION"),
        "{table}"
    );
    for record in common::fleet() {
        assert!(
            table.contains(&record.key_id),
            "{} missing:\n{table}",
            record.key_id
        );
    }
    assert!(table.contains(COLOUR), "{table}");
    let last = table.lines().rfind(|l| !l.trim().is_empty()).unwrap();
    assert!(
        last.contains("NOT compliant"),
        "ends with the summary: {table:?}"
    );
    // The summary is the table's last line; stderr (a pipe) gets nothing for people.
    assert_eq!(at_terminal.stderr, "", "{at_terminal:?}");

    let in_pipe = run(&strs(&args), &[], To::Pipe, To::Pipe);
    assert_eq!(in_pipe.code, 1, "{in_pipe:?}");
    let report: serde_json::Value = serde_json::from_str(&in_pipe.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 22);
    assert!(!in_pipe.stderr.contains(COLOUR), "{}", in_pipe.stderr);
}

#[test]
fn plan_shows_a_table_at_a_terminal_and_json_in_a_pipe() {
    let mut args = scan(&[]);
    args[0] = "plan".into();
    let at_terminal = run(&strs(&args), &[], To::Terminal, To::Pipe);
    assert_eq!(at_terminal.code, 0, "{at_terminal:?}");
    assert!(
        at_terminal.stdout.contains("5 action(s)"),
        "{at_terminal:?}"
    );
    let in_pipe = run(&strs(&args), &[], To::Pipe, To::Pipe);
    let plan: serde_json::Value = serde_json::from_str(&in_pipe.stdout).unwrap();
    assert_eq!(plan["actions"].as_array().unwrap().len(), 5);
}

#[test]
fn colour_follows_color_and_no_color() {
    let coloured = |extra: &[&str], env: &[(&str, &str)], stdout: To| {
        let run = run(&strs(&scan(extra)), env, stdout, To::Pipe);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stdout.contains("NOT compliant"), "a table: {run:?}");
        run.stdout.contains(COLOUR)
    };
    let no_color = [("NO_COLOR", "1")];
    assert!(!coloured(&[], &no_color, To::Terminal));
    assert!(
        coloured(&[], &[("NO_COLOR", "")], To::Terminal),
        "empty: unset"
    );
    assert!(!coloured(&["--color", "never"], &[], To::Terminal));
    let by_env = [("KMS_ROTATION_COLOR", "never")];
    assert!(!coloured(&[], &by_env, To::Terminal));
    assert!(coloured(&["--color", "always"], &no_color, To::Terminal));
    assert!(!coloured(&["--format", "table"], &[], To::Pipe));
    assert!(coloured(
        &["--format", "table", "--color", "always"],
        &[],
        To::Pipe
    ));
}

#[test]
fn status_filters_the_table_and_ndjson_but_never_the_exit_code() {
    let run_ = |extra: &[&str]| run(&strs(&scan(extra)), &[], To::Pipe, To::Pipe);
    let passes = run_(&["--format", "ndjson", "--status", "pass"]);
    assert_eq!(passes.code, 1, "the fails still gate: {passes:?}");
    let findings: Vec<Finding> = passes
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 3);
    assert!(
        findings
            .iter()
            .all(|f| f.status == kms_rotation::Status::Pass)
    );

    let table = run_(&[
        "--format",
        "table",
        "--status",
        "fail,error",
        "--fail-on",
        "none",
    ]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains("9 of 22 findings shown"), "{table:?}");
    assert!(!table.stdout.contains(" pass "), "{table:?}");

    let json = run_(&["--format", "json", "--status", "fail"]);
    assert_eq!(json.code, 2, "{json:?}");
    assert!(json.stderr.contains("--status"), "{json:?}");
    assert_eq!(json.stdout, "");
    let typo = run_(&["--format", "ndjson", "--status", "failed"]);
    assert_eq!(typo.code, 2, "{typo:?}");
}

/// The scan, plan, apply and rollback bars, against the KMS test server slowed down enough for
/// them to be drawn.
#[tokio::test(flavor = "multi_thread")]
async fn progress_bars_are_drawn_on_a_terminal_only() {
    let fleet = Fleet::start(std::time::Duration::from_millis(40), "bars").await;
    let (plan, journal) = (fleet.plan.as_str(), fleet.journal.as_str());
    let aws = fleet.aws();
    let aws = strs(&aws);
    let quick = QUICK;
    let blocking = |args: Vec<&str>, stderr: To| run_blocking(args, To::Pipe, stderr);

    let scan = [
        &["scan", "--region", "us-east-1", "--format", "ndjson"][..],
        &aws,
    ]
    .concat();
    let drawn = blocking(scan.clone(), To::Terminal).await;
    assert!(drawn.stderr.contains("scanning:"), "{drawn:?}");
    assert!(drawn.stderr.contains("keys read"), "{drawn:?}");
    assert!(drawn.stderr.contains("NOT compliant"), "{drawn:?}");
    // stdout (a pipe) is the findings and nothing else.
    for line in drawn.stdout.lines() {
        serde_json::from_str::<Finding>(line).unwrap();
    }
    let quiet = blocking([&scan[..], &["--quiet"]].concat(), To::Terminal).await;
    assert!(!quiet.stderr.contains("scanning"), "{quiet:?}");
    let piped = blocking(scan.clone(), To::Pipe).await;
    assert!(!piped.stderr.contains("scanning"), "{piped:?}");
    assert!(!piped.stderr.contains(COLOUR), "{piped:?}");
    assert!(piped.stderr.contains("NOT compliant"), "{piped:?}");

    let planned = blocking(
        [&["plan", "--region", "us-east-1", "-o", plan][..], &aws].concat(),
        To::Terminal,
    )
    .await;
    assert_eq!(planned.code, 0, "{planned:?}");
    assert!(planned.stderr.contains("scanning:"), "{planned:?}");

    let apply = [&["apply", "--plan", plan][..], &aws, &quick].concat();
    let applied = blocking(
        [&apply[..], &["--yes", "--journal", journal]].concat(),
        To::Terminal,
    )
    .await;
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(applied.stderr.contains("applying:"), "{applied:?}");
    // Into a pipe: no bar, no colour.
    let again = blocking(
        [&apply[..], &["--yes", "--journal", journal]].concat(),
        To::Pipe,
    )
    .await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(!again.stderr.contains("applying"), "{again:?}");
    assert!(!again.stderr.contains(COLOUR), "{again:?}");

    let rollback = [&["rollback", "--journal", journal][..], &aws, &quick].concat();
    // A dry run calls nothing, so it has no progress to show.
    let dry = blocking(rollback.clone(), To::Pipe).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    let rolled_back = blocking([&rollback[..], &["--yes"]].concat(), To::Terminal).await;
    assert_eq!(rolled_back.code, 0, "{rolled_back:?}");
    assert!(
        rolled_back.stderr.contains("rolling back:"),
        "{rolled_back:?}"
    );
}

/// Apply and rollback outcomes: a table of one row per key at a terminal (what each key was,
/// what it is now), JSON in a pipe or with `--format json`.
#[tokio::test(flavor = "multi_thread")]
async fn apply_and_rollback_show_a_table_at_a_terminal_and_json_in_a_pipe() {
    let fleet = Fleet::start(std::time::Duration::ZERO, "outcome").await;
    let (plan, journal) = (fleet.plan.as_str(), fleet.journal.as_str());
    let aws = fleet.aws();
    let aws = strs(&aws);
    let quick = QUICK;
    let blocking = |args: Vec<&str>, stdout: To| run_blocking(args, stdout, To::Pipe);
    let planned = blocking(
        [&["plan", "--region", "us-east-1", "-o", plan][..], &aws].concat(),
        To::Pipe,
    )
    .await;
    assert_eq!(planned.code, 0, "{planned:?}");
    let actions =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(plan).unwrap()).unwrap()
            ["actions"]
            .as_array()
            .unwrap()
            .len();
    assert!(actions > 0);

    let apply = [&["apply", "--plan", plan][..], &aws, &quick].concat();
    let dry = blocking(apply.clone(), To::Terminal).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains("STATUS") && dry.stdout.contains("BEFORE"),
        "{dry:?}"
    );
    assert_eq!(
        dry.stdout.matches("would_remediate").count(),
        actions,
        "{dry:?}"
    );
    assert!(!dry.stdout.contains('{'), "a table, not JSON: {dry:?}");

    let applied = blocking(
        [&apply[..], &["--yes", "--journal", journal]].concat(),
        To::Terminal,
    )
    .await;
    assert_eq!(applied.code, 0, "{applied:?}");
    let rows: Vec<&str> = applied
        .stdout
        .lines()
        .filter(|l| l.contains("remediated"))
        .collect();
    assert_eq!(rows.len(), actions, "{applied:?}");
    assert!(
        rows.iter().all(|row| row.contains("on, 365 days")),
        "the state after the write: {applied:?}"
    );

    let rollback = [&["rollback", "--journal", journal][..], &aws, &quick].concat();
    let dry = blocking(rollback.clone(), To::Terminal).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("RESTORE"), "{dry:?}");
    assert_eq!(
        dry.stdout.matches("would_roll_back").count(),
        actions,
        "{dry:?}"
    );
    let as_json = blocking(
        [&rollback[..], &["--format", "json"]].concat(),
        To::Terminal,
    )
    .await;
    let outcome: serde_json::Value = serde_json::from_str(&as_json.stdout).unwrap();
    assert_eq!(outcome["results"].as_array().unwrap().len(), actions);
    let piped = blocking([&rollback[..], &["--yes"]].concat(), To::Pipe).await;
    assert_eq!(piped.code, 0, "{piped:?}");
    let outcome: serde_json::Value = serde_json::from_str(&piped.stdout).unwrap();
    assert!(
        outcome["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "rolled_back"),
        "{outcome}"
    );
}
