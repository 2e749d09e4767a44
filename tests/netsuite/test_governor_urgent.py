"""The governor serves callers inside ``bridge.priority.urgent()`` before the others waiting."""

from __future__ import annotations

import threading
import time

from bridge.netsuite.governor import Governor
from bridge.priority import urgent


def test_an_urgent_caller_takes_the_next_free_slot_before_earlier_waiters() -> None:
    gov = Governor(1)
    gov.acquire()  # the pool is full
    order: list[str] = []
    lock = threading.Lock()

    def take(name: str, is_urgent: bool) -> None:
        if is_urgent:
            with urgent():
                gov.acquire(timeout=10)
        else:
            gov.acquire(timeout=10)
        with lock:
            order.append(name)
        time.sleep(0.01)
        gov.release()

    waiting = [threading.Thread(target=take, args=(f"order-write-{i}", False)) for i in range(4)]
    for t in waiting:
        t.start()
    time.sleep(0.2)  # the writes wait first
    push = threading.Thread(target=take, args=("stock-read", True))
    push.start()
    time.sleep(0.2)
    gov.release()
    for t in [*waiting, push]:
        t.join(10)
    assert order[0] == "stock-read"
    assert sorted(order[1:]) == [f"order-write-{i}" for i in range(4)]
    assert gov.stats().in_flight == 0


def test_without_urgent_callers_slots_are_shared_as_before() -> None:
    gov = Governor(2)
    done: list[int] = []

    def take(i: int) -> None:
        with gov.slot():
            time.sleep(0.01)
            done.append(i)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(done) == list(range(10))
    assert gov.stats().peak <= 2
