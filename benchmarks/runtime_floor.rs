//! The benchmark harness's floor: a bare Lambda runtime client with no handler,
//! no async runtime and no dependencies. It asks the Runtime API for the next
//! invocation and answers `{}` at once, over one keep-alive connection, so
//! its numbers are what the harness itself costs (process start, HTTP round
//! trips, timing) and nothing else.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn main() -> std::io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API is not set");
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        write!(
            writer,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n"
        )?;
        let (status, request_id, _event) = read_response(&mut reader)?;
        if status != 200 {
            return Ok(()); // the harness is shutting down
        }
        // One write per request: headers and body split over two writes
        // would meet Nagle's algorithm and the server's delayed ACK.
        let body = "{}";
        let request = format!(
            "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: {api}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        writer.write_all(request.as_bytes())?;
        read_response(&mut reader)?;
    }
}

/// Status, `Lambda-Runtime-Aws-Request-Id` and body of one HTTP/1.1 response.
fn read_response(reader: &mut impl BufRead) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (mut length, mut request_id) = (0usize, String::new());
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                request_id = value.to_string();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, request_id, body))
}
