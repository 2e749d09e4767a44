"""The orders ports over the real clients: ``tiktok.orders``, ``netsuite.orders``, ``netsuite.lookup``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from bridge.errors import Evidence, NeedsHumanError
from bridge.mapping.catalog import MATCHABLE_TYPES
from bridge.mapping.orders import ItemRef
from bridge.mapping.ownership import carries
from bridge.mapping.skus import MatchSpec
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import OrderWrite, WriteResult

SUITEQL_IN_CHUNK = 200


LOOKUP_COLUMNS = {"itemid": "itemid", "upccode": "upccode", "externalid": "externalid"}


LOOKUP_TABLES = frozenset({"item", "shipitem", "location", "subsidiary", "department", "classification",
                           "currency", "paymentmethod", "customer", "account", "salestaxitem"})


def sql_literal(value: str) -> str:
    """A SuiteQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def _chunks(values: Sequence[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(values), n):
        yield list(values[i:i + n])


class NetSuiteOrdersAdapter:
    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def resolve_items(self, keys: Sequence[str], rule: MatchSpec) -> dict[str, ItemRef]:
        column = LOOKUP_COLUMNS[rule.by]
        out: dict[str, ItemRef] = {}
        found: dict[str, list[str]] = {}
        wanted = set(keys)
        for chunk in _chunks(sorted(wanted), SUITEQL_IN_CHUNK):
            # The REST SuiteQL endpoint takes no bind parameters: values are quoted by sql_literal and the
            # column comes from a closed list. The SQL narrows by the rule's key; rule.key decides.
            q = (f"SELECT id, {column} AS sku, isinactive, displayname, itemtype, matrixtype FROM item "  # noqa: S608
                 f"WHERE {rule.sql_key(column)} IN ({', '.join(sql_literal(s) for s in chunk)})")
            for row in self.client.suiteql(q):
                k = rule.key(str(row.get("sku") or ""))
                matrix = str(row.get("matrixtype") or "").upper()
                if k not in wanted or matrix == "PARENT" or str(row.get("itemtype") or "") not in MATCHABLE_TYPES:
                    continue  # matrix parents and non-sale types never match (as in `ttns skus match`)
                found.setdefault(k, []).append(str(row["id"]))
                out[k] = ItemRef(id=str(row["id"]), active=str(row.get("isinactive", "F")).upper() != "T",
                                 name=str(row.get("displayname") or ""))
        ambiguous = {k: sorted(ids) for k, ids in found.items() if len(ids) > 1}
        if ambiguous:
            raise NeedsHumanError(
                "SKU(s) match several NetSuite items: " + "; ".join(
                    f"{k} -> {', '.join(ids)}" for k, ids in sorted(ambiguous.items())),
                code="AMBIGUOUS_SKU", owner="ops",
                fix_hint="Pin each SKU to one item under match.overrides in catalog.yaml (`ttns skus match` lists "
                "them as ambiguous_netsuite), or make the NetSuite item names unique, then replay.",
                evidence=Evidence.of("netsuite", "resolve items", details={"ambiguous": ambiguous}))
        return out

    def upsert_customer(self, customer: dict[str, Any]) -> str:
        body = dict(customer)
        eid = str(body.pop("externalId"))
        result = self.client.upsert("customer", eid, body, verify=lambda found: carries(found, body))
        return str(result.id)

    def upsert_order(self, write: OrderWrite) -> WriteResult:
        # With `replace` NetSuite keeps exactly the lines sent: the flow sends its own lines (with their
        # `line` numbers once known) and every line a person added as {"line": n}, so those survive
        # unchanged; a body-only update (lines locked after shipping) leaves the lines alone.
        replace = ("item",) if "item" in write.record else ()
        # A lost answer counts only when the sales order shows this write (an update's answer lost before
        # it applied leaves an order that exists but does not carry it: the client raises, the flow retries).
        result = self.client.upsert(write.record_type, write.external_id, write.record, replace=replace,
                                    verify=lambda found: carries(found, write.record, replace=replace))
        return WriteResult(write.external_id, str(result.id), "written" if result.outcome != "resolved" else
                           "resolved")

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        batch = [{"external_id": w.external_id, "record_type": w.record_type, "record": w.record,
                  **({"customer": w.customer} if w.customer else {})} for w in writes]
        results = self.client.upsert_orders(batch)
        return [WriteResult(r.external_id, r.id, r.status,
                            r.customer_id, dict(r.error or {})) for r in results]

    def upsert_record(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        payload = {k: v for k, v in body.items() if k != "externalId"}
        return str(self.client.upsert(record_type, external_id, payload,
                                      verify=lambda found: carries(found, payload)).id)

    def find_order(self, record_type: str, external_id: str) -> str | None:
        rec = self.client.get_by_external_id(record_type, external_id, fields=("id",))
        return None if rec is None else str(rec.get("id"))

    def get_order(self, record_type: str, netsuite_id: str) -> dict[str, Any] | None:
        rec: dict[str, Any] | None = self.client.get(record_type, netsuite_id, expand=True)
        return rec

    def _lines(self, record_type: str, netsuite_id: str) -> list[dict[str, Any]]:
        rec = self.client.get(record_type, netsuite_id, expand=True) or {}
        item = rec.get("item") or {}
        return list(item.get("items") or []) if isinstance(item, dict) else []

    def close_order_lines(self, record_type: str, netsuite_id: str, line_item_ids: Sequence[str] | None) -> int:
        wanted = set(line_item_ids or ())
        closing = []
        for ln in self._lines(record_type, netsuite_id):
            ids = set(str(ln.get("custcol_ttns_line_item_ids") or "").split(",")) - {""}
            if ln.get("isClosed") or (line_item_ids is not None and not ids & wanted):
                continue
            closing.append({"line": ln.get("line"), "isClosed": True})
        if closing:
            self.client.patch(record_type, netsuite_id, {"item": {"items": closing},
                                                         "custbody_ttns_source": "TTNS"})
        return len(closing)

    def document_numbers(self, netsuite_ids: Sequence[str]) -> dict[str, str]:
        ids = sorted({i for i in netsuite_ids if i.isdigit()})  # internal ids only: nothing else reaches the SQL
        out: dict[str, str] = {}
        for chunk in _chunks(ids, SUITEQL_IN_CHUNK):
            q = f"SELECT id, tranid FROM transaction WHERE id IN ({', '.join(chunk)})"  # noqa: S608 - digits only
            out.update({str(r["id"]): str(r["tranid"]) for r in self.client.suiteql(q) if r.get("tranid")})
        return out

    def fulfilled_quantities(self, record_type: str, netsuite_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for ln in self._lines(record_type, netsuite_id):
            ids = str(ln.get("custcol_ttns_line_item_ids") or "")
            if ids:
                out[ids] = int(Decimal(str(ln.get("quantityFulfilled") or 0)))  # exact, never via a float
        return out


class NetSuiteLookupAdapter:
    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def _rows_by_id(self, table: str, ids: Sequence[str], columns: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        """(the asked id, its row) for each of ``ids`` that exists in ``table``; ``eid:X`` values are looked up
        by external id. ``columns``: more columns to read (a closed list, never user input)."""
        internal = sorted({i for i in ids if not i.startswith("eid:")})
        external = sorted({i[4:] for i in ids if i.startswith("eid:")})
        extra = f", {columns}" if columns else ""
        for column, values, prefix in (("id", internal, ""), ("externalid", external, "eid:")):
            for chunk in _chunks(values, SUITEQL_IN_CHUNK):
                q = (f"SELECT {column} AS k{extra} FROM {table} "  # noqa: S608 - closed table/column lists, quoted values
                     f"WHERE {column} IN ({', '.join(sql_literal(i) for i in chunk)})")
                for r in self.client.suiteql(q):
                    yield prefix + str(r["k"]), r

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` exist; ``eid:X`` values are looked up by external id."""
        if table not in LOOKUP_TABLES:
            raise ValueError(f"not a lookup table: {table}")
        return {k for k, _ in self._rows_by_id(table, ids)}

    def account_types(self, ids: Sequence[str]) -> dict[str, str]:
        return {k: str(r.get("accttype") or "") for k, r in self._rows_by_id("account", ids, "accttype")}

    def account_currencies(self, ids: Sequence[str]) -> dict[str, str]:
        by_account = {k: str(r["currency"]) for k, r in self._rows_by_id("account", ids, "currency")
                      if r.get("currency") not in (None, "")}
        symbols: dict[str, str] = {}
        for chunk in _chunks(sorted(set(by_account.values())), SUITEQL_IN_CHUNK):
            q = ("SELECT id, symbol FROM currency "  # noqa: S608 - quoted values
                 f"WHERE id IN ({', '.join(sql_literal(i) for i in chunk)})")
            symbols.update({str(r["id"]): str(r.get("symbol") or "") for r in self.client.suiteql(q)})
        return {a: symbols.get(c, c).upper() for a, c in by_account.items()}

    def internal_ids(self, wanted: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], str]:
        parts = []
        for table, eids in sorted(wanted.items()):
            if table not in LOOKUP_TABLES:
                raise ValueError(f"not a lookup table: {table}")
            if eids:
                # closed table list, quoted values: no SQL from configuration
                parts.append(f"SELECT {sql_literal(table)} AS t, id, externalid FROM {table} "  # noqa: S608
                             f"WHERE externalid IN ({', '.join(sql_literal(e) for e in sorted(set(eids)))})")
        if not parts:
            return {}
        rows = self.client.suiteql(" UNION ALL ".join(parts))
        return {(str(r["t"]), str(r["externalid"])): str(r["id"]) for r in rows}


__all__ = ["NetSuiteLookupAdapter", "NetSuiteOrdersAdapter"]
