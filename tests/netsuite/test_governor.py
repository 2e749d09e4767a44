from __future__ import annotations

import threading
import time

import pytest

from bridge.errors import RetriableError
from bridge.netsuite.governor import Governor, share_of, shared_governor


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_never_exceeds_its_limit_under_many_threads() -> None:
    gov = Governor(3, clock=FakeClock())
    lock = threading.Lock()
    active = [0]
    seen: list[int] = []
    start = threading.Barrier(24)

    def work() -> None:
        start.wait()
        for _ in range(20):
            with gov.slot():
                with lock:
                    active[0] += 1
                    seen.append(active[0])
                time.sleep(0.0005)
                with lock:
                    active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = gov.stats()
    assert max(seen) <= 3 and st.peak <= 3
    assert st.acquired == 24 * 20 and st.in_flight == 0
    assert st.waited > 0  # it really did hold threads back


def test_shrinks_on_pool_full_once_per_cooldown_and_grows_back_slowly() -> None:
    clock = FakeClock()
    gov = Governor(8, clock=clock, grow_after=30.0, shrink_cooldown=2.0)
    gov.pool_full()
    assert gov.effective == 6  # 8 - 8//4
    for _ in range(5):  # the same congestion episode reaching five threads counts once
        gov.pool_full()
    assert gov.effective == 6
    clock.t += 2.0
    gov.pool_full()
    assert gov.effective == 5
    clock.t += 2.0
    gov.pool_full()
    clock.t += 2.0
    gov.pool_full()
    clock.t += 2.0
    gov.pool_full()
    clock.t += 2.0
    gov.pool_full()
    clock.t += 2.0
    gov.pool_full()
    assert gov.effective == 1  # never below one
    assert gov.under_load()
    clock.t += 29.0
    gov.success()
    assert gov.effective == 1  # not yet: 30 s without a refusal
    clock.t += 1.0
    gov.success()
    assert gov.effective == 2
    gov.success()
    assert gov.effective == 2  # one step per quiet period
    for expected in range(3, 9):
        clock.t += 30.0
        gov.success()
        assert gov.effective == expected
    clock.t += 30.0
    gov.success()
    assert gov.effective == 8  # never above the configured share
    st = gov.stats()
    assert st.grows == 7 and st.shrinks == 6 and st.pool_full == 12


def test_a_refusal_restarts_the_quiet_period() -> None:
    clock = FakeClock()
    gov = Governor(4, clock=clock, grow_after=10.0, shrink_cooldown=100.0)
    gov.pool_full()
    assert gov.effective == 3
    clock.t += 9.0
    gov.pool_full()  # inside the cooldown: no shrink, but the pool is still full
    clock.t += 9.0
    gov.success()
    assert gov.effective == 3
    clock.t += 1.0
    gov.success()
    assert gov.effective == 4


def test_shrinking_holds_back_new_callers_until_in_flight_drops() -> None:
    clock = FakeClock()
    gov = Governor(4, clock=clock, shrink_cooldown=0.0)
    for _ in range(4):
        gov.acquire()
    gov.pool_full()  # 4 -> 3 while 4 are in flight
    got = threading.Event()

    def waiter() -> None:
        gov.acquire()
        got.set()

    t = threading.Thread(target=waiter)
    t.start()
    gov.release()
    assert not got.wait(0.05)  # 3 in flight = the new effective limit: still waiting
    gov.release()
    assert got.wait(2.0)  # 2 in flight: admitted
    t.join()
    assert gov.stats().in_flight == 3


def test_shared_governor_is_one_per_account_and_resizes() -> None:
    a = shared_governor("TEST_GOV_ACCOUNT_1", 5)
    assert shared_governor("TEST_GOV_ACCOUNT_1", 5) is a
    assert shared_governor("TEST_GOV_ACCOUNT_2", 5) is not a
    shared_governor("TEST_GOV_ACCOUNT_1", 2)
    assert a.limit == 2 and a.effective == 2


# -- worker processes splitting the share ----------------------------------------------------------
@pytest.mark.parametrize(("limit", "peers", "shares"), [
    pytest.param(5, ["a"], [5], id="alone-takes-all"),
    pytest.param(5, ["a", "b"], [3, 2], id="two-split-5-as-3-2"),
    pytest.param(6, ["a", "b", "c"], [2, 2, 2], id="even-split"),
    pytest.param(5, ["a", "b", "c", "d", "e", "f", "g"], [1] * 7, id="more-processes-than-slots-get-one"),
    pytest.param(1, ["a", "b"], [1, 1], id="never-zero"),
])
def test_share_of(limit: int, peers: list[str], shares: list[int]) -> None:
    assert [share_of(limit, peers, p) for p in peers] == shares
    if len(peers) <= limit:
        assert sum(shares) == limit


def test_share_of_a_process_not_yet_listed_counts_it_last() -> None:
    assert share_of(5, ["a", "b"], "c") == 1 and share_of(5, ["a"], "b") == 2


def test_a_share_caps_the_slots_and_growing_back() -> None:
    clock = FakeClock()
    gov = Governor(5, clock=clock, grow_after=1.0)
    gov.set_share(2)
    gov.acquire()
    gov.acquire()
    with pytest.raises(RetriableError):
        gov.acquire(timeout=0.05)
    clock.t += 100  # quiet for long: the adaptive limit still stops at the share
    with pytest.raises(RetriableError):
        gov.acquire(timeout=0.05)
    assert gov.effective == 2
    gov.set_share(3)  # the other process left: its slots are usable at once
    gov.acquire(timeout=0.05)
    assert gov.stats().in_flight == 3


def test_a_configuration_change_keeps_the_split() -> None:
    gov = Governor(6)
    gov.set_share(3)
    gov.resize(4)
    assert gov.share == 3 and gov.effective == 3
    whole = Governor(4)
    whole.resize(8)
    assert whole.share == 8
