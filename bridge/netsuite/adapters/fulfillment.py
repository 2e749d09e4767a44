"""The fulfillment, cancellation and returns ports over the real clients: ``tiktok.shipping``,
``tiktok.aftersale``, ``netsuite.fulfillment``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from bridge.mapping.fulfillment import split_ids
from bridge.mapping.ownership import rows_not_shown
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import LineChange, NsDocument, SoLine, Written

SUITEQL_IN_CHUNK = 200


REFERENCE_TABLES = frozenset({"item", "location", "account", "paymentmethod"})


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _qty(value: Any) -> int:
    d = _dec(value)
    return 0 if d is None else int(d)


class NetSuiteFulfillmentAdapter:
    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def get(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        rec: dict[str, Any] | None = self.client.get(record_type, record_id, expand=True)
        return rec

    def order_lines(self, record_type: str, record_id: str) -> list[SoLine]:
        rec = self.get(record_type, record_id) or {}
        item = rec.get("item") or {}
        rows = item.get("items") if isinstance(item, dict) else item
        out = []
        for ln in rows or []:
            loc = ln.get("location")
            out.append(SoLine(
                line=int(ln.get("line") or 0), item_id=str((ln.get("item") or {}).get("id") or ""),
                quantity=_qty(ln.get("quantity")), fulfilled=_qty(ln.get("quantityFulfilled")),
                closed=bool(ln.get("isClosed")), line_item_ids=split_ids(ln.get("custcol_ttns_line_item_ids")),
                rate=_dec(ln.get("rate")), amount=_dec(ln.get("amount")),
                location_id=str(loc.get("id") or "") if isinstance(loc, dict) else "",
                billed=_qty(ln.get("quantityBilled")), received=_qty(ln.get("quantityReceived"))))
        return out

    def change_order_lines(self, record_type: str, record_id: str, changes: Sequence[LineChange]) -> int:
        rows: list[dict[str, Any]] = []
        for ch in changes:
            if ch.close:
                rows.append({"line": ch.line, "isClosed": True})
            else:
                row: dict[str, Any] = {"line": ch.line, "quantity": ch.quantity,
                                       "custcol_ttns_line_item_ids": ",".join(ch.line_item_ids)}
                if ch.amount is not None:
                    row["amount"] = ch.amount
                rows.append(row)
        if rows:
            self.client.patch(record_type, record_id, {"item": {"items": rows}, "custbody_ttns_source": "TTNS"})
        return len(rows)

    def find(self, record_type: str, external_id: str) -> str | None:
        rec = self.client.get_by_external_id(record_type, external_id, fields=("id",))
        return None if rec is None else str(rec.get("id"))

    def create_document(self, doc: NsDocument) -> Written:
        append = list(doc.extra.get("append_lines") or ())
        found = self.find(doc.record_type, doc.external_id)
        if found:
            if append:
                # Found, so created; its appended lines are a second write (an update) whose answer may have
                # been lost before it applied: the lines the document does not show are added now.
                current = self.client.get(doc.record_type, found, expand=True) or {}
                missing = rows_not_shown(current.get("item"), append)
                if missing:
                    self.client.patch(doc.record_type, found, {"item": {"items": missing}})
            return Written(found, False)
        if not doc.source_type:
            body = {**doc.body, "externalId": doc.external_id}
            return Written(str(self.client.create(doc.record_type, body).id), True)
        new_id = self._transform(doc)
        if append:  # lines with no source line (refunded shipping/tax) are added after the transform
            self.client.patch(doc.record_type, new_id, {"item": {"items": append}})
        return Written(new_id, True)

    def _transform(self, doc: NsDocument) -> str:
        """``!transform`` with ``replace=item`` when only the body's lines belong on the new record."""
        replace = ("item",) if doc.replace_items else ()
        return str(self.client.transform(doc.source_type, doc.source_id, doc.record_type, doc.body,
                                         external_id=doc.external_id, replace=replace).id)

    def on_hand(self, location_ids: Sequence[str]) -> dict[str, int]:
        from bridge.netsuite.adapters.orders import sql_literal

        out: dict[str, int] = {}
        if not location_ids:
            return out
        locs = ", ".join(sql_literal(x) for x in location_ids)
        q = ("SELECT i.itemid AS sku, il.quantityonhand AS qty FROM inventoryitemlocations il "  # noqa: S608
             f"JOIN item i ON i.id = il.item WHERE il.location IN ({locs})")
        for row in self.client.suiteql(q):
            sku = str(row.get("sku") or "")
            out[sku] = out.get(sku, 0) + _qty(row.get("qty"))
        return out

    def item_ids(self, itemids: Sequence[str]) -> dict[str, str]:
        from bridge.netsuite.adapters.orders import sql_literal

        out: dict[str, str] = {}
        names = sorted(set(itemids))
        for i in range(0, len(names), SUITEQL_IN_CHUNK):
            chunk = ", ".join(sql_literal(n) for n in names[i:i + SUITEQL_IN_CHUNK])
            q = f"SELECT id, itemid FROM item WHERE itemid IN ({chunk})"  # noqa: S608 - values quoted
            out.update({str(r["itemid"]): str(r["id"]) for r in self.client.suiteql(q)})
        return out

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        from bridge.netsuite.adapters.orders import sql_literal

        if table not in REFERENCE_TABLES:
            raise ValueError(f"not a reference table: {table}")
        out: dict[str, str] = {}
        eids = sorted(set(external_ids))
        for i in range(0, len(eids), SUITEQL_IN_CHUNK):
            chunk = ", ".join(sql_literal(e) for e in eids[i:i + SUITEQL_IN_CHUNK])
            q = f"SELECT id, externalid FROM {table} WHERE externalid IN ({chunk})"  # noqa: S608 - closed table list
            out.update({str(r["externalid"]): str(r["id"]) for r in self.client.suiteql(q)})
        return out


__all__ = ["NetSuiteFulfillmentAdapter"]
