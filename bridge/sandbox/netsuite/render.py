"""Views of stored records: REST JSON (refs with ``refName`` and ``links``, sublists collapsed to a
link unless ``expandSubResources``) and the SuiteScript view the harness works on (lower-case field
ids, select values as id strings, ``getText`` values), and the way back from a script's record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .rules import STATUS_LABELS
from .schema import CustomField, definition, lower_names, parse_decimal, sublists_of
from .store import Rec, Store

HIDDEN_PREFIX = "_"
# Line/body fields the sandbox computes; a request cannot set them.
SYSTEM_LINE_FIELDS = frozenset(
    {
        "quantityFulfilled",
        "quantityBilled",
        "quantityReceived",
        "quantityCommitted",
        "quantityBackOrdered",
        "quantityPicked",
        "quantityPacked",
        "quantityAvailable",
        "quantityOnHand",
        "quantityRemaining",
    }
)
SYSTEM_BODY_FIELDS = frozenset({"id", "subtotal", "total", "discountTotal", "createdDate", "lastModifiedDate"})


def json_number(value: Decimal) -> Decimal | int:
    """A stored number for a REST view: an ``int`` when it is one, else the ``Decimal`` itself, which
    ``http.json_response`` writes as the exact JSON number (never rounded through a float)."""
    if value == value.to_integral_value() and value.as_tuple().exponent >= 0:  # type: ignore[operator]
        return int(value)
    return value


def display_name(store: Store, target: str, rid: str) -> str:
    rec = store.find_any(target, {"id": rid})
    if rec is None:
        return rid
    return record_name(rec)


def record_name(rec: Rec) -> str:
    d = rec.data
    if rec.type == "customer":
        return str(d.get("entityId") or d.get("companyName") or rec.id)
    if rec.type in ("inventoryItem", "discountItem", "shipItem", "salesTaxItem"):
        return str(d.get("itemId") or rec.id)
    if rec.type == "account":
        num = d.get("acctNumber")
        return f"{num} {d.get('acctName')}" if num else str(d.get("acctName") or rec.id)
    if "tranId" in d:
        return f"{_title(rec.type)} #{d['tranId']}"
    return str(d.get("name") or d.get("itemId") or rec.id)


def _title(rec_type: str) -> str:
    out = "".join(" " + c if c.isupper() else c for c in rec_type)
    return out[:1].upper() + out[1:]


def _ref_target(entry: dict[str, Any] | None, name: str) -> str:
    if name in ("taxCode", "taxItem"):
        return "salesTaxItem"
    if name == "createdFrom":
        return "transaction"
    if entry is None:
        return "nsResource"
    return str(entry.get("ref") or "nsResource")


class Renderer:
    def __init__(self, store: Store, custom_fields: dict[str, CustomField]) -> None:
        self.store = store
        self.custom_fields = custom_fields

    # -- REST -------------------------------------------------------------------------------------
    def rest(self, rec: Rec, base: str, *, expand: bool = False, fields: set[str] | None = None) -> dict[str, Any]:
        self_href = f"{base}/{rec.type}/{rec.id}"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": self_href}]}
        body = self._object(rec.type, rec.type, rec.data, base, self_href, expand)
        if fields:
            body = {k: v for k, v in body.items() if k in fields or k == "id"}
        out.update(body)
        out["id"] = rec.id
        out["refName"] = record_name(rec)
        out["createdDate"] = rec.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["lastModifiedDate"] = rec.modified.strftime("%Y-%m-%dT%H:%M:%SZ")
        if rec.type.startswith("customrecord"):
            out["created"], out["lastModified"] = out.pop("createdDate"), out.pop("lastModifiedDate")
        return out

    def sublist(self, rec: Rec, name: str, base: str) -> dict[str, Any]:
        href = f"{base}/{rec.type}/{rec.id}/{name}"
        el = sublists_of(rec.type)[name]
        items = [self._object(rec.type, el, ln, base, f"{href}/{ln.get('line')}", True) for ln in rec.lines(name)]
        return {
            "links": [{"rel": "self", "href": href}],
            "items": items,
            "totalResults": len(items),
            "count": len(items),
            "hasMore": False,
            "offset": 0,
        }

    def _object(
        self, rec_type: str, def_name: str, data: dict[str, Any], base: str, href: str, expand: bool
    ) -> dict[str, Any]:
        props = definition(def_name)
        out: dict[str, Any] = {}
        for name, value in data.items():
            if name.startswith(HIDDEN_PREFIX) or value is None:
                continue
            entry = props.get(name)
            kind = entry["k"] if entry else None
            if kind == "sublist" and isinstance(value, list):
                sub_href = f"{href}/{name}"
                if expand:
                    items = [
                        self._object(rec_type, entry["el"], ln, base, f"{sub_href}/{ln.get('line')}", True)  # type: ignore[index]
                        for ln in value
                    ]
                    out[name] = {
                        "links": [{"rel": "self", "href": sub_href}],
                        "items": items,
                        "totalResults": len(items),
                        "count": len(items),
                        "hasMore": False,
                        "offset": 0,
                    }
                else:
                    out[name] = {"links": [{"rel": "self", "href": sub_href}]}
            elif kind == "multiref" and isinstance(value, list):
                target = str(entry["ref"])  # type: ignore[index]
                out[name] = {
                    "items": [
                        {"id": str(v["id"]), "refName": display_name(self.store, target, str(v["id"]))}
                        for v in value
                        if isinstance(v, dict) and "id" in v
                    ]
                }
            elif kind == "sub" and isinstance(value, dict):
                out[name] = self._object(rec_type, entry["ref"], value, base, f"{href}/{name}", expand)  # type: ignore[index]
            elif kind == "enum" and isinstance(value, dict):
                rid = str(value.get("id"))
                label = STATUS_LABELS.get(rec_type, {}).get(rid, rid) if name in ("status", "shipStatus") else rid
                out[name] = {"id": rid, "refName": label}
            elif isinstance(value, dict) and "id" in value and (kind == "ref" or self._is_select(name)):
                target = _ref_target(entry, name) if entry else self._select_target(name)
                rid = str(value["id"])
                ref_out: dict[str, Any] = {"id": rid, "refName": display_name(self.store, target, rid)}
                found = self.store.find_any(target, {"id": rid}) if target != "nsResource" else None
                if found is not None:
                    ref_out["links"] = [{"rel": "self", "href": f"{base}/{found.type}/{rid}"}]
                out[name] = ref_out
            else:
                out[name] = _jsonable(value)
        return out

    def _is_select(self, name: str) -> bool:
        cf = self.custom_fields.get(name)
        return bool(cf and cf.fieldtype.upper() == "SELECT")

    def _select_target(self, name: str) -> str:
        cf = self.custom_fields.get(name)
        return cf.select_record if cf and cf.select_record else "nsResource"

    # -- SuiteScript view ---------------------------------------------------------------------------
    def script(self, rec_type: str, rid: str | None, data: dict[str, Any]) -> dict[str, Any]:
        fields, texts, types = self._script_object(rec_type, rec_type, data)
        sublists: dict[str, list[dict[str, Any]]] = {}
        sublist_texts: dict[str, list[dict[str, Any]]] = {}
        subrecords: dict[str, Any] = {}
        props = definition(rec_type)
        for name, value in data.items():
            entry = props.get(name)
            if entry and entry["k"] == "sublist" and isinstance(value, list):
                rows, row_texts = [], []
                for ln in value:
                    f, t, lt = self._script_object(rec_type, entry["el"], ln)
                    rows.append(f)
                    row_texts.append(t)
                    types.update({f"{name.lower()}.{k}": v for k, v in lt.items()})
                sublists[name.lower()] = rows
                sublist_texts[name.lower()] = row_texts
            elif entry and entry["k"] == "sub" and isinstance(value, dict):
                f, t, _ = self._script_object(rec_type, entry["ref"], value)
                subrecords[name.lower()] = {"fields": f, "texts": t}
        for name, entry in props.items():
            if entry["k"] == "sublist" and name.lower() not in sublists and name in ("item", "package", "line"):
                sublists[name.lower()] = []
                sublist_texts[name.lower()] = []
        return {
            "type": rec_type.lower(),
            "id": rid,
            "fields": fields,
            "texts": texts,
            "types": types,
            "sublists": sublists,
            "sublistTexts": sublist_texts,
            "subrecords": subrecords,
        }

    def _script_object(
        self, rec_type: str, def_name: str, data: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
        props = definition(def_name)
        fields: dict[str, Any] = {}
        texts: dict[str, Any] = {}
        types: dict[str, str] = {}
        for name, value in data.items():
            if name.startswith(HIDDEN_PREFIX):
                continue
            entry = props.get(name)
            kind = entry["k"] if entry else None
            if kind in ("sublist", "sub"):
                continue
            key = name.lower()
            if value is None:
                fields[key] = None
                continue
            if kind == "enum" and isinstance(value, dict):
                rid = str(value.get("id"))
                fields[key] = rid
                texts[key] = STATUS_LABELS.get(rec_type, {}).get(rid, rid) if name in ("status", "shipStatus") else rid
            elif isinstance(value, dict) and "id" in value:
                target = _ref_target(entry, name) if entry else self._select_target(name)
                fields[key] = str(value["id"])
                texts[key] = display_name(self.store, target, str(value["id"]))
            elif isinstance(value, list) and value and isinstance(value[0], dict) and "id" in value[0]:
                fields[key] = [str(v["id"]) for v in value]
            else:
                fields[key] = _jsonable(value)
                if entry and entry.get("f") == "date":
                    types[key] = "date"
                cf = self.custom_fields.get(name)
                if cf and cf.fieldtype.upper() == "DATE":
                    types[key] = "date"
        return fields, texts, types

    # -- back from a script --------------------------------------------------------------------------
    def body_from_script(self, rec_type: str, view: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """A REST-shaped body from a script record's changed fields; returns (body, replaced sublists)."""
        body = self._from_script_object(rec_type, view.get("fields") or {})
        replaced: set[str] = set()
        subs = sublists_of(rec_type)
        by_lower = {n.lower(): n for n in subs}
        for lname, rows in (view.get("sublists") or {}).items():
            name = by_lower.get(lname)
            if name is None:
                continue
            items = [self._from_script_object(subs[name], row) for row in rows]
            body[name] = {"items": items}
            replaced.add(name)
        props = definition(rec_type)
        lower = lower_names(rec_type)
        for lname, sub in (view.get("subrecords") or {}).items():
            name = lower.get(lname)
            if name and props[name]["k"] == "sub":
                body[name] = self._from_script_object(props[name]["ref"], sub.get("fields") or {})
        return body, replaced

    def _from_script_object(self, def_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        props = definition(def_name)
        lower = lower_names(def_name)
        out: dict[str, Any] = {}
        for lname, value in fields.items():
            if lname in self.custom_fields:
                cf = self.custom_fields[lname]
                out[lname] = _custom_from_script(cf, value)
                continue
            name = lower.get(lname)
            if name is None:
                continue
            entry = props[name]
            kind = entry["k"]
            if entry.get("ro") or kind in ("links", "sublist", "sub"):
                continue
            if value is None or value == "":
                out[name] = None
            elif kind in ("ref", "enum"):
                out[name] = {"id": str(value)}
            elif kind == "multiref":
                out[name] = {"items": [{"id": str(v)} for v in (value if isinstance(value, list) else [value])]}
            elif kind == "boolean":
                out[name] = value in (True, "T", "true")
            elif kind in ("number", "integer"):
                out[name] = parse_decimal(value, name)
            else:
                out[name] = value
        return out


def _custom_from_script(cf: CustomField, value: Any) -> Any:
    ft = cf.fieldtype.upper()
    if value is None or value == "":
        return None
    if ft == "CHECKBOX":
        return value in (True, "T", "true")
    if ft == "SELECT":
        return {"id": str(value)}
    if ft == "MULTISELECT":
        return [{"id": str(v)} for v in (value if isinstance(value, list) else [value])]
    if ft in ("INTEGER", "FLOAT", "CURRENCY", "PERCENT"):
        return parse_decimal(value, cf.scriptid)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if not str(k).startswith(HIDDEN_PREFIX)}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
