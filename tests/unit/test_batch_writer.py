"""The batch RESTlet's group commit (``bridge.netsuite.batch_writer``): batches fill while the calls are out."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from bridge.errors import RetriableError
from bridge.netsuite.batch_writer import BatchWriter
from bridge.ports.netsuite import OrderWrite, WriteResult


class SlowRestlet:
    """Answers each batch after ``seconds``; records the batch sizes and the most calls at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.batches: list[int] = []
        self.out = 0
        self.most = 0
        self.lock = threading.Lock()

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        with self.lock:
            self.out += 1
            self.most = max(self.most, self.out)
            self.batches.append(len(writes))
        time.sleep(self.seconds)
        with self.lock:
            self.out -= 1
        return [WriteResult(w.external_id, f"so-{w.external_id}", "created") for w in writes]


def w(i: int) -> OrderWrite:
    return OrderWrite("salesOrder", f"TTS-s-{i}", {"memo": str(i)}, None)


class GatedRestlet(SlowRestlet):
    """Each call waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(0.0)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        self.entered.set()
        assert self.gate.wait(10)
        return super().upsert_orders(writes)


def test_orders_handed_in_while_every_sender_is_busy_go_out_together() -> None:
    # One sender, in a call: the 30 orders handed in meanwhile leave as a full batch of 25 and the 5 left,
    # not one batch per 50 ms linger on a thread of its own as before.
    ns = GatedRestlet()
    writer = BatchWriter(ns, max_batch=25, linger=0.0, senders=1)  # type: ignore[arg-type]
    first = writer.submit(w(0))
    assert ns.entered.wait(5)
    time.sleep(0.1)  # past the linger: nothing else may leave while the sender is in its call
    rest = [writer.submit(w(i)) for i in range(1, 31)]
    time.sleep(0.1)
    ns.gate.set()
    results = [f.result(timeout=10) for f in [first, *rest]]
    writer.close()
    assert [r.id for r in results] == [f"so-TTS-s-{i}" for i in range(31)]
    assert ns.batches == [1, 25, 5] and ns.most == 1


def test_at_most_senders_calls_at_once() -> None:
    ns = SlowRestlet(0.1)
    writer = BatchWriter(ns, max_batch=2, linger=0.0, senders=3)  # type: ignore[arg-type]
    futures = [writer.submit(w(i)) for i in range(30)]
    assert all(f.result(timeout=10).status == "created" for f in futures)
    writer.close()
    assert ns.most <= 3 and sum(ns.batches) == 30


def test_closing_fails_what_was_not_sent() -> None:
    ns = GatedRestlet()
    writer = BatchWriter(ns, max_batch=1, linger=0.0, senders=1)  # type: ignore[arg-type]
    first = writer.submit(w(1))
    assert ns.entered.wait(5)  # the sender is in its call
    second = writer.submit(w(2))
    writer.close()
    ns.gate.set()
    assert first.result(timeout=5).status == "created"
    with pytest.raises(RetriableError):
        second.result(timeout=5)
    with pytest.raises(RetriableError):
        writer.submit(w(3))
