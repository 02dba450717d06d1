//! What an operator's monitoring reads at `/metrics`, in Prometheus's text
//! format: requests by route, method and status, their latency, the
//! submission writer's batch sizes, background jobs done and failed, the
//! job queue's depth, and the process's memory.
//!
//! Counters live in memory per node (Prometheus scrapes every node); the
//! queue depth is read from the database at each scrape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// The upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The upper bounds of the batch-size buckets.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 256.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound (cumulative when rendered).
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.buckets.len() != bounds.len() {
            self.buckets = vec![0; bounds.len()];
        }
        if let Some(i) = bounds.iter().position(|b| value <= *b)
            && let Some(b) = self.buckets.get_mut(i)
        {
            *b += 1;
        }
        self.count += 1;
        self.sum += value;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let mut cumulative = 0;
        for (bound, n) in bounds.iter().zip(&self.buckets) {
            cumulative += n;
            let sep = if labels.is_empty() { "" } else { "," };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let sep = if labels.is_empty() { "" } else { "," };
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → requests.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency.
    latency: BTreeMap<String, Histogram>,
    batches: Histogram,
    /// job kind → (done, failed).
    jobs: BTreeMap<String, (u64, u64)>,
}

/// This node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner)
    }

    /// One request answered: its route (the pattern, `/applications/{id}`),
    /// method, status and how long it took.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.with(|m| {
            *m.requests
                .entry((route.to_string(), method.to_string(), status))
                .or_default() += 1;
            m.latency
                .entry(route.to_string())
                .or_default()
                .observe(&LATENCY_BUCKETS, seconds);
        });
    }

    /// One batch written by the submission writer.
    pub fn batch(&self, size: usize) {
        self.with(|m| m.batches.observe(&BATCH_BUCKETS, size as f64));
    }

    /// One background job done (or failed).
    pub fn job(&self, kind: &str, ok: bool) {
        self.with(|m| {
            let e = m.jobs.entry(kind.to_string()).or_default();
            if ok {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        });
    }

    /// The Prometheus text exposition of the counters, with the gauges given.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        self.with(|m| {
            out.push_str("# HELP madoguchi_http_requests_total Requests answered, by route, method and status.\n");
            out.push_str("# TYPE madoguchi_http_requests_total counter\n");
            for ((route, method, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "madoguchi_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    escape(route),
                    escape(method)
                );
            }
            out.push_str("# HELP madoguchi_http_request_duration_seconds Time to answer a request, by route.\n");
            out.push_str("# TYPE madoguchi_http_request_duration_seconds histogram\n");
            for (route, h) in &m.latency {
                h.render(
                    &mut out,
                    "madoguchi_http_request_duration_seconds",
                    &format!("route=\"{}\"", escape(route)),
                    &LATENCY_BUCKETS,
                );
            }
            out.push_str("# HELP madoguchi_writer_batch_size Submissions written per transaction by the group-commit writer.\n");
            out.push_str("# TYPE madoguchi_writer_batch_size histogram\n");
            m.batches
                .render(&mut out, "madoguchi_writer_batch_size", "", &BATCH_BUCKETS);
            out.push_str("# HELP madoguchi_jobs_total Background jobs run, by kind and result.\n");
            out.push_str("# TYPE madoguchi_jobs_total counter\n");
            for (kind, (done, failed)) in &m.jobs {
                let kind = escape(kind);
                let _ = writeln!(out, "madoguchi_jobs_total{{kind=\"{kind}\",result=\"done\"}} {done}");
                let _ = writeln!(out, "madoguchi_jobs_total{{kind=\"{kind}\",result=\"failed\"}} {failed}");
            }
        });
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

/// A label value as the text format needs it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The process's resident memory in bytes (Linux), if it can be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_is_what_prometheus_reads() {
        let m = Metrics::new();
        m.request("/applications/{id}", "GET", 200, 0.003);
        m.request("/applications/{id}", "GET", 200, 0.2);
        m.request("/a\"b", "POST", 500, 20.0);
        m.batch(3);
        m.job("notify.decision", true);
        m.job("notify.decision", false);
        let text = m.render(&[("madoguchi_jobs_queued", "Jobs waiting.", 4.0)]);
        assert!(text.contains(
            "madoguchi_http_requests_total{route=\"/applications/{id}\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("madoguchi_http_request_duration_seconds_bucket{route=\"/applications/{id}\",le=\"0.005\"} 1"));
        assert!(text.contains("madoguchi_http_request_duration_seconds_bucket{route=\"/applications/{id}\",le=\"0.25\"} 2"));
        assert!(text.contains(
            "madoguchi_http_request_duration_seconds_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("madoguchi_writer_batch_size_bucket{le=\"4\"} 1"));
        assert!(
            text.contains("madoguchi_jobs_total{kind=\"notify.decision\",result=\"failed\"} 1")
        );
        assert!(text.contains("madoguchi_jobs_queued 4"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
