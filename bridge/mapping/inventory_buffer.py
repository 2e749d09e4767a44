"""The dynamic buffer: units held back from TikTok per SKU by the risk observed (pure).

Two channels sell one stock. What one sells reaches the other late: a TikTok order becomes a
NetSuite sales order (and so leaves NetSuite's availability, which the web store sells against)
after the *order latency*; a stock move in NetSuite reaches TikTok's number after the *push
latency*. Units sold inside those windows can be sold twice. The buffer holds them back::

    buffer = clamp(ceil(velocity * (order latency p95 + push latency p95)), buffer, buffer_max)

``velocity`` is the cross-channel sales rate of the SKU, read from the *free* stock the inventory
flow observes at every push (NetSuite available minus TikTok units not yet committed: every sale on
any channel lowers it, a receipt raises it), or from the TikTok orders the bridge recorded, each at
its own time, whichever is higher: the free stock sees every channel but only at pushes, the orders
see TikTok's first sales of a spike as they arrive. Each is the highest rate measured from any point
in the window up to now, so it rises at the first sales of a spike and falls as time passes without
sales (the buffer is released), to 0 once the window holds no sale. A buffer is not lowered within
(order latency + push latency) of being applied, at most one window: the sales that raised it are
still in flight.

No clock, no I/O: the inputs are the observations and ``now``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.mapping.inventory_spec import TIKTOK_MAX_QUANTITY

MIN_SPAN_SECONDS = 1.0  # a rate is never measured over less (one order is not a rate of thousands a second)


@dataclass(frozen=True)
class FreeStock:
    """Units free to sell across channels for one SKU at one moment (NetSuite available - TikTok pending)."""

    at: datetime
    free: int


@dataclass(frozen=True)
class BufferBounds:
    """From inventory.yaml: ``buffer`` is the floor, ``buffer_max`` the ceiling, ``dynamic`` off keeps the floor."""

    floor: int = 1
    ceiling: int = 50
    dynamic: bool = True
    window_seconds: float = 60.0
    fallback_latency_seconds: float = 2.0  # per leg, while no latency has been observed


@dataclass(frozen=True)
class BufferDecision:
    """The buffer for one SKU and how it came about (``ttns inventory show``)."""

    buffer: int
    velocity: float  # units per second, all channels
    sold_in_window: int
    order_latency: float  # seconds, p95 of the observations (or the fallback)
    push_latency: float
    raw: float  # velocity * (order_latency + push_latency), before the bounds
    bound: str  # "" | "floor" | "ceiling" | "fixed"
    floor: int
    ceiling: int
    held: int = 0  # a buffer applied within the last (order + stock latency) seconds, kept until then
    hold: float = 0.0  # that hold in seconds (order + stock latency, at most one velocity window)

    def explain(self) -> str:
        if self.bound == "fixed":
            return f"buffer {self.buffer} (fixed: dynamic_buffer is off)"
        base = (f"buffer {self.buffer} = ceil({self.velocity:.2f} units/s x ({self.order_latency:.2f} s order -> "
                f"sales order + {self.push_latency:.2f} s stock -> TikTok) = {self.raw:.1f})")
        if self.bound == "held":
            return (f"{base}; held at {self.buffer}, applied less than {self.hold:.2f} s "
                    "ago (the sales that raised it are still reaching the other channel)")
        if self.bound == "floor":
            return f"{base} raised to the floor {self.floor}"
        if self.bound == "ceiling":
            return f"{base} capped at buffer_max {self.ceiling}"
        return f"{base}, within [{self.floor}, {self.ceiling}]"


def p95(values: Sequence[float]) -> float | None:
    """Nearest-rank 95th percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


def sales_velocity(observations: Sequence[FreeStock], now: datetime, window_seconds: float
                   ) -> tuple[float, int]:
    """(units per second, units sold) over the window: for each observation in it, the units sold
    from then to now divided by the time since (at least ``MIN_SPAN_SECONDS``); the highest wins.
    Sold units are the falls of the free stock between consecutive observations (rises are receipts
    or cancellations, not sales)."""
    obs = sorted((o for o in observations if 0 <= (now - o.at).total_seconds() <= window_seconds),
                 key=lambda o: o.at)
    if len(obs) < 2:
        return 0.0, 0
    falls = [max(0, a.free - b.free) for a, b in itertools.pairwise(obs)]
    best = 0.0
    sold_after = 0
    for i in range(len(obs) - 2, -1, -1):  # sold from obs[i] to now
        sold_after += falls[i]
        span = max(MIN_SPAN_SECONDS, (now - obs[i].at).total_seconds())
        best = max(best, sold_after / span)
    return best, sold_after


def order_velocity(sales: Sequence[tuple[datetime, int]], now: datetime, window_seconds: float
                   ) -> tuple[float, int]:
    """(units per second, units) of TikTok orders (time recorded, units) in the window: for each order,
    the units ordered from then to now over the time since (at least ``MIN_SPAN_SECONDS``); the
    highest wins."""
    events = sorted((s for s in sales if 0 <= (now - s[0]).total_seconds() <= window_seconds and s[1] > 0),
                    key=lambda s: s[0], reverse=True)
    best = 0.0
    units = 0
    for at, n in events:
        units += n
        best = max(best, units / max(MIN_SPAN_SECONDS, (now - at).total_seconds()))
    return best, units


def _held(applied: Sequence[tuple[datetime, int]], now: datetime, hold: float) -> int:
    """The buffer level in force, while it was reached less than ``hold`` seconds ago. Re-applying the
    same level (a recheck while held) does not restart the hold: otherwise a hold longer than the
    recheck interval would never end."""
    level, since = 0, None
    for at, b in sorted(applied):
        if since is None or b != level:
            level, since = b, at
    if since is None or not 0 <= (now - since).total_seconds() <= hold:
        return 0
    return level


def dynamic_buffer(bounds: BufferBounds, observations: Sequence[FreeStock], now: datetime,
                   order_latencies: Sequence[float], push_latencies: Sequence[float],
                   tiktok_sales: Sequence[tuple[datetime, int]] = (),
                   applied: Sequence[tuple[datetime, int]] = ()) -> BufferDecision:
    """The buffer for one SKU now (module docstring). ``tiktok_sales``: (recorded at, units) of the
    SKU's TikTok orders. ``applied``: (at, buffer) the flow applied before; a buffer is held until the
    sales that raised it have had time to propagate (order + stock latency), then released."""
    floor = max(0, bounds.floor)
    ceiling = max(floor, bounds.ceiling)
    order_l = p95(order_latencies)
    push_l = p95(push_latencies)
    order_l = bounds.fallback_latency_seconds if order_l is None else max(0.0, order_l)
    push_l = bounds.fallback_latency_seconds if push_l is None else max(0.0, push_l)
    if not bounds.dynamic:
        return BufferDecision(floor, 0.0, 0, order_l, push_l, 0.0, "fixed", floor, floor)
    velocity, sold = sales_velocity(observations, now, bounds.window_seconds)
    tiktok_v, tiktok_units = order_velocity(tiktok_sales, now, bounds.window_seconds)
    if tiktok_v > velocity:
        velocity, sold = tiktok_v, max(sold, tiktok_units)
    raw = velocity * (order_l + push_l)
    wanted = math.ceil(raw - 1e-9)
    # Never longer than the window: a latency of minutes (an order whose webhook was lost, found by the
    # poll) would otherwise keep a spike's buffer for minutes after its last sale; the window bounds
    # how long a sale counts at all.
    hold = min(order_l + push_l, bounds.window_seconds)
    held = _held(applied, now, hold)
    if held > wanted and held > floor:
        wanted, bound = min(held, ceiling), "held"
        return BufferDecision(wanted, velocity, sold, order_l, push_l, raw, bound, floor, ceiling, held, hold)
    if wanted <= floor:
        buffer, bound = floor, ("floor" if wanted < floor else "")
    elif wanted > ceiling:
        buffer, bound = ceiling, "ceiling"
    else:
        buffer, bound = wanted, ""
    return BufferDecision(buffer, velocity, sold, order_l, push_l, raw, bound, floor, ceiling)


def applied_level(applied: Sequence[tuple[datetime, int]], floor: int) -> int:
    """The buffer in TikTok's numbers now: the last one applied (the floor when none is known)."""
    return max(applied)[1] if applied else floor


def lowered(current: Mapping[str, Mapping[str, int]], raises: Mapping[str, tuple[int, int]], minimum: int,
            maximum: int = TIKTOK_MAX_QUANTITY) -> dict[str, dict[str, int]]:
    """A buffer raise applied to TikTok's own numbers, without reading NetSuite: each warehouse of a
    raised SKU (``raises``: sku -> (buffer in force, new buffer)) lowered by the difference, not below
    ``minimum`` (1 where the shop's TikTok refuses a 0) nor above TikTok's ``maximum``. TikTok has
    already taken its own sales off ``current``, so the result only ever lowers what TikTok may sell:
    safe to send from any figure. Lines that would not fall are left out."""
    out: dict[str, dict[str, int]] = {}
    for sku, (in_force, wanted) in sorted(raises.items()):
        step = wanted - in_force
        if step <= 0:
            continue
        for wh, q in sorted((current.get(sku) or {}).items()):
            new = min(maximum, max(minimum, q - step))
            if new < q:
                out.setdefault(sku, {})[wh] = new
    return out


__all__ = ["BufferBounds", "BufferDecision", "FreeStock", "applied_level", "dynamic_buffer", "lowered",
           "order_velocity", "p95", "sales_velocity"]
