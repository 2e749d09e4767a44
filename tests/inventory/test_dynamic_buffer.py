"""The dynamic buffer (bridge.mapping.inventory_buffer): velocity x latency within the spec's bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.mapping.inventory_buffer import (
    BufferBounds,
    FreeStock,
    applied_level,
    dynamic_buffer,
    lowered,
    order_velocity,
    p95,
    sales_velocity,
)

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obs(*points: tuple[float, int]) -> list[FreeStock]:
    return [FreeStock(at(s), free) for s, free in points]


@pytest.mark.parametrize(("points", "now", "window", "velocity", "sold"), [
    # nothing observed, or one point: no rate
    ((), 0, 60, 0.0, 0),
    (((0, 60),), 0, 60, 0.0, 0),
    # steady 2 units/s for 10 s
    (tuple((s, 60 - 2 * s) for s in range(11)), 10, 60, 2.0, 20),
    # a spike starts: 6 units in the last 0.5 s is measured over the 1 s minimum span, not as 12/s
    (((0, 60), (30, 60), (30.5, 54)), 30.5, 60, 6.0, 6),
    # the spike ended 20 s ago: the same 6 units over the 20.5 s since -> the rate falls
    (((0, 60), (30, 60), (30.5, 54)), 50.5, 60, 6 / 20.5, 6),
    # older than the window: forgotten, back to 0
    (((0, 60), (30, 60), (30.5, 54)), 100, 60, 0.0, 0),
    # receipts (the free stock rises) are not negative sales
    (((0, 10), (1, 110), (2, 108)), 2, 60, 2.0, 2),
    # the highest rate from any point wins: 10 units in the last 10 s (1/s), 5 of them in the last 2 s
    (((0, 100), (50, 100), (58, 95), (60, 90)), 60, 60, 2.5, 10),
])
def test_sales_velocity(points: tuple[tuple[float, int], ...], now: float, window: float, velocity: float,
                        sold: int) -> None:
    v, n = sales_velocity(obs(*points), at(now), window)
    assert v == pytest.approx(velocity)
    assert n == sold


SPIKE = obs((0, 60), (1, 50), (2, 40))  # 10 units/s across channels


@pytest.mark.parametrize(("bounds", "points", "now", "orders", "pushes", "buffer", "bound"), [
    # no sales: the floor (the spec's buffer)
    (BufferBounds(1, 50), obs((0, 60), (5, 60)), 5, [1.0], [0.5], 1, "floor"),
    # 10 units/s x (1.0 + 0.5) s = 15
    (BufferBounds(1, 50), SPIKE, 2, [0.5, 1.0], [0.5], 15, ""),
    # the p95 of the latencies, not the mean: one slow order in twenty counts
    (BufferBounds(1, 50), SPIKE, 2, [0.2] * 19 + [2.0], [0.5], 7, ""),
    (BufferBounds(1, 50), SPIKE, 2, [0.2] * 18 + [2.0, 2.0], [0.5], 25, ""),
    # capped by buffer_max
    (BufferBounds(1, 12), SPIKE, 2, [1.0], [0.5], 12, "ceiling"),
    # no latency observed yet: the fallback per leg (2 s + 2 s) x 10 units/s
    (BufferBounds(1, 50), SPIKE, 2, [], [], 40, ""),
    # released as the sales stop: 20 units over the 20 s since -> 1/s x 1.5 s -> 2
    (BufferBounds(1, 50), SPIKE, 20, [1.0], [0.5], 2, ""),
    # and back at the floor once the window holds no sale
    (BufferBounds(1, 50, window_seconds=60), SPIKE, 70, [1.0], [0.5], 1, "floor"),
    # a higher floor wins over a small computed buffer
    (BufferBounds(5, 50), obs((0, 60), (10, 59)), 10, [1.0], [0.5], 5, "floor"),
    # dynamic off: the spec's buffer, whatever sells
    (BufferBounds(3, 50, dynamic=False), SPIKE, 2, [1.0], [0.5], 3, "fixed"),
    # a ceiling below the floor cannot lower it
    (BufferBounds(4, 2), SPIKE, 2, [1.0], [0.5], 4, "ceiling"),
])
def test_dynamic_buffer(bounds: BufferBounds, points: list[FreeStock], now: float, orders: list[float],
                        pushes: list[float], buffer: int, bound: str) -> None:
    d = dynamic_buffer(bounds, points, at(now), orders, pushes)
    assert d.buffer == buffer
    assert d.bound == bound
    assert d.floor <= d.buffer <= max(d.floor, d.ceiling)


@pytest.mark.parametrize(("sales", "now", "velocity", "units"), [
    ((), 10, 0.0, 0),
    # ten one-unit orders in the last half second: 10 units over the 1 s minimum span
    (tuple((9.5 + i * 0.05, 1) for i in range(10)), 10, 10.0, 10),
    # the same orders seen 20 s later: 10 units over 20.5 s
    (tuple((9.5 + i * 0.05, 1) for i in range(10)), 30, 10 / 20.5, 10),
    # older than the window: forgotten
    (((0, 5),), 61, 0.0, 0),
    # one order of 4 units 2 s ago, another of 2 now: 6 over 2 s beats 2 over 1 s
    (((8, 4), (10, 2)), 10, 3.0, 6),
])
def test_order_velocity(sales: tuple[tuple[float, int], ...], now: float, velocity: float, units: int) -> None:
    v, n = order_velocity([(at(s), u) for s, u in sales], at(now), 60)
    assert v == pytest.approx(velocity)
    assert n == units


def test_tiktok_orders_raise_the_buffer_before_a_push_has_seen_the_stock_fall() -> None:
    """The first push of a spike: one earlier observation of the free stock, no fall seen yet, but
    the bridge recorded ten TikTok orders in the last half second."""
    quiet = obs((0, 60), (50, 60))
    sales = [(at(59.5 + i * 0.05), 1) for i in range(10)]
    without = dynamic_buffer(BufferBounds(1, 50), quiet, at(60), [1.0], [0.5])
    with_orders = dynamic_buffer(BufferBounds(1, 50), quiet, at(60), [1.0], [0.5], sales)
    assert without.buffer == 1
    assert with_orders.buffer == 15 and with_orders.velocity == pytest.approx(10.0)
    # the free stock's rate wins when it is the higher one (the web store sells too)
    both = dynamic_buffer(BufferBounds(1, 50), SPIKE, at(2), [1.0], [0.5], [(at(1.5), 1)])
    assert both.buffer == 15


@pytest.mark.parametrize(("applied", "now", "buffer", "bound"), [
    # 30 applied 1 s ago, inside order + stock latency (1.0 + 0.5 s): held, though the rate fell
    (((19, 30),), 20, 30, "held"),
    # applied 2 s ago: the sales that raised it have propagated, released to what the rate asks (2)
    (((18, 30),), 20, 2, ""),
    # a held buffer never exceeds buffer_max
    (((19, 80),), 20, 50, "held"),
    # re-applied while held (rechecks) does not restart the hold: reached at 18, 2 s ago, released
    (((18, 30), (19, 30), (19.8, 30)), 20, 2, ""),
])
def test_a_buffer_is_held_until_the_sales_that_raised_it_have_propagated(
        applied: tuple[tuple[float, int], ...], now: float, buffer: int, bound: str) -> None:
    d = dynamic_buffer(BufferBounds(1, 50), SPIKE, at(now), [1.0], [0.5], (), [(at(t), b) for t, b in applied])
    assert (d.buffer, d.bound) == (buffer, bound)
    if bound == "held":
        assert "held at" in d.explain()


def test_explanation_names_every_input() -> None:
    d = dynamic_buffer(BufferBounds(1, 12), SPIKE, at(2), [1.0], [0.5])
    text = d.explain()
    for part in ("buffer 12", "10.00 units/s", "1.00 s order -> sales order", "0.50 s stock -> TikTok",
                 "= 15.0", "capped at buffer_max 12"):
        assert part in text
    assert "dynamic_buffer is off" in dynamic_buffer(BufferBounds(2, 9, dynamic=False), SPIKE, at(2), [], []).explain()


def test_p95_nearest_rank() -> None:
    assert p95([]) is None
    assert p95([3.0]) == 3.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([1.0, 9.0]) == 9.0


@pytest.mark.parametrize(("current", "raises", "minimum", "sent"), [
    # buffer 1 in force, 20 wanted: every warehouse of the SKU lowered by 19
    ({"k": {"w1": 50, "w2": 30}}, {"k": (1, 20)}, 0, {"k": {"w1": 31, "w2": 11}}),
    # never below the minimum: 0 where TikTok takes a 0, 1 where it refuses one
    ({"k": {"w1": 5}}, {"k": (1, 20)}, 0, {"k": {"w1": 0}}),
    ({"k": {"w1": 5}}, {"k": (1, 20)}, 1, {"k": {"w1": 1}}),
    # already at (or under) the minimum: nothing to lower, nothing sent
    ({"k": {"w1": 1}}, {"k": (1, 20)}, 1, {}),
    ({"k": {"w1": 0}}, {"k": (1, 20)}, 0, {}),
    # a buffer that did not rise (or fell) lowers nothing: only a push from NetSuite's figures raises numbers
    ({"k": {"w1": 50}}, {"k": (20, 20)}, 0, {}),
    ({"k": {"w1": 50}}, {"k": (20, 5)}, 0, {}),
    # a number above TikTok's documented 99,999 (set in Seller Center) comes down to it at least
    ({"k": {"w1": 1_000_000}}, {"k": (1, 25)}, 0, {"k": {"w1": 99_999}}),
    # only the raised SKUs, and only the warehouses TikTok shows for them
    ({"k": {"w1": 50}, "j": {"w1": 40}}, {"k": (3, 5), "x": (1, 9)}, 0, {"k": {"w1": 48}}),
])
def test_a_raise_only_lowers_what_tiktok_may_sell(current: dict[str, dict[str, int]],
                                                   raises: dict[str, tuple[int, int]], minimum: int,
                                                   sent: dict[str, dict[str, int]]) -> None:
    out = lowered(current, raises, minimum)
    assert out == sent
    assert all(q <= current[s][w] for s, per in out.items() for w, q in per.items())


@pytest.mark.parametrize(("applied", "floor", "level"), [
    ((), 1, 1),  # nothing applied in the window: the floor
    (((1, 20),), 1, 20),
    (((1, 20), (2, 35), (3, 12)), 1, 12),  # the latest, not the highest
])
def test_the_buffer_in_force_is_the_last_applied(applied: tuple[tuple[float, int], ...], floor: int,
                                                 level: int) -> None:
    assert applied_level([(at(t), b) for t, b in applied], floor) == level


@pytest.mark.parametrize(("applied_at", "now", "buffer", "bound"), [
    # orders reaching NetSuite minutes late (lost webhooks, found by the poll): order latency 300 s
    (0, 50, 50, "held"),  # inside the 60 s window: held
    (0, 61, 1, "floor"),  # a window later no sale counts, and the hold ends with it, not 300 s later
])
def test_a_hold_never_outlasts_the_velocity_window(applied_at: float, now: float, buffer: int, bound: str) -> None:
    d = dynamic_buffer(BufferBounds(1, 50, window_seconds=60), obs((0, 60), (0.5, 59)), at(now), [300.0], [0.5], (),
                       [(at(applied_at), 50)])
    assert (d.buffer, d.bound) == (buffer, bound)
    if bound == "held":
        assert "applied less than 60.00 s ago" in d.explain()
