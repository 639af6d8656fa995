//! A loopback proxy that tampers with the entries the log serves (for
//! the explorer test's "not verified" page), with the cosignatures on
//! its checkpoint, and with a CT log's entry bundles.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

/// A loopback proxy in front of the log that flips one byte of every
/// entry body it passes on (the digest in it), so the entry no longer
/// hashes to its UUID or proves into the checkpoint.
pub fn tampering_proxy(upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = proxy_one(conn, &upstream);
            });
        }
    });
    format!("http://{addr}")
}

fn proxy_one(mut client: TcpStream, upstream: &str) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 || buf.len() > 1 << 20 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut lines = head.lines();
    let request_line = lines
        .next()
        .unwrap_or_default()
        .replace("HTTP/1.1", "HTTP/1.0");
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let mut out = format!("{request_line}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        if !l.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream.trim_start_matches("http://"))?;
    up.write_all(out.as_bytes())?;
    up.write_all(&buf[head_end..])?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |p| p + 4);
    let (rhead, rbody) = resp.split_at(split);
    let rhead = String::from_utf8_lossy(rhead).to_string();
    let mut body = rbody.to_vec();
    if path.starts_with("/api/v1/log/entries") && rhead.starts_with("HTTP/1.0 200") {
        body = tamper(&body);
    }
    if path == "/checkpoint" && rhead.starts_with("HTTP/1.0 200") {
        body = tamper_cosignatures(&body);
    }
    // A CT log's entry bundle: one byte of its last leaf changed.
    if path.starts_with("/ct/tile/entries/") && rhead.starts_with("HTTP/1.0 200") && body.len() > 10
    {
        let at = body.len() - 10;
        body[at] ^= 0x01;
    }
    let mut head_out = String::new();
    for l in rhead.lines().filter(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        if !["content-length:", "connection:", "transfer-encoding:"]
            .iter()
            .any(|h| lower.starts_with(h))
        {
            head_out.push_str(l);
            head_out.push_str("\r\n");
        }
    }
    head_out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    client.write_all(head_out.as_bytes())?;
    client.write_all(&body)?;
    client.flush()
}

/// A signed note with one character of every signature line but the
/// first (the log's own) changed, inside the Ed25519 signature.
fn tamper_cosignatures(note: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(note).to_string();
    let Some((body, sigs)) = text.split_once("\n\n") else {
        return note.to_vec();
    };
    let lines: Vec<String> = sigs
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut l = l.to_string();
            // 8 characters before the end: inside the signature, before
            // any padding.
            if i > 0 && l.len() > 20 {
                let at = l.len() - 8;
                let c = if &l[at..=at] == "A" { "B" } else { "A" };
                l.replace_range(at..=at, c);
            }
            l + "\n"
        })
        .collect();
    format!("{body}\n\n{}", lines.concat()).into_bytes()
}

/// `{uuid: entry}` with one character of the body's digest changed.
fn tamper(json_bytes: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v: Value = serde_json::from_slice(json_bytes).expect("entry JSON");
    for entry in v.as_object_mut().expect("entry map").values_mut() {
        let mut body = b64
            .decode(entry["body"].as_str().expect("body"))
            .expect("body base64");
        // The artifact digest: hex in v0.0.1 bodies, base64 in v0.0.2;
        // 'a' and 'b' are digits of both alphabets.
        let at = [&b"\"value\":\""[..], &b"\"digest\":\""[..]]
            .iter()
            .find_map(|key| {
                body.windows(key.len())
                    .position(|w| w == *key)
                    .map(|p| p + key.len())
            })
            .expect("a digest in the body");
        body[at] = if body[at] == b'a' { b'b' } else { b'a' };
        entry["body"] = Value::String(b64.encode(&body));
    }
    serde_json::to_vec(&v).expect("json")
}
