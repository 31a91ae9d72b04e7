//! The Lambda binaries refuse to start on bad configuration, saying why.

use std::process::Command;

fn run(binary: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(binary);
    cmd.env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn deploy_trigger_without_a_state_machine_arn_stops_with_the_reason() {
    let (ok, text) = run(env!("CARGO_BIN_EXE_deploy-trigger"), &[]);
    assert!(!ok);
    assert!(
        text.contains("configuration error: STATE_MACHINE_ARN is required"),
        "{text}"
    );
}

#[test]
fn campaign_status_with_a_bad_poll_interval_stops_with_the_reason() {
    let (ok, text) = run(
        env!("CARGO_BIN_EXE_campaign-status"),
        &[("POLL_INITIAL_SECONDS", "soon")],
    );
    assert!(!ok);
    assert!(
        text.contains("configuration error: POLL_INITIAL_SECONDS must be a whole number from 1 to 86400, got \"soon\""),
        "{text}"
    );
}

#[test]
fn deploy_campaign_with_a_bad_default_tps_stops_with_the_reason() {
    let (ok, text) = run(
        env!("CARGO_BIN_EXE_deploy-campaign"),
        &[("DEFAULT_MIN_PROVISIONED_TPS", "0")],
    );
    assert!(!ok);
    assert!(
        text.contains("DEFAULT_MIN_PROVISIONED_TPS must be a whole number"),
        "{text}"
    );
}

mod runtime_api {
    //! A minimal Lambda Runtime API: hands one event to the function and
    //! captures what it posts back.
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread;

    pub struct Posted {
        pub path: String,
        pub body: String,
    }

    fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, String)> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some((method, path, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Serves `event` once; returns the address and a receiver of the post.
    pub fn serve(event: String) -> (String, mpsc::Receiver<Posted>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut handed_out = false;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (event, tx) = (event.clone(), tx.clone());
                let first = !handed_out;
                handed_out = true;
                thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut served = !first;
                    while let Some((method, path, body)) = read_request(&mut reader) {
                        if method == "GET" && path.ends_with("/invocation/next") {
                            if served {
                                // One event only: keep the function waiting.
                                thread::park();
                                return;
                            }
                            served = true;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Lambda-Runtime-Aws-Request-Id: req-1\r\n\
                                 Lambda-Runtime-Deadline-Ms: 99999999999999\r\n\
                                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:111122223333:function:f\r\n\
                                 Content-Length: {}\r\n\r\n",
                                event.len()
                            );
                            let _ = writer.write_all(head.as_bytes());
                            let _ = writer.write_all(event.as_bytes());
                        } else {
                            let _ = writer
                                .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}");
                            let _ = tx.send(Posted { path, body });
                        }
                    }
                });
            }
        });
        (address, rx)
    }
}

/// Runs a binary under the fake Runtime API with one event; returns the path
/// it posted to (`.../response` or `.../error`) and the body.
fn invoke(binary: &str, vars: &[(&str, &str)], event: &str) -> (String, serde_json::Value) {
    let (path, body, _) = invoke_logged(binary, vars, event);
    (path, body)
}

/// [`invoke`], and the lines the function logged.
fn invoke_logged(
    binary: &str,
    vars: &[(&str, &str)],
    event: &str,
) -> (String, serde_json::Value, Vec<String>) {
    let (address, posted) = runtime_api::serve(event.to_string());
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "f")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let result = posted.recv_timeout(std::time::Duration::from_secs(20));
    // The function has answered (or is stuck): stop it and read what it said.
    let _ = nix_kill(child.id());
    let out = child.wait_with_output().unwrap();
    let posted = result.expect("the function answered");
    let lines = [out.stdout, out.stderr]
        .iter()
        .flat_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|line| !line.trim().is_empty())
        .collect();
    (
        posted.path,
        serde_json::from_str(&posted.body).unwrap(),
        lines,
    )
}

/// Stops a process (SIGKILL) by id.
fn nix_kill(pid: u32) -> std::io::Result<std::process::ExitStatus> {
    Command::new("kill").args(["-9", &pid.to_string()]).status()
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn deploy_trigger_reports_an_unknown_event_with_a_stable_error_type() {
    let (path, body) = invoke(
        env!("CARGO_BIN_EXE_deploy-trigger"),
        &[(
            "STATE_MACHINE_ARN",
            "arn:aws:states:us-east-1:111122223333:stateMachine:sm",
        )],
        r#"{"hello": "world"}"#,
    );
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/error");
    assert_eq!(body["errorType"], "UnsupportedEvent");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("unknown shape"),
        "{body}"
    );
}

#[test]
fn campaign_status_answers_a_rejected_request_with_its_notification() {
    let (path, body) = invoke(
        env!("CARGO_BIN_EXE_campaign-status"),
        &[],
        &sample("campaign-status-rejected-input.json"),
    );
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(body["outcome"], "REJECTED");
    assert_eq!(body["final"], true);
    assert_eq!(
        body["notification"]["detailType"],
        "Campaign Deployment Rejected"
    );
}

#[test]
fn deploy_campaign_reports_a_bad_task_input_with_a_stable_error_type() {
    let (path, body) = invoke(
        env!("CARGO_BIN_EXE_deploy-campaign"),
        &[],
        r#"{"state": 1}"#,
    );
    assert!(path.ends_with("/error"), "{path}");
    assert_eq!(body["errorType"], "InvalidTaskInput");
}

#[test]
fn every_line_a_task_logs_names_its_campaign_and_execution() {
    // Lambda's JSON log format and level, as the template sets them.
    let vars = [
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        // Nothing answers there: the calls fail after their retries.
        ("AWS_ENDPOINT_URL_PERSONALIZE", "http://127.0.0.1:9"),
    ];
    for (binary, input) in [
        (
            env!("CARGO_BIN_EXE_deploy-campaign"),
            "deploy-campaign-input.json",
        ),
        (
            env!("CARGO_BIN_EXE_campaign-status"),
            "campaign-status-input.json",
        ),
        (
            env!("CARGO_BIN_EXE_campaign-status"),
            "campaign-status-rejected-input.json",
        ),
    ] {
        let event: serde_json::Value = serde_json::from_str(&sample(input)).unwrap();
        // An accepted request's campaign, or a rejected one's.
        let state = &event["state"];
        let campaign = if state["request"].is_object() {
            &state["request"]["campaignName"]
        } else {
            &state["campaignName"]
        };
        let execution = &event["executionArn"];
        let (_, _, lines) = invoke_logged(binary, &vars, &sample(input));
        assert!(!lines.is_empty(), "{input}: no log lines");
        for line in &lines {
            let record: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{input}: not a JSON log line ({e}): {line}"));
            // In the task's span, or, for the runtime's line of a handler
            // error (logged after the span closed), in the error itself.
            let spans = record["spans"].as_array().cloned().unwrap_or_default();
            let in_span = spans
                .iter()
                .any(|span| span["campaign"] == *campaign && span["execution"] == *execution);
            let in_error = record["fields"]["message"].as_str().is_some_and(|m| {
                m.starts_with(&format!(
                    "deployment{{campaign={} execution={}}}: ",
                    campaign.as_str().unwrap(),
                    execution.as_str().unwrap()
                ))
            });
            // Or a line of embedded metrics, which names them as members.
            let in_metrics = record.get("_aws").is_some()
                && record["CampaignName"] == *campaign
                && record["ExecutionArn"] == *execution;
            assert!(
                in_span || in_error || in_metrics,
                "{input}: a line that does not name them: {line}"
            );
        }
    }
}

#[test]
fn campaign_status_writes_one_embedded_metric_line_for_a_final_outcome() {
    let (path, body, lines) = invoke_logged(
        env!("CARGO_BIN_EXE_campaign-status"),
        &[("METRICS_NAMESPACE", "PersonalizeDeployer/test")],
        &sample("campaign-status-rejected-input.json"),
    );
    assert!(path.ends_with("/response"), "{path}");
    assert_eq!(body["outcome"], "REJECTED");
    let emf: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    let [line] = &emf[..] else {
        panic!("one metric line: {lines:?}")
    };
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "PersonalizeDeployer/test"
    );
    assert_eq!(
        (line["Outcome"].as_str(), line["Deployments"].as_f64()),
        (Some("REJECTED"), Some(1.0))
    );
}
