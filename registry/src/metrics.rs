//! Request metrics in the Prometheus text format (`GET /metrics`): counts by route, method and
//! status, and a latency histogram by route.

use std::{collections::HashMap, fmt::Write, sync::Mutex, time::Duration};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct RouteStats {
    /// (method, status) → count.
    counts: Vec<(String, u16, u64)>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
}

impl Metrics {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match routes.get_mut(route) {
            Some(s) => s,
            None => routes.entry(route.to_string()).or_default(),
        };
        match stats
            .counts
            .iter_mut()
            .find(|(m, s, _)| m == method && *s == status)
        {
            Some(c) => c.2 += 1,
            None => stats.counts.push((method.to_string(), status, 1)),
        }
        let secs = elapsed.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                stats.buckets[i] += 1;
            }
        }
        stats.sum += secs;
        stats.count += 1;
    }

    /// Renders every metric, plus the extra gauges given, in the Prometheus text format.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        let mut out = String::new();
        out.push_str("# HELP imagenest_http_requests_total HTTP requests answered, by route, method and status.\n");
        out.push_str("# TYPE imagenest_http_requests_total counter\n");
        for route in &names {
            let mut counts = routes[*route].counts.clone();
            counts.sort();
            for (method, status, n) in counts {
                let _ = writeln!(
                    out,
                    "imagenest_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP imagenest_http_request_duration_seconds Time to answer HTTP requests, by route.\n");
        out.push_str("# TYPE imagenest_http_request_duration_seconds histogram\n");
        for route in &names {
            let s = &routes[*route];
            let r = escape(route);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "imagenest_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "imagenest_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "imagenest_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "imagenest_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                s.count
            );
        }
        // Gauges may carry labels (`name{label="x"}`): HELP and TYPE once per metric name.
        let mut described = std::collections::HashSet::new();
        for (name, help, value) in gauges {
            let base = name.split('{').next().unwrap_or(name);
            if described.insert(base) {
                let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} gauge");
            }
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::default();
        m.record("/v1/resolve", "GET", 200, Duration::from_micros(300));
        m.record("/v1/resolve", "GET", 200, Duration::from_millis(3));
        m.record("/v1/resolve", "GET", 404, Duration::from_millis(3));
        let text = m.render(&[
            ("imagenest_up", "Whether the registry runs.", 1.0),
            (
                "imagenest_region_copies{status=\"pending\"}",
                "Region copies.",
                2.0,
            ),
            (
                "imagenest_region_copies{status=\"available\"}",
                "Region copies.",
                3.0,
            ),
        ]);
        assert_eq!(
            text.matches("# TYPE imagenest_region_copies gauge").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("imagenest_region_copies{status=\"available\"} 3"),
            "{text}"
        );
        assert!(text.contains("imagenest_http_requests_total{route=\"/v1/resolve\",method=\"GET\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("imagenest_http_request_duration_seconds_bucket{route=\"/v1/resolve\",le=\"0.0005\"} 1"), "{text}");
        assert!(
            text.contains("imagenest_http_request_duration_seconds_count{route=\"/v1/resolve\"} 3"),
            "{text}"
        );
        assert!(text.contains("imagenest_up 1"));
    }
}
