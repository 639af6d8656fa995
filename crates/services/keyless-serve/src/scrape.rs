//! Reading the Prometheus text format (version 0.0.4): what the tests and
//! probes use to check `/metrics` as Prometheus would read it.
//! (`prometheus-parse` cannot read a `}` inside a label value, which route
//! patterns such as `/entries/{id}` contain.)

/// A line `/metrics` should not contain.
#[derive(Debug, thiserror::Error)]
#[error("malformed Prometheus text: {reason} in {line:?}")]
pub struct ScrapeError {
    reason: &'static str,
    line: String,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, if the sample has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse a scrape: `# HELP`/`# TYPE` comments, then lines of
/// `name{label="value",...} value [timestamp]`, label values escaped with
/// `\\`, `\"` and `\n`. Anything else is an error.
pub fn parse(text: &str) -> Result<Vec<Sample>, ScrapeError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |reason| ScrapeError {
            reason,
            line: line.to_owned(),
        };
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE") {
                let kind = words.nth(1).unwrap_or_default();
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(err("unknown TYPE"));
                }
            }
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..name_end];
        if name.is_empty() {
            return Err(err("no metric name"));
        }
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(mut r) = rest.strip_prefix('{') {
            loop {
                if let Some(after) = r.strip_prefix('}') {
                    r = after;
                    break;
                }
                let eq = r.find('=').ok_or_else(|| err("label without ="))?;
                let key = r[..eq].trim_start_matches(',').trim().to_owned();
                let mut chars = r[eq + 1..].char_indices();
                if !matches!(chars.next(), Some((_, '"'))) {
                    return Err(err("unquoted label value"));
                }
                let mut value = String::new();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, e @ ('\\' | '"'))) => value.push(e),
                            _ => return Err(err("bad escape")),
                        },
                        '"' => {
                            end = Some(eq + 1 + i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                let end = end.ok_or_else(|| err("unterminated label value"))?;
                labels.push((key, value));
                r = &r[end..];
            }
            rest = r;
        }
        let value = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| err("no value"))?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| err("value is not a number"))?,
        };
        out.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(out)
}

/// The sum of the samples `name` whose labels include all of `labels` (0
/// when there is none).
pub fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .map(|s| s.value)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_escapes_and_braces_in_label_values() {
        let text = "# TYPE x counter\nx{route=\"/a/{id}\",msg=\"q\\\"\\\\\\n\"} 2\nx 1.5 123\n";
        let s = parse(text).unwrap_or_default();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].label("route"), Some("/a/{id}"));
        assert_eq!(s[0].label("msg"), Some("q\"\\\n"));
        assert_eq!(sum(&s, "x", &[]), 3.5);
        assert_eq!(sum(&s, "x", &[("route", "/a/{id}")]), 2.0);
    }

    #[test]
    fn rejects_what_prometheus_would() {
        for bad in [
            "x{a=b} 1",
            "x{a=\"b} 1",
            "x",
            "x notanumber",
            "{a=\"b\"} 1",
            "# TYPE x bogus",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
