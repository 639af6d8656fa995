//! A loopback HTTP server answering GETs from an in-memory map of paths
//! to bodies: the fake logs the monitor tests read (tiles, or the Rekor
//! v1 API), whose content a test replaces to rewrite history.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// Path (without the leading '/', query included) to body.
pub type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Serve `files` on 127.0.0.1 from a background thread: 200 with the body,
/// or 404. Returns the base URL.
pub fn serve_files(files: Files) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("/");
            let body = files
                .lock()
                .unwrap()
                .get(path.trim_start_matches('/'))
                .cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    url
}
