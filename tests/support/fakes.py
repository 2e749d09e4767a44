"""In-memory fakes of the flow ports (fakes over mocks: they behave, they do not script answers)."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.domain.tiktok import Order, PriceDetail
from bridge.mapping.orders import ItemRef
from bridge.mapping.skus import MatchSpec
from bridge.ports.netsuite import OrderWrite, WriteResult


class FakeTikTokOrders:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}
        self.detail_calls: list[list[str]] = []
        self.price_details: dict[tuple[str, str], dict[str, Any]] = {}  # what TikTok's Get Price Detail says
        self.price_detail_calls: list[str] = []
        self.lock = threading.Lock()

    def put(self, shop_id: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.orders.setdefault(shop_id, {})[payload["id"]] = payload

    def update(self, shop_id: str, order_id: str, **changes: Any) -> None:
        with self.lock:
            cur = self.orders[shop_id][order_id]
            cur.update(changes)
            cur["update_time"] = int(cur.get("update_time", 0)) + 1

    def get_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[Order]:
        assert len(order_ids) <= 50, "order detail takes at most 50 ids"
        with self.lock:
            self.detail_calls.append(list(order_ids))
            shop = self.orders.get(shop_id, {})
            return [Order.model_validate(shop[i]) for i in order_ids if i in shop]

    def search_orders(self, shop_id: str, *, update_time_ge: datetime | None = None,
                      update_time_lt: datetime | None = None, create_time_ge: datetime | None = None,
                      create_time_lt: datetime | None = None) -> Iterator[tuple[str, datetime | None]]:
        with self.lock:
            rows = [Order.model_validate(p) for p in self.orders.get(shop_id, {}).values()]
        for o in rows:
            if update_time_ge and o.update_time and o.update_time < update_time_ge:
                continue
            if update_time_lt and o.update_time and o.update_time >= update_time_lt:
                continue
            if create_time_ge and o.create_time and o.create_time < create_time_ge:
                continue
            if create_time_lt and o.create_time and o.create_time >= create_time_lt:
                continue
            yield o.id, o.update_time

    def price_detail(self, shop_id: str, order_id: str) -> PriceDetail:
        with self.lock:
            self.price_detail_calls.append(order_id)
            return PriceDetail.model_validate(self.price_details.get((shop_id, order_id), {}))


class FakeNetSuiteOrders:
    def __init__(self, items: dict[str, ItemRef] | None = None) -> None:
        self.items: dict[str, ItemRef] = dict(items or {})
        self.records: dict[str, dict[str, Any]] = {}  # external id -> {"id", "type", "record"}
        self.customers: dict[str, str] = {}
        self.fulfilled: dict[str, dict[str, int]] = {}  # netsuite id -> {line item ids: qty}
        self.closed: dict[str, list[str] | None] = {}
        self.calls: dict[str, int] = {}
        self.batches: list[int] = []
        self.refuse: dict[str, dict[str, Any]] = {}  # external id -> error to answer
        self._ids = itertools.count(1000)
        self.lock = threading.Lock()

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def resolve_items(self, keys: Sequence[str], rule: MatchSpec) -> dict[str, ItemRef]:
        # like NetSuite: items are stored under their own name and compared by the rule's key
        with self.lock:
            self._count("resolve_items")
            wanted = set(keys)
            return {rule.key(name): ref for name, ref in self.items.items() if rule.key(name) in wanted}

    def upsert_customer(self, customer: dict[str, Any]) -> str:
        with self.lock:
            self._count("upsert_customer")
            eid = customer["externalId"]
            if eid not in self.customers:
                self.customers[eid] = str(next(self._ids))
            return self.customers[eid]

    def _upsert(self, w: OrderWrite) -> WriteResult:
        if w.external_id in self.refuse:
            return WriteResult(w.external_id, None, "error", error=self.refuse[w.external_id])
        existing = self.records.get(w.external_id)
        if existing is not None and "item" in w.record and self.fulfilled.get(existing["id"]):
            from bridge.errors import NeedsHumanError

            raise NeedsHumanError("You cannot remove a line that has been fulfilled.", code="NS_ALREADY_FULFILLED")
        if existing is not None and "item" not in w.record:  # a body-only update keeps the lines
            w = OrderWrite(w.record_type, w.external_id, {**existing["record"], **w.record}, w.customer)
        if existing is not None and "item" in w.record:  # `replace=item`: rows with a `line` keep that line
            old = (existing["record"].get("item") or {}).get("items") or []
            rows = []
            for row in w.record["item"]["items"]:
                n = row.get("line")
                base = dict(old[int(n) - 1]) if n is not None and 0 < int(n) <= len(old) else {}
                rows.append({**base, **{k: v for k, v in row.items() if k != "line"}})
            w = OrderWrite(w.record_type, w.external_id, {**w.record, "item": {"items": rows}}, w.customer)
        customer_id = None
        record = dict(w.record)
        if w.customer is not None:
            eid = w.customer["externalId"]
            if eid not in self.customers:
                self.customers[eid] = str(next(self._ids))
            customer_id = self.customers[eid]
            record["entity"] = {"id": customer_id}
        existing = self.records.get(w.external_id)
        if existing is None:
            nid = str(next(self._ids))
            self.records[w.external_id] = {"id": nid, "type": w.record_type, "record": record, "writes": 1}
            return WriteResult(w.external_id, nid, "created", customer_id)
        existing["record"] = record
        existing["writes"] += 1
        return WriteResult(w.external_id, existing["id"], "updated", customer_id)

    def upsert_order(self, write: OrderWrite) -> WriteResult:
        with self.lock:
            self._count("upsert_order")
            return self._upsert(write)

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        with self.lock:
            self._count("upsert_orders")
            self.batches.append(len(writes))
            return [self._upsert(w) for w in writes]

    def upsert_record(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        with self.lock:
            self._count("upsert_record")
            rec = self.records.setdefault(external_id, {"id": str(next(self._ids)), "type": record_type,
                                                        "record": {}, "writes": 0})
            rec["record"] = dict(body)
            rec["writes"] += 1
            return str(rec["id"])

    def find_order(self, record_type: str, external_id: str) -> str | None:
        with self.lock:
            self._count("find_order")
            rec = self.records.get(external_id)
            return rec["id"] if rec else None

    def get_order(self, record_type: str, netsuite_id: str) -> dict[str, Any] | None:
        """The stored record with its lines numbered 1..n in order (as NetSuite numbers a new order's)."""
        with self.lock:
            self._count("get_order")
            rec = next((r for r in self.records.values() if r["id"] == netsuite_id), None)
            if rec is None:
                return None
            body = copy.deepcopy(rec["record"])
            body.setdefault("tranId", f"SO{netsuite_id}")  # NetSuite numbers the document
            rows = (body.get("item") or {}).get("items") or []
            body["item"] = {"items": [{**row, "line": i} for i, row in enumerate(rows, 1)]}
            return body

    def close_order_lines(self, record_type: str, netsuite_id: str, line_item_ids: Sequence[str] | None) -> int:
        with self.lock:
            self._count("close_order_lines")
            self.closed[netsuite_id] = None if line_item_ids is None else list(line_item_ids)
            rec = next(r for r in self.records.values() if r["id"] == netsuite_id)
            return len(rec["record"]["item"]["items"])

    def fulfilled_quantities(self, record_type: str, netsuite_id: str) -> dict[str, int]:
        with self.lock:
            return dict(self.fulfilled.get(netsuite_id, {}))

    def document_numbers(self, netsuite_ids: Sequence[str]) -> dict[str, str]:
        """NetSuite numbers each document when it is created (the same numbers ``get_order`` shows)."""
        with self.lock:
            self._count("document_numbers")
            known = {str(r["id"]): r for r in self.records.values()}
            return {i: str(known[i]["record"].get("tranId") or f"SO{i}") for i in netsuite_ids if i in known}

    def so_count(self) -> int:
        return sum(1 for r in self.records.values() if r["type"] in ("salesOrder", "cashSale"))


class FakeNetSuiteLookup:
    def __init__(self, tables: dict[str, set[str]], account_types: dict[str, str] | None = None,
                 account_currencies: dict[str, str] | None = None) -> None:
        self.tables = tables
        self.types = account_types or {}
        self.currencies = account_currencies or {}

    def account_currencies(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self.currencies[i] for i in ids if i in self.currencies and i in self.tables.get("account", set())}

    def account_types(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self.types.get(i, "Bank") for i in ids if i in self.tables.get("account", set())}

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        return set(ids) & self.tables.get(table, set())

    def internal_ids(self, wanted: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], str]:
        return {(t, e): f"id-{e}" for t, eids in wanted.items() for e in eids
                if f"eid:{e}" in self.tables.get(t, set())}
