#!/usr/bin/env python3
"""Generate the NetSuite sandbox's facts-only record digest.

Reads the REST record browser digest (``record-schemas.json``) and the per-record operation pages
(``records/*.md``) from the shared specs directory (plus ``netsuite_extra_schemas.json``: the same
facts for served records the shared specs lack — ``customerPayment``) and writes
``bridge/sandbox/netsuite/digest.json``: for every record the sandbox serves, its properties with
kind / type / format / read-only flag / enum / reference, its sublists and sub-objects, and the
``!transform`` targets the record browser lists. No labels or prose are copied.

Usage: ``python scripts/gen_netsuite_digest.py [SPECS_DIR] [OUT]``
(defaults: ``../shared/specs/netsuite`` relative to the repository and the package path).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = ROOT.parent / "shared" / "specs" / "netsuite"
DEFAULT_OUT = ROOT / "bridge" / "sandbox" / "netsuite" / "digest.json"

SERVED = [
    "salesOrder",
    "customer",
    "itemFulfillment",
    "returnAuthorization",
    "creditMemo",
    "cashRefund",
    "customerDeposit",
    "customerRefund",
    "cashSale",
    "invoice",
    "journalEntry",
    "deposit",
    "inventoryItem",
    "location",
    "inventoryAdjustment",
    "inventoryTransfer",
    "itemReceipt",
    "transferOrder",
    "account",
    "subsidiary",
    "currency",
    "classification",
    "department",
    "paymentMethod",
    "shipItem",
    "discountItem",
    "customerPayment",
]
# Definitions of served records the shared specs lack (facts only, same catalog; see its "source").
EXTRA_SCHEMAS = ROOT / "scripts" / "netsuite_extra_schemas.json"

_TRANSFORM_ROW = re.compile(r"^\| POST \| `/(\w+)/\{id\}/!transform/(\w+)` \|")


def _owned(defs: dict[str, Any], record: str) -> list[str]:
    """The record's own definitions reachable from its body (sublists, elements, sub-objects)."""
    seen: list[str] = []
    todo = [record]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.append(name)
        for prop in defs[name].values():
            ref = prop.get("ref")
            if ref and ref.startswith(record + "-"):
                todo.append(ref)
    return seen


def _collection_element(defs: dict[str, Any], ref: str) -> str | None:
    """A collection-shaped definition (``count``/``items``…) -> the definition of its items."""
    items = defs.get(ref, {}).get("items")
    if items and str(items.get("type", "")).endswith("[]") and items.get("ref"):
        return str(items["ref"])
    return None


def _digest_definition(
    props: dict[str, Any], enums: dict[tuple[str, ...], int], defs: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    children: dict[str, dict[str, Any]] = {}
    for name, prop in props.items():
        if "." in name:
            parent, child = name.split(".", 1)
            children.setdefault(parent, {})[child] = prop
    for name, prop in sorted(props.items()):
        if "." in name:
            continue
        typ: str = prop["type"]
        ref = prop.get("ref")
        entry: dict[str, Any] = {}
        if "read-only" in prop.get("flags", []):
            entry["ro"] = True
        if typ.endswith("[]"):
            entry["k"] = "links" if typ == "nsLink[]" else "array"
        elif typ == "object" and "id" in children.get(name, {}):
            entry["k"] = "enum"
            values = tuple(children[name]["id"].get("enum") or [])
            if values:
                entry["e"] = enums.setdefault(values, len(enums))
        elif typ == "object":
            entry["k"] = "object"
        elif ref and _collection_element(defs, ref):
            element = _collection_element(defs, ref)
            if element and "-" in element:
                entry["k"] = "sublist"
                entry["el"] = element
            else:
                entry["k"] = "multiref"  # a multi-select: {"items": [{"id": …}, …]}
                entry["ref"] = element
        elif ref and "-" in ref:
            entry["k"] = "sub"
            entry["ref"] = ref
        elif ref:
            entry["k"] = "ref"
            entry["ref"] = ref
        else:
            entry["k"] = typ
            if prop.get("format"):
                entry["f"] = prop["format"]
            if prop.get("enum"):
                entry["e"] = enums.setdefault(tuple(prop["enum"]), len(enums))
        out[name] = entry
    return out


def _transforms(records_dir: Path) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for page in sorted(records_dir.glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            m = _TRANSFORM_ROW.match(line)
            if m:
                found.setdefault(m.group(1), set()).add(m.group(2))
    return {k: sorted(v) for k, v in sorted(found.items())}


def build(specs: Path) -> dict[str, Any]:
    defs: dict[str, Any] = json.loads((specs / "record-schemas.json").read_text(encoding="utf-8"))
    extra: dict[str, Any] = json.loads(EXTRA_SCHEMAS.read_text(encoding="utf-8"))["definitions"]
    defs.update({name: props for name, props in extra.items() if name not in defs})
    enums: dict[tuple[str, ...], int] = {}
    definitions: dict[str, Any] = {}
    for record in SERVED:
        if record not in defs:
            raise SystemExit(f"record {record} missing from record-schemas.json")
        for name in _owned(defs, record):
            definitions[name] = _digest_definition(defs[name], enums, defs)
    enum_list = [list(v) for v, _ in sorted(enums.items(), key=lambda kv: kv[1])]
    return {
        "source": "NetSuite Record REST API v1 2026.1 record browser (record-schemas.json, records/*.md)",
        "records": SERVED,
        "transforms": _transforms(specs / "records"),
        "enums": enum_list,
        "definitions": definitions,
    }


def main(argv: list[str]) -> int:
    specs = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPECS
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    digest = build(specs)
    out.write_text(json.dumps(digest, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(digest['definitions'])} definitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
