//! Headless Chromium driven through chromedriver (WebDriver over
//! HTTP/JSON), for the explorer test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::support::free_base_port;

pub fn find(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.is_file())
}

/// A chromedriver child and one headless Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Browser {
    pub fn start(chromium: &Path, chromedriver: &Path) -> Self {
        let port = free_base_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut b = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            rt,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = b
                .call(reqwest::Method::GET, "/status", None)
                .ok()
                .is_some_and(|v| v["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,1000"]
            }
        }}});
        let v = b
            .call(reqwest::Method::POST, "/session", Some(caps))
            .expect("new WebDriver session");
        b.session = v["sessionId"].as_str().expect("sessionId").to_string();
        b
    }

    /// One WebDriver command; the `value` of its answer.
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let mut req = self
                .http
                .request(method, &url)
                .timeout(Duration::from_secs(60));
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let v: Value = resp.json().await.map_err(|e| e.to_string())?;
            if status.is_success() {
                Ok(v["value"].clone())
            } else {
                Err(format!("{status}: {v}"))
            }
        })
    }

    pub fn session_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body)
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    pub fn open(&self, url: &str) {
        self.session_call(reqwest::Method::POST, "/url", Some(json!({ "url": url })));
    }

    pub fn script(&self, script: &str, args: Value) -> Value {
        self.session_call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    pub fn script_async(&self, script: &str, args: Value) -> Value {
        self.session_call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// The text of element `#id` once the page is done, waiting for it.
    pub fn text_of(&self, id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.script(
                "const e = document.getElementById(arguments[0]); \
                 return document.body.dataset.ready === 'true' && e ? e.textContent : null;",
                json!([id]),
            );
            if let Some(s) = v.as_str() {
                return s.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no #{id} on the page; it shows: {}",
                self.script("return document.body.innerText", json!([]))
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn page_text(&self) -> String {
        self.script("return document.body.innerText", json!([]))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn screenshot(&self, dir: &Path, name: &str) {
        let v = self.session_call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("screenshot"))
            .expect("screenshot base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        std::fs::write(dir.join(name), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call(
                reqwest::Method::DELETE,
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
