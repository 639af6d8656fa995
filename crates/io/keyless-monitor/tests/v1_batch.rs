//! Reading a Rekor v1 log's entries through `POST
//! /api/v1/log/entries/retrieve`, ten per request, from a log served here
//! over real HTTP: the bodies come back in index order (their leaf
//! hashes are what the pass folds into its frontier), a log without the
//! endpoint (405, as keyless's own log answered before it had one) is
//! read one entry per request, and a batch answer that repeats an index
//! is refused. tests/v1_own_log.rs follows keyless's own log.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_monitor::v1::scan_range;
use keyless_monitor::v1_batch::BatchRead;
use keyless_monitor::{Fetcher, Matcher};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the served log answers a batch read.
#[derive(Clone, Copy)]
enum Batch {
    Answer,
    NotAllowed,
    RepeatFirst,
}

fn body(i: u64) -> Vec<u8> {
    format!(r#"{{"apiVersion":"0.0.1","kind":"test","n":{i}}}"#).into_bytes()
}

fn entry(i: u64) -> Value {
    json!({ format!("{i:064x}"): {"body": STANDARD.encode(body(i)), "logIndex": i} })
}

/// One HTTP/1.1 request (headers and a Content-Length body).
async fn read_request(s: &mut tokio::net::TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            let mut words = head.split_whitespace();
            let method = words.next()?.to_string();
            let path = words.next()?.to_string();
            return Some((method, path, buf[end + 4..end + 4 + len].to_vec()));
        }
    }
}

/// Serve entries `0..size`; every request line is recorded in `seen`.
async fn serve(size: u64, batch: Batch, seen: Arc<Mutex<Vec<String>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some((method, path, req)) = read_request(&mut s).await {
                    seen.lock().unwrap().push(format!("{method} {path}"));
                    let (status, answer) = match (method.as_str(), path.as_str()) {
                        ("POST", "/api/v1/log/entries/retrieve") => match batch {
                            Batch::NotAllowed => ("405 Method Not Allowed", String::new()),
                            _ => {
                                let q: Value = serde_json::from_slice(&req).unwrap();
                                let mut list: Vec<Value> = q["logIndexes"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|i| entry(i.as_u64().unwrap()))
                                    .collect();
                                if matches!(batch, Batch::RepeatFirst) && list.len() > 1 {
                                    list[1] = list[0].clone();
                                }
                                ("200 OK", Value::from(list).to_string())
                            }
                        },
                        ("GET", p) => match p
                            .strip_prefix("/api/v1/log/entries?logIndex=")
                            .and_then(|i| i.parse::<u64>().ok())
                            .filter(|i| *i < size)
                        {
                            Some(i) => ("200 OK", entry(i).to_string()),
                            None => ("404 Not Found", String::new()),
                        },
                        _ => ("404 Not Found", String::new()),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
                        answer.len()
                    );
                    if s.write_all(head.as_bytes()).await.is_err()
                        || s.write_all(answer.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn matcher() -> Matcher {
    Matcher::new(Some("nobody@example.com".into()), None, None, Vec::new())
}

fn count(seen: &Mutex<Vec<String>>, prefix: &str) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn entries_are_read_ten_per_request_where_the_log_answers_the_batch_read() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = serve(100, Batch::Answer, seen.clone()).await;
    let mut batch = BatchRead::Unknown;
    let scanned = scan_range(&Fetcher::new(&url).unwrap(), 3, 28, &matcher(), &mut batch)
        .await
        .unwrap();
    let expected: Vec<_> = (3..28).map(|i| keyless_tlog::leaf_hash(&body(i))).collect();
    assert_eq!(scanned.leaves, expected, "every entry, in index order");
    assert_eq!(batch, BatchRead::Supported);
    // 25 entries: 10 + 10 + 5, and no single reads.
    assert_eq!(count(&seen, "POST /api/v1/log/entries/retrieve"), 3);
    assert_eq!(count(&seen, "GET "), 0, "{:?}", seen.lock().unwrap());
}

#[tokio::test]
async fn a_log_without_the_batch_read_is_read_one_entry_per_request() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = serve(100, Batch::NotAllowed, seen.clone()).await;
    let mut batch = BatchRead::Unknown;
    let scanned = scan_range(&Fetcher::new(&url).unwrap(), 0, 12, &matcher(), &mut batch)
        .await
        .unwrap();
    let expected: Vec<_> = (0..12).map(|i| keyless_tlog::leaf_hash(&body(i))).collect();
    assert_eq!(scanned.leaves, expected);
    assert_eq!(batch, BatchRead::Unsupported);
    // Asked once, then never again in the pass.
    assert_eq!(count(&seen, "POST "), 1);
    assert_eq!(count(&seen, "GET /api/v1/log/entries?logIndex="), 12);
    let _ = scan_range(&Fetcher::new(&url).unwrap(), 12, 14, &matcher(), &mut batch)
        .await
        .unwrap();
    assert_eq!(count(&seen, "POST "), 1);
}

#[tokio::test]
async fn a_batch_answer_that_repeats_an_entry_is_refused() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = serve(100, Batch::RepeatFirst, seen).await;
    let mut batch = BatchRead::Unknown;
    let Err(err) = scan_range(&Fetcher::new(&url).unwrap(), 0, 10, &matcher(), &mut batch).await
    else {
        panic!("a repeated entry is an error");
    };
    assert!(err.to_string().contains("answered twice"), "{err}");
}
