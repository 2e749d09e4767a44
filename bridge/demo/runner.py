"""The demo: the bridge (web, worker, scheduler) on SQLite against both sandboxes with the real
SuiteScript, driving a livestream-style scenario and reporting what happened.

Everything runs in this process (threads) except the SuiteScript, which runs in Node through the
NetSuite sandbox's harness; every hop between bridge, sandboxes and scripts is real HTTP.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bridge.benchmarks.harness import percentile
from bridge.bootstrap import App, build
from bridge.domain.order_memory import OrderMemory
from bridge.errors import SkippableError
from bridge.logs import configure_logging
from bridge.private_files import append_private
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.web import create_app
from bridge.worker.scheduler import build_scheduler

log = logging.getLogger("bridge.demo")


@dataclass
class DemoOptions:
    orders: int = 40
    workdir: Path | None = None
    threads: int = 8
    json_file: Path | None = None
    exit_when_done: bool = False
    bridge_port: int = 0
    run_scripts: bool = True
    seed: int = 11
    timeout: float = 300.0


@dataclass
class Step:
    name: str
    status: str = "waiting"  # waiting | running | done | skipped | failed
    detail: str = ""
    seconds: float | None = None  # how long the step took (where a demo run's time goes)


@dataclass
class DemoState:
    """What the live view and the final report show; the scenario fills it in."""

    steps: list[Step] = field(default_factory=list)
    placed_at: dict[str, float] = field(default_factory=dict)  # order id → wall time placed
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    bridge_url: str = ""
    console_user: str = ""
    console_password: str = ""
    shipped: list[str] = field(default_factory=list)
    settlement: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        s = Step(name)
        self.steps.append(s)
        return s


@dataclass
class Demo:
    """A running demo world: sandboxes, the bridge and its worker/scheduler threads."""

    options: DemoOptions
    world: SandboxWorld
    container: App
    state: DemoState
    stop: threading.Event
    session: requests.Session
    threads: list[threading.Thread] = field(default_factory=list)
    scheduler: Any = None

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until no job is queued or running (and due); True when the queue went quiet."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            counts = self.container.store.queue.counts()
            busy = counts.get("running", 0) + self._due_queued()
            if busy == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.6:
                    return True
            else:
                quiet_since = None
            time.sleep(0.1)
        return False

    def _due_queued(self) -> int:
        """Queued jobs due now or within a few seconds (coalesced stock pushes wait a short window). A
        raised buffer's recheck is not waited for: it comes back every few seconds for as long as the
        buffer stays raised (a minute after a spike), it is upkeep, not what a step caused (waiting for
        it was most of the demo's time between steps)."""
        from datetime import timedelta

        from sqlalchemy import func, select

        from bridge.flows.inventory import KIND_RECHECK
        from bridge.store.tables import jobs

        now = self.container.clock.now() + timedelta(seconds=5)
        with self.container.store.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(jobs).where(
                jobs.c.status == "queued", jobs.c.run_at <= now, jobs.c.kind != KIND_RECHECK)).scalar_one())


@contextmanager
def running_demo(options: DemoOptions) -> Iterator[Demo]:
    """Start everything; stop it all on exit."""
    tmp = None
    if options.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ttns-demo-")
        workdir = Path(tmp.name)
    else:
        workdir = options.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    world = SandboxWorld(workdir, run_scripts=options.run_scripts, ports=(0, 0, options.bridge_port))
    world.start()
    db = f"sqlite:///{workdir / 'bridge.db'}"
    upgrade(db)
    settings = world.settings(db, log_format="json", log_level="INFO")
    log_file = append_private(workdir / "bridge.log")
    configure_logging("INFO", "json", stream=log_file)
    container = build(settings)
    world.serve(create_app(root=container))
    state = DemoState(bridge_url=world.bridge_url)
    state.console_user = "demo"
    state.console_password = secrets.token_urlsafe(12)
    container.store.users.add(state.console_user, state.console_password)
    stop = threading.Event()
    demo = Demo(options, world, container, state, stop, requests.Session())
    worker = container.worker(threads=options.threads, name="demo-worker")
    t = threading.Thread(target=worker.run, args=(stop,), name="demo-worker", daemon=True)
    t.start()
    demo.threads.append(t)
    demo.scheduler = build_scheduler(container.store.queue, container.registry.schedules(), blocking=False)
    demo.scheduler.start()
    try:
        yield demo
    finally:
        stop.set()
        try:
            demo.scheduler.shutdown(wait=False)
        except Exception:
            log.exception("scheduler shutdown")
        for th in demo.threads:
            th.join(timeout=15)
        container.close()
        world.close()
        log_file.close()
        if tmp is not None:
            tmp.cleanup()


# --- figures ------------------------------------------------------------------------------------


def figures(demo: Demo) -> dict[str, Any]:
    """The numbers the live view and the final report show (read from the bridge's own store)."""
    from sqlalchemy import func, select

    from bridge.store.tables import api_calls, links

    store = demo.container.store
    shop = demo.world.shop_id
    placed = demo.state.placed_at
    synced_links = store.links.get_many("order", shop, list(placed))
    latencies = []
    for oid, t0 in placed.items():
        link = synced_links.get(oid)
        if link is not None and link.netsuite_id and link.synced_at is not None:
            first = OrderMemory.parse(link.data).first_synced_at or link.synced_at.timestamp()
            latencies.append(max(0.0, first - t0))
    with store.engine.connect() as c:
        by_status: dict[str, int] = dict(c.execute(select(links.c.status, func.count()).where(
            links.c.kind == "order", links.c.shop_id == shop).group_by(links.c.status)).all())
        calls = {(s, op): n for s, op, n in c.execute(select(api_calls.c.system, api_calls.c.operation,
                                                             func.count()).group_by(api_calls.c.system,
                                                                                    api_calls.c.operation)).all()}
    netsuite_calls = sum(n for (s, _op), n in calls.items() if s == "netsuite")
    with store.engine.connect() as c:
        from bridge.store.tables import jobs

        order_calls = int(c.execute(select(func.count()).select_from(api_calls.join(
            jobs, jobs.c.id == api_calls.c.job_id)).where(api_calls.c.system == "netsuite",
                                                           jobs.c.kind == "orders.sync")).scalar_one())
    tiktok_calls = {op: n for (s, op), n in calls.items() if s == "tiktok"}
    stock_pushes = sum(n for op, n in tiktok_calls.items() if "inventory" in op and "update" in op)
    tracking = sum(n for op, n in tiktok_calls.items()
                   if op.startswith("fulfillment.") and any(w in op for w in ("ship", "shipping_info")))
    exceptions = store.exceptions.list(status="open", limit=1000)
    with_so = sum(1 for oid in placed if (ln := synced_links.get(oid)) is not None and ln.netsuite_id)
    return {
        "orders_placed": len(placed),
        "orders_with_sales_order": with_so,
        "order_links_by_status": {str(k): int(v) for k, v in by_status.items()},
        "order_to_sales_order_seconds": {
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "max": max(latencies, default=None)},
        "netsuite_calls": netsuite_calls,
        "netsuite_calls_per_order": round(order_calls / with_so, 2) if with_so else None,
        "tiktok_calls": sum(tiktok_calls.values()),
        "stock_pushes": stock_pushes,
        "tracking_pushes": tracking,
        "jobs": store.queue.counts(),
        "exceptions_open": [{"id": e.id, "owner": e.owner, "code": e.code, "title": e.title, "fix": e.fix_hint}
                            for e in exceptions],
        "settlement": demo.state.settlement,
    }


def write_json(path: Path, demo: Demo, extra: dict[str, Any]) -> None:
    payload = {
        "finished_at": datetime.now(UTC).isoformat(),
        "elapsed_seconds": round(time.time() - demo.state.started, 1),
        "steps": [{"name": s.name, "status": s.status, "detail": s.detail, "seconds": s.seconds}
                  for s in demo.state.steps],
        "figures": figures(demo),
        **extra,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))


def run_step(demo: Demo, name: str, fn: Callable[[], str | None]) -> None:
    step = demo.state.step(name)
    step.status = "running"
    started = time.monotonic()
    try:
        detail = fn()
        step.status = "done"
        step.detail = detail or ""
    except NotAvailable as exc:
        step.status = "skipped"
        step.detail = str(exc)
    except Exception as exc:
        log.exception("demo step %s failed", name)
        step.status = "failed"
        step.detail = f"{type(exc).__name__}: {exc}"[:300]
    step.seconds = round(time.monotonic() - started, 1)


class NotAvailable(SkippableError):
    """A scenario step this world cannot run (too few orders, no FBT warehouse …): the step is skipped."""
