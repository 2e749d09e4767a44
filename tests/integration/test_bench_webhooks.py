"""`ttns bench webhooks` end to end at a low rate: both apps answer every signed webhook 200, the project's
answers are stored with their jobs, and each point carries the figures the README table reads. (The figures
themselves come from the benchmark, never from this test.)"""

from __future__ import annotations

from pathlib import Path

from bridge.benchmarks.webhooks import count_jobs, run_engine


def test_a_short_curve_on_sqlite_stores_every_webhook_of_the_project(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    run = run_engine("sqlite", url, rates=(20.0,), seconds=2.0, backlog=300, worker_processes=1, worker_threads=2,
                     job_seconds=0.05, senders=4, work=tmp_path / "out", log=lambda _m: None, warm_seconds=0.5,
                     pause_seconds=0.1)
    points = {p.app: p for p in run.points}
    assert set(points) == {"ttns", "bare"}
    for p in points.values():
        assert p.sent == 40 and p.errors == 0 and p.p50_ms is not None and p.p99_ms is not None
        assert p.cpu_ms_per_webhook is not None and p.cpu_ms_per_webhook > 0
    assert run.backlog_before == 300
    counts = count_jobs(url)
    warm_up = 25  # 50/s for 0.5 s before the curve
    assert counts["inbox"] == warm_up + 40  # every answered webhook is in the inbox
    # With the job each caused: the curve's webhooks name the warm-up's first 40 orders again, so those join the
    # warm-up's job when it is still waiting (coalesced) or get their own.
    assert warm_up <= counts["order_sync_jobs"] <= warm_up + 40
