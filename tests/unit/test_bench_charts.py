"""Charts are redrawn from a run's saved figures, whichever phases it ran."""

import json
from pathlib import Path

from bridge.benchmarks.flash_sale import write_charts


def test_charts_from_a_partial_run(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text(json.dumps({
        "options": {"webhook_rate": 200, "database": "sqlite", "write_path": "rest", "worker_processes": 1},
        "machine": {"cpus": 2},
        "phases": {"webhook acknowledgement": {"latency_ms": {"p50": 2.0, "p95": 8.0, "p99": 30.0}},
                   "burst": {"skipped": "not chosen"}}}))
    (tmp_path / "series.json").write_text(json.dumps({"webhook_ack_ms": [1.0, 2.0, 3.5, 40.0]}))
    written = {p.name for p in write_charts(tmp_path, log=lambda _m: None)}
    assert written == {"webhook_ack.png", "summary.png"}
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_full_run_draws_every_chart(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text(json.dumps({
        "options": {"webhook_rate": 200, "netsuite_concurrency": 5},
        "phases": {
            "steady state": {"order_to_sales_order_s": {"p50": 1.1, "p95": 1.4}},
            "burst": {"orders": 3, "sales_orders_per_s_sustained": 8.1, "modelled_ceiling_per_s": 8.9,
                      "share_of_ceiling": 0.91, "netsuite_calls_per_order": 1.0, "duplicate_sales_orders": 0,
                      "missing_sales_orders": 0},
            "stock change → TikTok": {"latency_s": {"p50": 1.7, "p95": 1.9}, "tiktok_inventory_calls_per_change": 1.0},
            "oversell": {"default_buffer": {"buffer": 1, "oversold_units": 15, "web_store_units_per_s": 5.0}}}}))
    (tmp_path / "series.json").write_text(json.dumps({
        "burst_completions": [1.0, 1.2, 1.3], "burst_latency_s": [1.0, 1.2, 1.3], "stock_latency_s": [1.7, 1.9]}))
    written = {p.name for p in write_charts(tmp_path, log=lambda _m: None)}
    assert written == {"burst_throughput.png", "latency_cdf.png", "summary.png"}


def test_a_burst_only_run_draws_its_charts(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text(json.dumps({
        "options": {"write_path": "restlet"},
        "phases": {"burst": {"orders": 2, "sales_orders_per_s_sustained": 23.4, "modelled_ceiling_per_s": 75.8,
                             "share_of_ceiling": 0.31, "netsuite_calls_per_order": 0.23}}}))
    (tmp_path / "series.json").write_text(json.dumps({"burst_completions": [1.0, 2.0], "burst_latency_s": [1.0, 2.0]}))
    written = {p.name for p in write_charts(tmp_path, log=lambda _m: None)}
    assert written == {"burst_throughput.png", "latency_cdf.png", "summary.png"}
