"""The batch RESTlet's group commit: the orders flow's jobs hand in one order each (``submit`` returns a
future; ``write`` waits for it) and a batch goes out as one NetSuite call
(``bridge.ports.netsuite.OrderBatchWriter``; ``bridge.bootstrap`` builds it for the restlet write path).

``senders`` threads (the account's concurrency share) each take what is waiting, up to ``max_batch``
orders, and send it; a sender that finds fewer than ``max_batch`` waits up to ``linger`` seconds for more.
While every sender is in a call, orders accumulate, so under load the batches are full: one call per 25
orders instead of one per order handed in during a 50 ms linger (docs/orders.md, "The RESTlet path")."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from bridge.errors import RetriableError
from bridge.ports.netsuite import NetSuiteOrders, OrderWrite, WriteResult


class BatchWriter:
    """Group commit for the batch RESTlet: one NetSuite call, many orders; at most ``senders`` calls at once."""

    def __init__(self, netsuite: NetSuiteOrders, max_batch: int = 25, linger: float = 0.05, senders: int = 5) -> None:
        self.netsuite = netsuite
        self.max_batch = max_batch
        self.linger = linger
        self.senders = max(1, senders)
        self._lock = threading.Condition()
        self._pending: list[tuple[OrderWrite, Future[WriteResult]]] = []
        self._oldest = 0.0
        self._closed = False
        self._threads: list[threading.Thread] = []  # started by the first order (not in a web process)
        self.batches = 0
        self.orders = 0

    def submit(self, w: OrderWrite) -> Future[WriteResult]:
        """Hand in one order; the future holds its result once its batch is answered (or the error that
        call raised). Does not wait."""
        fut: Future[WriteResult] = Future()
        with self._lock:
            if self._closed:
                raise RetriableError("the batch writer is closed (the process is stopping)")
            if not self._threads:
                self._threads = [threading.Thread(target=self._run, name=f"ttns-batch-send-{i}", daemon=True)
                                 for i in range(self.senders)]
                for t in self._threads:
                    t.start()
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append((w, fut))
            self._lock.notify()
        return fut

    def write(self, w: OrderWrite, timeout: float = 300) -> WriteResult:
        """Hand in one order and wait for its result from the batch it went out in."""
        return self.submit(w).result(timeout=timeout)

    def _take(self) -> list[tuple[OrderWrite, Future[WriteResult]]]:
        with self._lock:
            while not self._closed:
                if self._pending:
                    wait = self.linger - (time.monotonic() - self._oldest)
                    if len(self._pending) >= self.max_batch or wait <= 0:
                        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                        self._oldest = time.monotonic()
                        if self._pending:
                            self._lock.notify()  # the next free sender takes the rest
                        return batch
                    self._lock.wait(wait)
                else:
                    self._lock.wait(0.5)
            return []

    def _run(self) -> None:
        while not self._closed:
            batch = self._take()
            if batch:
                self._send(batch)

    def _send(self, batch: list[tuple[OrderWrite, Future[WriteResult]]]) -> None:
        try:
            results = self.netsuite.upsert_orders([w for w, _ in batch])
            self.batches += 1
            self.orders += len(batch)
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
        """Stop taking orders; the ones not yet sent fail as retriable (their jobs run again)."""
        with self._lock:
            self._closed = True
            left, self._pending = self._pending, []
            self._lock.notify_all()
        for _, fut in left:
            fut.set_exception(RetriableError("the batch writer closed before this order was sent"))
