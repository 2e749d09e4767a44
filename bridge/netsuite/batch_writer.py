"""The batch RESTlet's group commit: the orders flow's concurrent jobs hand in one order each and wait;
a batch goes out as one NetSuite call when it is full or has waited ``linger`` seconds
(``bridge.ports.netsuite.OrderBatchWriter``; ``bridge.bootstrap`` builds it for the restlet write path)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from bridge.errors import RetriableError
from bridge.ports.netsuite import NetSuiteOrders, OrderWrite, WriteResult


class BatchWriter:
    """Group commit for the batch RESTlet: concurrent jobs hand in their order and wait; a batch
    goes out when it is full or has waited ``linger`` seconds. One NetSuite call, many orders."""

    def __init__(self, netsuite: NetSuiteOrders, max_batch: int = 25, linger: float = 0.05) -> None:
        self.netsuite = netsuite
        self.max_batch = max_batch
        self.linger = linger
        self._lock = threading.Condition()
        self._pending: list[tuple[OrderWrite, Future[WriteResult]]] = []
        self._oldest = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None  # started by the first write (not in a web process)
        self.batches = 0

    def write(self, w: OrderWrite, timeout: float = 300) -> WriteResult:
        fut: Future[WriteResult] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ttns-batch-writer", daemon=True)
                self._thread.start()
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append((w, fut))
            self._lock.notify()
        return fut.result(timeout=timeout)

    def _take(self) -> list[tuple[OrderWrite, Future[WriteResult]]]:
        with self._lock:
            while not self._closed:
                if self._pending:
                    wait = self.linger - (time.monotonic() - self._oldest)
                    if len(self._pending) >= self.max_batch or wait <= 0:
                        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                        self._oldest = time.monotonic()
                        return batch
                    self._lock.wait(wait)
                else:
                    self._lock.wait(0.5)
            return []

    def _run(self) -> None:
        while not self._closed:
            batch = self._take()
            if not batch:
                continue
            threading.Thread(target=self._send, args=(batch,), name="ttns-batch-send", daemon=True).start()

    def _send(self, batch: list[tuple[OrderWrite, Future[WriteResult]]]) -> None:
        try:
            results = self.netsuite.upsert_orders([w for w, _ in batch])
            self.batches += 1
            by_eid = {r.external_id: r for r in results}
            for w, fut in batch:
                res = by_eid.get(w.external_id)
                if res is None:
                    fut.set_exception(RetriableError(f"batch answer lacked {w.external_id}"))
                else:
                    fut.set_result(res)
        except Exception as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
