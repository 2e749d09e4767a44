"""Stock per item and location: on hand moves with receipts, adjustments, transfers and shipped
fulfillments; open sales/transfer order lines commit what is available, in order of entry.

``available = on hand - committed``. Commitment is recomputed for an (item, location) pair whenever
its on-hand or its demand changes, so it is always a pure function of the two ("Available Qty"
commit rule: lines are committed in transaction-id order while stock lasts, the rest is back-ordered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ZERO = Decimal("0")
Pair = tuple[str, str]  # (item id, location id)
DemandKey = tuple[str, str, int]  # (record type, record id, line)


@dataclass
class Balance:
    on_hand: Decimal = ZERO
    committed: Decimal = ZERO
    back_ordered: Decimal = ZERO
    on_order: Decimal = ZERO
    in_transit: Decimal = ZERO
    value: Decimal = ZERO  # on-hand value at average cost
    last_available_change: datetime | None = None

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.committed

    @property
    def average_cost(self) -> Decimal:
        return (self.value / self.on_hand).quantize(Decimal("0.0001")) if self.on_hand > 0 else ZERO


@dataclass
class StockBook:
    balances: dict[Pair, Balance] = field(default_factory=dict)
    # open demand per pair: key -> (sort key, remaining quantity)
    demand: dict[Pair, dict[DemandKey, Decimal]] = field(default_factory=dict)

    def balance(self, pair: Pair) -> Balance:
        bal = self.balances.get(pair)
        if bal is None:
            bal = self.balances[pair] = Balance()
        return bal

    def move(self, pair: Pair, qty: Decimal, unit_cost: Decimal | None, now: datetime) -> Decimal:
        """Move stock in (at ``unit_cost``, else the average) or out (at the average cost); returns
        the unit cost the move was valued at (what the general ledger posts)."""
        bal = self.balance(pair)
        cost = bal.average_cost
        if qty > 0:
            cost = unit_cost if unit_cost is not None else bal.average_cost
            bal.value += qty * cost
        elif qty < 0 and bal.on_hand > 0:
            bal.value += qty * bal.average_cost
        bal.on_hand += qty
        if bal.on_hand <= 0:
            bal.value = ZERO
        bal.last_available_change = now
        return cost

    def set_demand(self, key: DemandKey, pair: Pair | None, remaining: Decimal) -> set[Pair]:
        """Record an order line's open quantity (0 or no pair removes it); returns touched pairs."""
        touched: set[Pair] = set()
        for p, lines in self.demand.items():
            if key in lines and p != pair:
                del lines[key]
                touched.add(p)
        if pair is not None and remaining > 0:
            self.demand.setdefault(pair, {})[key] = remaining
            touched.add(pair)
        elif pair is not None and key in self.demand.get(pair, {}):
            del self.demand[pair][key]
            touched.add(pair)
        return touched

    def allocate(self, pair: Pair, now: datetime) -> dict[DemandKey, tuple[Decimal, Decimal]]:
        """Commit the pair's on-hand to its open lines in order; returns key -> (committed, back-ordered)."""
        bal = self.balance(pair)
        pool = max(bal.on_hand, ZERO)
        out: dict[DemandKey, tuple[Decimal, Decimal]] = {}
        total_committed = ZERO
        total_back = ZERO
        for key in sorted(self.demand.get(pair, {}), key=lambda k: (int(k[1]), k[2])):
            remaining = self.demand[pair][key]
            c = min(pool, remaining)
            pool -= c
            out[key] = (c, remaining - c)
            total_committed += c
            total_back += remaining - c
        if bal.committed != total_committed:
            bal.last_available_change = now
        bal.committed = total_committed
        bal.back_ordered = total_back
        return out
