"""A worker process for the crash and concurrency tests: the real ``Worker`` with probe handlers.

    python -m tests.support.worker_proc URL --threads N --lease S [--exit-when-idle]
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bridge.store import Store
from bridge.store.db import make_engine
from bridge.worker.registry import Registry
from bridge.worker.runner import JobContext, Worker, WorkerConfig


def build_registry(store: Store) -> Registry:
    reg = Registry()

    def crash_once(ctx: JobContext) -> dict[str, Any]:
        marker = Path(ctx.payload["marker"])
        if ctx.job.attempts == 1:
            marker.write_text(str(os.getpid()))
            time.sleep(3600)  # the test SIGKILLs us here
        Path(ctx.payload["done"]).write_text(f"{os.getpid()}:{ctx.job.attempts}")
        return {"attempt": ctx.job.attempts}

    def probe(ctx: JobContext) -> dict[str, Any]:
        key = ctx.job.key
        with store.engine.begin() as c:
            running = c.execute(
                text("UPDATE probe_keys SET running = running + 1 WHERE key = :k RETURNING running"), {"k": key}
            ).scalar_one()
            c.execute(
                text("INSERT INTO probe_runs (job_id, key, pid, overlap) VALUES (:j, :k, :p, :o)"),
                {"j": ctx.job.id, "k": key, "p": os.getpid(), "o": running},
            )
        time.sleep(random.uniform(0, 0.004))
        with store.engine.begin() as c:
            c.execute(text("UPDATE probe_keys SET running = running - 1 WHERE key = :k"), {"k": key})
        return None

    reg.handler("test.crash_once", crash_once)
    reg.handler("test.probe", probe)
    return reg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lease", type=float, default=2.0)
    ap.add_argument("--exit-when-idle", action="store_true")
    ap.add_argument("--name", default="")
    args = ap.parse_args()
    store = Store(make_engine(args.url, pool_size=args.threads + 4))
    worker = Worker(
        store.queue,
        build_registry(store),
        store.exceptions,
        config=WorkerConfig(threads=args.threads, lease_seconds=args.lease, poll_interval=0.02,
                            retry_base=0.05, retry_cap=0.2, name=args.name or f"proc-{os.getpid()}"),
    )
    stop = threading.Event()
    if args.exit_when_idle:
        def watch() -> None:
            idle_since = None
            while not stop.is_set():
                counts = store.queue.counts()
                busy = counts.get("queued", 0) + counts.get("running", 0)
                if busy == 0:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 0.5:
                        stop.set()
                else:
                    idle_since = None
                time.sleep(0.1)
        threading.Thread(target=watch, daemon=True).start()
    worker.run(stop)
    store.dispose()


if __name__ == "__main__":
    main()
