//! The personalize-local command: options, start-up line, refusal of bad
//! options.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use personalize_local::Config;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn options_are_parsed() {
    let c = Config::from_args(args(&[
        "--port",
        "0",
        "--speed",
        "600",
        "--campaign-create-seconds",
        "1200",
        "--max-active-campaigns",
        "7",
        "--strict",
        "--throttle-rate",
        "0.25",
        "--throttle-error",
        "LimitExceededException",
        "--fail-deployments",
        "arn:aws:personalize:us-east-1:111122223333:solution/s=bad model",
        "--region",
        "eu-west-1",
        "--account",
        "444455556666",
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(c.port, 0);
    assert_eq!(c.timings().campaign_create, 2.0, "1200 s at 600x");
    assert_eq!(c.max_active_campaigns, 7);
    assert!(c.strict);
    assert_eq!(c.faults.throttle_rate, 0.25);
    assert_eq!(c.deploy_failures[0].reason, "bad model");
    assert_eq!(
        (c.region.as_str(), c.account.as_str()),
        ("eu-west-1", "444455556666")
    );
    assert_eq!(Config::from_args(args(&["--help"])).unwrap(), None);
}

#[test]
fn bad_options_are_refused_with_the_reason() {
    for (list, expected) in [
        (vec!["--bogus", "1"], "unknown option --bogus"),
        (vec!["--port"], "--port: a value is required"),
        (
            vec!["--port", "http"],
            "--port: \"http\" is not a valid number",
        ),
        (vec!["--speed", "0"], "--speed: must be more than 0"),
        (
            vec!["--campaign-create-seconds", "-1"],
            "must be zero or more seconds",
        ),
        (
            vec!["--throttle-rate", "2"],
            "throttleRate must be from 0 to 1",
        ),
        (
            vec!["--throttle-error", "Nope"],
            "throttleError must be ThrottlingException or LimitExceededException",
        ),
        (
            vec!["--fail-deployments", "no-reason"],
            "expected ARN=REASON",
        ),
    ] {
        let err = Config::from_args(args(&list)).unwrap_err();
        assert!(err.contains(expected), "{list:?}: {err}");
    }
}

#[test]
fn the_command_prints_its_address_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--port", "0", "--speed", "100"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("personalize-local listening on ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
        .to_string();
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    let body = "{}";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonPersonalize.ListCampaigns\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"campaigns":[]}"#), "{response}");
}

#[test]
fn the_command_exits_2_on_bad_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--speed", "fast"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--speed: \"fast\" is not a valid number")
    );
}
