"""The inventory, catalog and price ports over the real clients.

Services: ``tiktok.inventory`` / ``tiktok.catalog`` (one adapter over ``bridge.tiktok``) and
``netsuite.inventory`` (SuiteQL for locations, items and ``inventoryItemLocations``; REST record
reads for item details and price levels)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.errors import FatalError
from bridge.mapping.catalog import ItemDetail, NsItem
from bridge.mapping.skus import MatchSpec
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import LocationInfo

log = logging.getLogger("bridge.netsuite.adapters.inventory")


IN_CHUNK = 200


ITEM_TYPES = ("InvtPart", "Assembly", "Kit", "NonInvtPart")


RECORD_TYPE = {"InvtPart": "inventoryItem", "Assembly": "assemblyItem", "Kit": "kitItem",
               "NonInvtPart": "nonInventorySaleItem"}


KEY_COLUMNS = {"itemid": "itemid", "upccode": "upccode", "externalid": "externalid", "id": "id"}


ITEM_COLUMNS = "id, itemid, upccode, externalid, displayname, itemtype, matrixtype, parent, isinactive"


def sql_literal(value: str) -> str:
    """A SuiteQL string literal (single quotes doubled); REST SuiteQL takes no bind parameters."""
    return "'" + str(value).replace("'", "''") + "'"


def _chunks(values: Sequence[str], n: int = IN_CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(values), n):
        yield list(values[i:i + n])


def _ref(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def _units(value: Any) -> int:
    """A NetSuite quantity as whole units (fractions of a unit cannot be sold): floor."""
    try:
        return math.floor(Decimal(str(value))) if value not in (None, "") else 0
    except InvalidOperation:
        return 0


def _flag(value: Any) -> bool:
    return value is True or str(value).upper() in ("T", "TRUE")


def _ns_item(row: Mapping[str, Any]) -> NsItem:
    return NsItem(
        id=str(row.get("id")), itemid=str(row.get("itemid") or ""), upccode=str(row.get("upccode") or ""),
        externalid=str(row.get("externalid") or ""), display_name=str(row.get("displayname") or ""),
        itemtype=str(row.get("itemtype") or ""), matrix=str(row.get("matrixtype") or "").upper(),
        parent=str(row["parent"]) if row.get("parent") not in (None, "") else None,
        inactive=_flag(row.get("isinactive")),
    )


class NetSuiteInventoryAdapter:
    """``NetSuiteInventory`` over ``bridge.netsuite.client.NetSuiteClient`` (the ``netsuite`` service)."""

    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)
        self._base_currency: str | None = None
        self._no_commitments = False

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def locations(self) -> list[LocationInfo]:
        rows = self.client.suiteql("SELECT id, name, isinactive, makeinventoryavailable FROM location", key="id")
        return [LocationInfo(str(r["id"]), str(r.get("name") or ""), _flag(r.get("isinactive")),
                             r.get("makeinventoryavailable") in (None, "") or _flag(r.get("makeinventoryavailable")))
                for r in rows]

    def items(self) -> Iterator[NsItem]:
        types = ", ".join(sql_literal(t) for t in ITEM_TYPES)
        q = f"SELECT {ITEM_COLUMNS} FROM item WHERE itemtype IN ({types})"  # noqa: S608 - constants only
        for row in self.client.iter_suiteql(q, key="id"):
            yield _ns_item(row)

    def items_by_key(self, by: str, keys: Sequence[str], rule: MatchSpec | None = None) -> list[NsItem]:
        column = KEY_COLUMNS[by]
        expr = rule.sql_key(column) if rule is not None and by != "id" else column
        wanted = {rule.key(k) if rule is not None and by != "id" else k for k in keys if k} - {""}
        out: list[NsItem] = []
        for chunk in _chunks(sorted(wanted)):
            # values quoted by sql_literal, the column from a closed list
            q = (f"SELECT {ITEM_COLUMNS} FROM item "  # noqa: S608
                 f"WHERE {expr} IN ({', '.join(sql_literal(k) for k in chunk)})")
            out.extend(_ns_item(r) for r in self.client.suiteql(q))
        return out

    def availability(self, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            q = ("SELECT item, location, quantityavailable FROM inventoryitemlocations "  # noqa: S608
                 f"WHERE item IN ({', '.join(sql_literal(i) for i in chunk)})")
            for row in self.client.suiteql(q):
                if row.get("location") in (None, ""):
                    continue
                out[(str(row["item"]), str(row["location"]))] = _units(row.get("quantityavailable"))
        return out

    def tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int] | None:
        if self._no_commitments:
            return None
        try:
            return self._tiktok_committed(shop_id, item_ids)
        except FatalError as exc:  # an account whose SuiteQL lacks the column: stock math without it
            self._no_commitments = True
            log.warning("NetSuite commitments to TikTok orders cannot be read; TikTok's own reservations are not "
                        "used", extra={"error": str(exc)[:300]})
            return None

    def _tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            # values quoted by sql_literal; sales order line quantities are negative in SuiteQL, so ABS
            q = ("SELECT tl.item AS item, tl.location AS location, SUM(ABS(tl.quantitycommitted)) AS q "  # noqa: S608
                 "FROM transactionline tl INNER JOIN transaction t ON t.id = tl.transaction "
                 f"WHERE t.type = 'SalesOrd' AND t.custbody_ttns_shop_id = {sql_literal(shop_id)} "
                 f"AND tl.item IN ({', '.join(sql_literal(i) for i in chunk)}) GROUP BY tl.item, tl.location")
            for row in self.client.suiteql(q):
                if row.get("location") not in (None, ""):
                    out[(str(row["item"]), str(row["location"]))] = _units(row.get("q"))
        return out

    def stock_figures(self, shop_id: str, item_ids: Sequence[str]
                      ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int] | None]:
        """``availability`` and ``tiktok_committed`` in one SuiteQL query (one round trip and one
        concurrency slot instead of two, and both figures from the same moment)."""
        if self._no_commitments:
            return self.availability(item_ids), None
        try:
            return self._stock_figures(shop_id, item_ids)
        except FatalError as exc:  # the commitments half cannot be asked: availability on its own
            self._no_commitments = True
            log.warning("NetSuite commitments to TikTok orders cannot be read; TikTok's own reservations are not "
                        "used", extra={"error": str(exc)[:300]})
            return self.availability(item_ids), None

    def _stock_figures(self, shop_id: str, item_ids: Sequence[str]
                       ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        available: dict[tuple[str, str], int] = {}
        committed: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            ids = ", ".join(sql_literal(i) for i in chunk)
            # values quoted by sql_literal; sales order line quantities are negative in SuiteQL, so ABS
            q = ("SELECT 'A' AS k, item, location, quantityavailable AS q FROM inventoryitemlocations "  # noqa: S608
                 f"WHERE item IN ({ids}) UNION ALL "
                 "SELECT 'C' AS k, tl.item AS item, tl.location AS location, SUM(ABS(tl.quantitycommitted)) AS q "
                 "FROM transactionline tl INNER JOIN transaction t ON t.id = tl.transaction "
                 f"WHERE t.type = 'SalesOrd' AND t.custbody_ttns_shop_id = {sql_literal(shop_id)} "
                 f"AND tl.item IN ({ids}) GROUP BY tl.item, tl.location")
            for row in self.client.suiteql(q):
                if row.get("location") in (None, ""):
                    continue
                into = committed if str(row.get("k")) == "C" else available
                into[(str(row["item"]), str(row["location"]))] = _units(row.get("q"))
        return available, committed

    def _types(self, item_ids: Sequence[str], with_children: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(item_ids))):
            ids = ", ".join(sql_literal(i) for i in chunk)
            cond = f"id IN ({ids})" + (f" OR parent IN ({ids})" if with_children else "")
            rows.extend(self.client.suiteql(f"SELECT id, itemtype FROM item WHERE {cond}"))  # noqa: S608
        return rows

    def _record(self, item_id: str, itemtype: str) -> dict[str, Any] | None:
        rtype = RECORD_TYPE.get(itemtype, "inventoryItem")
        rec: dict[str, Any] | None = self.client.get(rtype, item_id, expand=True)
        return rec

    def item_details(self, item_ids: Sequence[str]) -> list[ItemDetail]:
        out: list[ItemDetail] = []
        seen: set[str] = set()
        for row in self._types(item_ids, with_children=True):
            iid = str(row["id"])
            if iid in seen:
                continue
            seen.add(iid)
            rec = self._record(iid, str(row.get("itemtype") or ""))
            if rec is None:
                continue
            weight = rec.get("weight")
            out.append(ItemDetail(
                id=iid, itemid=str(rec.get("itemId") or ""), display_name=str(rec.get("displayName") or ""),
                description=str(rec.get("salesDescription") or rec.get("storeDetailedDescription") or ""),
                inactive=_flag(rec.get("isInactive")), matrix=_ref(rec.get("matrixType")).upper(),
                parent=_ref(rec.get("parent")) or None, klass=_ref(rec.get("class")),
                weight=Decimal(str(weight)) if weight not in (None, "") else None,
                weight_unit=_ref(rec.get("weightUnit")) or str(rec.get("weightUnits") or ""), fields=rec))
        return out

    def base_currency(self) -> str:
        if self._base_currency is None:
            rows = self.client.suiteql("SELECT id FROM currency WHERE isbasecurrency = 'T'")
            self._base_currency = str(rows[0]["id"]) if rows else "1"
        return self._base_currency

    def item_prices(self, item_ids: Sequence[str], levels: Sequence[str], currency_id: str
                    ) -> dict[tuple[str, str], Decimal]:
        """From each item's ``price`` sublist (REST): quantity-1 lines of the wanted levels in the
        currency (lines without ``currencyPage`` are in the base currency)."""
        wanted = set(levels)
        base = self.base_currency()
        out: dict[tuple[str, str], Decimal] = {}
        for row in self._types(item_ids, with_children=False):
            rec = self._record(str(row["id"]), str(row.get("itemtype") or "")) or {}
            for line in (rec.get("price") or {}).get("items") or []:
                level = _ref(line.get("priceLevel"))
                cur = _ref(line.get("currencyPage")) or base
                qty = line.get("quantity")
                qty_v = qty.get("value") if isinstance(qty, Mapping) else qty
                if level not in wanted or cur != currency_id or _units(qty_v or 0) > 1:
                    continue
                if line.get("price") not in (None, ""):
                    out[(str(row["id"]), level)] = Decimal(str(line["price"]))
        return out


__all__ = ["NetSuiteInventoryAdapter"]
