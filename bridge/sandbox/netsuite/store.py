"""The record store: every record of the account in memory, by type and internal id.

Internal ids are strings of integers; transactions share one sequence, entities, items and the
other lists have their own, as in NetSuite. Callers hold the sandbox lock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .schema import ITEM_TYPES, TRANSACTION_TYPES

ITEM_RECORDS = (*ITEM_TYPES, "salesTaxItem")
ENTITY_RECORDS = ("customer",)


def family(record_type: str) -> str:
    if record_type in TRANSACTION_TYPES:
        return "transaction"
    if record_type in ITEM_RECORDS:
        return "item"
    if record_type in ENTITY_RECORDS:
        return "entity"
    return record_type


@dataclass
class Rec:
    type: str
    id: str
    data: dict[str, Any]
    created: datetime
    modified: datetime
    version: int = 1

    def lines(self, sublist: str) -> list[dict[str, Any]]:
        value = self.data.get(sublist)
        return value if isinstance(value, list) else []

    def ref_id(self, name: str) -> str | None:
        value = self.data.get(name)
        if isinstance(value, dict) and value.get("id") is not None:
            return str(value["id"])
        return None

    def clone(self) -> Rec:
        return Rec(self.type, self.id, copy.deepcopy(self.data), self.created, self.modified, self.version)


@dataclass
class Store:
    records: dict[str, dict[str, Rec]] = field(default_factory=dict)
    by_eid: dict[str, dict[str, str]] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    tran_numbers: dict[str, int] = field(default_factory=dict)

    _STARTS = {"transaction": 1000, "item": 100, "entity": 500}

    def next_id(self, record_type: str) -> str:
        fam = family(record_type)
        current = self.sequences.get(fam, self._STARTS.get(fam, 0))
        self.sequences[fam] = current + 1
        return str(current + 1)

    def next_tran_number(self, record_type: str) -> int:
        n = self.tran_numbers.get(record_type, 0) + 1
        self.tran_numbers[record_type] = n
        return n

    def get(self, record_type: str, rid: str) -> Rec | None:
        return self.records.get(record_type, {}).get(str(rid))

    def by_external_id(self, record_type: str, eid: str) -> Rec | None:
        rid = self.by_eid.get(record_type, {}).get(eid)
        return self.get(record_type, rid) if rid is not None else None

    def put(self, rec: Rec, old: Rec | None = None) -> None:
        if old is not None:
            old_eid = old.data.get("externalId")
            if old_eid and self.by_eid.get(rec.type, {}).get(old_eid) == rec.id:
                del self.by_eid[rec.type][old_eid]
        self.records.setdefault(rec.type, {})[rec.id] = rec
        eid = rec.data.get("externalId")
        if eid:
            self.by_eid.setdefault(rec.type, {})[str(eid)] = rec.id

    def remove(self, rec: Rec) -> None:
        self.records.get(rec.type, {}).pop(rec.id, None)
        eid = rec.data.get("externalId")
        if eid and self.by_eid.get(rec.type, {}).get(eid) == rec.id:
            del self.by_eid[rec.type][eid]

    def all(self, record_type: str) -> list[Rec]:
        return list(self.records.get(record_type, {}).values())

    def find_item(self, rid: str) -> Rec | None:
        for t in ITEM_RECORDS:
            rec = self.get(t, rid)
            if rec is not None:
                return rec
        return None

    def find_transaction(self, rid: str) -> Rec | None:
        for t in TRANSACTION_TYPES:
            rec = self.get(t, rid)
            if rec is not None:
                return rec
        return None

    def find_any(self, target: str, key: dict[str, str]) -> Rec | None:
        """Resolve a reference ``{"id"}`` / ``{"externalId"}`` to a record of the target family."""
        if target in ("kitItem", "item", "inventoryItem", "discountItem", "shipItem", "salesTaxItem"):
            types: tuple[str, ...] = ITEM_RECORDS
        elif target in ("customer", "entity"):
            types = ENTITY_RECORDS
        elif target == "transaction":
            types = tuple(TRANSACTION_TYPES)
        else:
            types = (target,)
        for t in types:
            rec = self.get(t, key["id"]) if "id" in key else self.by_external_id(t, key["externalId"])
            if rec is not None:
                return rec
        return None
