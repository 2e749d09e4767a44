"""Webhook intake at the limit (``ttns bench webhooks``): the project's verify → persist → answer path beside
the least a receiver can do, in one run, on one database.

Both apps run at once under gunicorn with ``ttns web``'s settings: the project (``ttns web`` itself) and
``bridge.benchmarks.bare_webhook`` (verify the same HMAC, insert one row). The database holds a backlog of
queued jobs (100,000 by default) and worker processes (the project's ``Worker``) claim and run them the
whole time, each job holding its thread as long as a NetSuite call would (``job_seconds``), so the backlog
stays and the webhook writes share the database with claims and completions. The order-sync jobs the
webhooks cause run the same stand-in handler; the shop's sales intake (queued by every new-order webhook,
coalesced) a shorter one on the urgent threads.

A separate process (``bridge.benchmarks.webhook_load``) sends correctly signed order-status webhooks at each
offered rate, to one app and then the other (which goes first alternates per rate), and measures each
answer as the sender sees it. A rate is *kept* when the app achieved ≥ 95% of it, every answer was 200 and
p99 < 50 ms.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bridge.benchmarks.harness import REPO, free_port, percentile, wait_http
from bridge.clock import SystemClock
from bridge.domain.keys import order_key
from bridge.flows.sales_intake import KIND_INTAKE

P99_TARGET_MS = 50.0
KEPT_SHARE = 0.95
APP_KEY, APP_SECRET = "benchappkey", "bench-app-secret-not-real"
SHOP = "7494049642642441621"
JOB_KIND = "orders.sync"  # the backlog of a livestream: orders waiting for NetSuite
INTAKE_SECONDS = 0.1  # the sales intake's stand-in: one Get Order Detail


@dataclass(frozen=True)
class Point:
    engine: str
    app: str  # "ttns" | "bare"
    offered: float
    achieved: float
    sent: int
    p50_ms: float | None
    p99_ms: float | None
    errors: int  # answers other than 200, and failed connections
    sender_late_p99_ms: float | None  # how far the load generator itself fell behind its schedule
    cpu_ms_per_webhook: float | None = None  # CPU the app's gunicorn processes spent per answer (user + system)

    @property
    def kept(self) -> bool:
        return (self.achieved >= KEPT_SHARE * self.offered and self.errors == 0 and self.p99_ms is not None
                and self.p99_ms < P99_TARGET_MS)


@dataclass
class EngineRun:
    engine: str
    points: list[Point] = field(default_factory=list)
    backlog_before: int = 0
    backlog_after: int = 0
    inbox_rows: int = 0
    jobs_from_webhooks: int = 0

    def best_kept(self, app: str) -> float:
        """The highest offered rate ``app`` kept (every lower rate kept too)."""
        best = 0.0
        for p in sorted((p for p in self.points if p.app == app), key=lambda p: p.offered):
            if not p.kept:
                break
            best = p.offered
        return best


def fill_backlog(url: str, n: int, keys: int = 5000) -> None:
    """``n`` queued jobs due now, spread over ``keys`` keys: a queue that has fallen behind."""
    from bridge.store.db import make_engine
    from bridge.store.tables import jobs

    engine = make_engine(url, pool_size=1)
    now = SystemClock().now()
    try:
        with engine.begin() as conn:
            for start in range(0, n, 5000):
                conn.execute(insert(jobs), [{
                    "kind": JOB_KIND, "key": order_key(SHOP, str(900000 + i % keys)), "payload": {},
                    "idempotency_key": f"backlog:{i}",
                    "status": "queued", "priority": 100, "attempts": 0, "max_attempts": 8,
                    "run_at": now - timedelta(minutes=5), "correlation_id": "", "created_at": now, "updated_at": now,
                } for i in range(start, min(n, start + 5000))])
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE jobs"))
    finally:
        engine.dispose()


def count_jobs(url: str) -> dict[str, int]:
    from bridge.store.db import make_engine
    from bridge.store.tables import inbox, jobs

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as c:
            backlog = c.execute(select(func.count()).select_from(jobs).where(
                jobs.c.status == "queued")).scalar_one()
            synced = c.execute(select(func.count()).select_from(jobs).where(
                jobs.c.kind == JOB_KIND, jobs.c.idempotency_key.not_like("backlog:%"))).scalar_one()
            events = c.execute(select(func.count()).select_from(inbox)).scalar_one()
    finally:
        engine.dispose()
    return {"backlog": int(backlog), "order_sync_jobs": int(synced), "inbox": int(events)}


# -- the worker processes -----------------------------------------------------------------------


def worker_main(url: str, threads: int, job_seconds: float, name: str) -> None:
    """A worker process: the project's ``Worker`` on the benchmark's database, every job a stand-in for a
    NetSuite call (it holds its thread ``job_seconds``)."""
    from bridge.ports.jobs import JobContext
    from bridge.store import Store
    from bridge.worker.registry import Registry
    from bridge.worker.runner import Worker, WorkerConfig

    store = Store.from_url(url, pool_size=threads + 2)
    registry = Registry()

    def call(_ctx: JobContext) -> dict[str, Any]:
        time.sleep(job_seconds)
        return {}

    registry.handler(JOB_KIND, call)

    def intake(_ctx: JobContext) -> dict[str, Any]:
        time.sleep(INTAKE_SECONDS)
        return {}

    # The shop's sales intake each new-order webhook also queues (coalesced), on the urgent threads as in
    # `ttns worker`: a TikTok read, no NetSuite.
    registry.handler(KIND_INTAKE, intake, urgent=True)
    worker = Worker(store.queue, registry, store.exceptions, peers=store.peers,
                    config=WorkerConfig(threads=threads, name=name, shutdown_grace=2.0))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop)
    store.dispose()


# -- the run ------------------------------------------------------------------------------------


@contextmanager
def _processes(log_dir: Path) -> Iterator[Callable[[list[str], str, dict[str, str]], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(args: list[str], name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        out = (log_dir / f"{name}.log").open("ab")
        p = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=out, stderr=out,
                             start_new_session=True)
        procs.append(p)
        return p

    try:
        yield spawn
    finally:
        for p in procs:
            with suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


def _load(url: str, rate: float, seconds: float, senders: int, out: Path, orders: list[list[Any]],
          env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.benchmarks.webhook_load", url, APP_KEY, str(rate), str(seconds), str(out),
         str(senders)],
        input=json.dumps({"orders": orders, "shop_id": SHOP}).encode(), env=env, cwd=REPO, capture_output=True,
        timeout=seconds * 6 + 60, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        raise RuntimeError(f"the webhook load generator failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children (gunicorn's master and workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _point(engine: str, app: str, rate: float, data: dict[str, Any], cpu: float | None = None) -> Point:
    lat = data["latencies_ms"]
    statuses = {int(k): v for k, v in data["statuses"].items()}
    p50, p99, late = percentile(lat, 50), percentile(lat, 99), percentile(data.get("late_ms") or [], 99)
    return Point(engine, app, rate, round(data["achieved_rate"], 1), len(lat),
                 None if p50 is None else round(p50, 2), None if p99 is None else round(p99, 2),
                 sum(n for s, n in statuses.items() if s != 200), None if late is None else round(late, 1),
                 None if cpu is None or not lat else round(cpu * 1000 / len(lat), 2))


def run_engine(
    engine: str, url: str, *, rates: tuple[float, ...], seconds: float, backlog: int, worker_processes: int,
    worker_threads: int, job_seconds: float, senders: int, work: Path, log: Callable[[str], None],
    stop_after_misses: int = 2, warm_seconds: float = 2.0, pause_seconds: float = 1.0,
) -> EngineRun:
    """Both apps on one database with a backlog and workers; the load at each rate, alternating the app that
    goes first. Stops after ``stop_after_misses`` rates at which neither app achieved 90% of the offered rate
    (both saturated: higher rates say nothing more)."""
    from bridge.benchmarks.bare_webhook import create_table
    from bridge.store.db import upgrade

    work.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    create_table(url)
    log(f"{engine}: {backlog:,} queued jobs")
    fill_backlog(url, backlog)
    result = EngineRun(engine, backlog_before=count_jobs(url)["backlog"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTNS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(TTNS_DATABASE_URL=url, TTNS_TIKTOK_APP_KEY=APP_KEY, TTNS_TIKTOK_APP_SECRET=APP_SECRET,
               TTNS_LOG_LEVEL="WARNING", TTNS_BENCH_APP_SECRET=APP_SECRET, PYTHONPATH=str(REPO))
    ports = {"ttns": free_port(), "bare": free_port()}
    orders = [[str(576486316948490000 + i), 1764547200] for i in range(5000)]
    with _processes(work) as spawn:
        for i in range(worker_processes):
            spawn(["-m", "bridge.benchmarks.webhooks", url, str(worker_threads), str(job_seconds), f"bench-{i}"],
                  f"{engine}-worker-{i}", env)
        web = {"ttns": spawn(["-m", "bridge.cli", "web", "--bind", f"127.0.0.1:{ports['ttns']}"], f"{engine}-ttns-web",
                             env),
               "bare": spawn(["-m", "bridge.benchmarks.bare_webhook", f"127.0.0.1:{ports['bare']}"],
                             f"{engine}-bare-web", env)}
        for port in ports.values():
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=90)
        # Warm both (connections, imports, the first requests' one-off costs) before measuring.
        for app, port in ports.items():
            _load(f"http://127.0.0.1:{port}/webhooks/tiktok", 50, warm_seconds, senders, work / f"warm-{app}.json",
                  orders, env)
        misses = 0
        for n, rate in enumerate(rates):
            order = ("ttns", "bare") if n % 2 == 0 else ("bare", "ttns")
            kept_up = False
            for app in order:
                cpu0 = cpu_seconds(web[app].pid)
                data = _load(f"http://127.0.0.1:{ports[app]}/webhooks/tiktok", rate, seconds, senders,
                             work / f"{engine}-{app}-{int(rate)}.json", orders, env)
                p = _point(engine, app, rate, data, cpu_seconds(web[app].pid) - cpu0)
                result.points.append(p)
                kept_up = kept_up or p.achieved >= 0.9 * rate
                log(f"{engine} {app:>4} offered {rate:>6,.0f}/s: achieved {p.achieved:>7,.1f}/s, p50 {p.p50_ms} ms, "
                    f"p99 {p.p99_ms} ms, errors {p.errors}, sender late p99 {p.sender_late_p99_ms} ms, "
                    f"CPU {p.cpu_ms_per_webhook} ms per webhook")
                time.sleep(pause_seconds)
            misses = 0 if kept_up else misses + 1
            if misses >= stop_after_misses:
                break
        counts = count_jobs(url)
    result.backlog_after = counts["backlog"]
    result.inbox_rows = counts["inbox"]
    result.jobs_from_webhooks = counts["order_sync_jobs"]
    return result


def main() -> None:
    worker_main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])


if __name__ == "__main__":
    main()
