//! A smoke test of the benchmark harness (not a benchmark): `arca-bench --smoke` against the debug `arca`
//! must run every scenario without a failed request and write its JSON results. Timings are not judged.

use std::path::PathBuf;
use std::process::Command;

fn debug_arca() -> PathBuf {
    // target/debug/deps/smoke-… → target/debug/arca, built by the same cargo run (arca-cli's tests need it).
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("arca")
}

#[test]
fn harness_runs_every_scenario_without_errors() {
    let arca = debug_arca();
    assert!(
        arca.exists(),
        "{} is missing: build arca-cli first",
        arca.display()
    );
    let out_dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_arca-bench"))
        .arg("--smoke")
        .arg("--arca-bin")
        .arg(&arca)
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .expect("run arca-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "arca-bench failed\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("baseline: bare axum hello"), "{stdout}");
    // wrk ran as SCHED_BATCH, as the run says it did (a policy it could not set fails the run).
    assert!(stdout.contains("wrk scheduled as SCHED_BATCH"), "{stdout}");

    let file = std::fs::read_dir(out_dir.path())
        .expect("results dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with("-smoke.json"))
        .expect("a -smoke.json result file");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file.path()).expect("read results"))
            .expect("JSON");
    assert_eq!(report["wrk_scheduling"], "batch");
    let rows = report["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["scenario"].as_str()).collect();
    for wanted in [
        "store 1 KiB secret",
        "get payload",
        "get metadata",
        "list page of 10",
        "delete",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(wanted)),
            "no {wanted} row in {names:?}"
        );
    }
    for row in rows {
        assert_eq!(row["errors"], 0, "failed requests in {row}");
        assert!(
            row["rps"].as_f64().unwrap_or(0.0) > 0.0,
            "no requests in {row}"
        );
        // The server's CPU time during the measurement, read from /proc around it.
        assert!(
            row["measured"]["server_cpu_us"].as_u64().unwrap_or(0) > 0,
            "no server CPU time in {row}"
        );
    }
    assert!(report["baseline"]["server_cpu_us"].as_u64().unwrap_or(0) > 0);
    assert!(stdout.contains("server µs"), "{stdout}");
    assert!(report["baseline"]["requests"].as_u64().unwrap_or(0) > 0);
    // Measured at both ends of the run; the ratios are to the faster of the two.
    let rps = |m: &serde_json::Value| {
        m["requests"].as_f64().unwrap_or(0.0) * 1e6 / m["duration_us"].as_f64().unwrap_or(f64::MAX)
    };
    let (first, last) = (rps(&report["baseline_start"]), rps(&report["baseline_end"]));
    assert!(first > 0.0 && last > 0.0, "two baseline measurements");
    assert_eq!(rps(&report["baseline"]), first.max(last));
    assert!(report["idle_rss"].as_u64().unwrap_or(0) > 0);
    assert!(report["db_bytes_per_secret"].as_f64().unwrap_or(0.0) > 0.0);
}
