//! The scenarios, as data: adding one is a few lines in `SCENARIOS`. Each names its request, whether it needs
//! the population stored first, how it picks secret ids, and its target as a ratio to the baseline.

/// Which secret ids a scenario's requests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// No id in the path.
    None,
    /// Cycle through a sample of stored ids.
    Sample,
    /// Use every stored id once (for deletes).
    Consume,
}

/// What a scenario must reach (ratios to the baseline of the same run; p99 at the run's connections).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub min_ratio: f64,
    pub max_p99_ms: Option<f64>,
}

/// One benchmark scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub method: &'static str,
    /// Path with `{id}` where a secret id goes.
    pub path: &'static str,
    pub accept: Option<&'static str>,
    /// Whether the request carries the 1 KiB store body.
    pub store_body: bool,
    pub ids: Ids,
    /// Run after the population is stored; re-measured at 1M secrets with `--scale` when `scale` is set.
    pub after_population: bool,
    pub scale: bool,
    pub target: Option<Target>,
}

const fn target(min_ratio: f64, max_p99_ms: Option<f64>) -> Option<Target> {
    Some(Target {
        min_ratio,
        max_p99_ms,
    })
}

/// Every scenario, in the order they run.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "store 1 KiB secret (durable)",
        method: "POST",
        path: "/v1/secrets",
        accept: Some("application/json"),
        store_body: true,
        ids: Ids::None,
        after_population: false,
        scale: false,
        target: target(0.25, Some(10.0)),
    },
    Scenario {
        name: "get payload",
        method: "GET",
        path: "/v1/secrets/{id}/payload",
        accept: Some("text/plain"),
        store_body: false,
        ids: Ids::Sample,
        after_population: true,
        scale: true,
        target: target(0.50, Some(5.0)),
    },
    Scenario {
        name: "get metadata",
        method: "GET",
        path: "/v1/secrets/{id}",
        accept: Some("application/json"),
        store_body: false,
        ids: Ids::Sample,
        after_population: true,
        scale: true,
        target: target(0.50, None),
    },
    Scenario {
        name: "list page of 10",
        method: "GET",
        path: "/v1/secrets?limit=10",
        accept: Some("application/json"),
        store_body: false,
        ids: Ids::None,
        after_population: true,
        scale: true,
        target: target(0.30, None),
    },
    Scenario {
        name: "delete",
        method: "DELETE",
        path: "/v1/secrets/{id}",
        accept: None,
        store_body: false,
        ids: Ids::Consume,
        after_population: true,
        scale: false,
        target: None,
    },
];

/// The JSON body of a 1 KiB text secret.
pub fn store_body() -> String {
    let payload: String = (0..1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    format!(r#"{{"name":"bench","payload":"{payload}","payload_content_type":"text/plain"}}"#)
}
