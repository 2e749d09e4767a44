#!/usr/bin/env python3
"""Generate the facts-only TikTok Shop API digest the sandbox validates requests against.

Reads the official Partner Center pages (``*.spec.json`` under ``partner-center-docs/api-reference``
and the webhook pages under ``partner-center-docs/webhooks``) and writes
``bridge/sandbox/tiktok/digest.json``: per endpoint its method, path template, version, path /
query / body parameters (names, types, required flags, enum values, ranges and max counts),
response field names and types, and the documented error codes (number + short name). No
descriptions are copied. Also writes ``tests/sandbox/tiktok_signing_vectors.json`` from
``test-vectors/signing.json`` (generated test data) when ``--vectors-out`` is given.

Usage: python scripts/gen_tiktok_digest.py [SPECS_DIR] [--out PATH] [--vectors-out PATH]
SPECS_DIR defaults to ../shared/specs/tiktok (relative to the repository root).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = ROOT.parent / "shared" / "specs" / "tiktok"
DEFAULT_OUT = ROOT / "bridge" / "sandbox" / "tiktok" / "digest.json"
METHODS = {1: "POST", 2: "GET", 3: "PUT", 4: "DELETE"}
COMMON_QUERY = {"app_key", "sign", "timestamp", "shop_cipher", "access_token", "version"}

_ENUM_MARKER = re.compile(
    r"(possible values|available values|valid values|allowed values|enum values|supported values|"
    r"values include|value options|with possible values)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+`?([A-Za-z][A-Za-z0-9_]*)`?\s*(?:$|[:\uff1a(\-\u2013\u2014,]|\s+-)")
_BULLET_ANY = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+")
_ONLY_SUPPORTS = re.compile(r"only supports? `([A-Za-z0-9_]+)`", re.IGNORECASE)
_NUM = r"-?\d[\d,]*(?:\.\d+)?"
_RANGE = re.compile(
    rf"(?:valid )?range:?\s*\[\s*({_NUM}?)\s*(?:-|,|~|to)\s*({_NUM})\s*\]", re.IGNORECASE
)
_MAX_COUNT = re.compile(r"max(?:imum)?\s*(?:count|number|items?|size)\s*(?:is|:)?\s*([\d,]+)", re.IGNORECASE)
_MAX_LEN = re.compile(r"max(?:imum)?\s*length\s*(?:is|:)?\s*([\d,]+)", re.IGNORECASE)
_DEFAULT = re.compile(r"default(?: value)?\s*(?:is|:)\s*`?([A-Za-z0-9_.\-]+)`?", re.IGNORECASE)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _bound(text: str) -> int | str:
    plain = text.replace(",", "")
    return plain if "." in plain else int(plain)


def norm_type(raw: str) -> str:
    """TikTok page types: string, int, int64, bool, object, number, []string, []object … (lower-cased)."""
    t = (raw or "").strip().lower().replace(" ", "")
    aliases = {"integer": "int", "long": "int", "int32": "int", "int64": "int", "boolean": "bool",
               "float": "number", "double": "number", "float64": "number", "array": "[]string",
               "file": "file", "map": "object", "struct": "object"}
    if t.startswith("[]"):
        inner = t[2:]
        return "[]" + aliases.get(inner, inner or "string")
    if t.startswith("list<") or t.startswith("array<"):
        inner = t[t.index("<") + 1 : -1]
        return "[]" + aliases.get(inner, inner)
    return aliases.get(t, t or "string")


def split_lines(desc: str) -> list[str]:
    text = desc.replace("<br>", "\n").replace("\\n", "\n")
    return [line.strip() for line in text.splitlines()]


def _region_values(line: str) -> list[str]:
    """'- US: `KILOGRAM`, `POUND`' → values after the label; '- BRL: Brazil' → the label itself."""
    parts = _BULLET_ANY.sub("", line).split(":", 1)
    if len(parts) < 2:
        return []
    label, tail = parts[0].strip(" `"), parts[1]
    ticked = re.findall(r"`([A-Za-z0-9_]+)`", tail)
    if ticked:
        return ticked
    caps = [c.strip() for c in tail.split(".")[0].split(",")]
    caps = [c for c in caps if re.fullmatch(r"[A-Z][A-Z0-9_]+", c)]
    if caps:
        return caps
    return [label] if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", label) else []


def extract_enum(desc: str, typ: str) -> list[str] | None:
    """Enum values listed after a 'Possible values' style marker (bullets or inline list).

    Bullet lists without such a marker are ignored: they are as often format notes as enums.
    """
    base = typ[2:] if typ.startswith("[]") else typ
    if base != "string":
        return None
    lines = split_lines(desc)
    found: list[str] = []
    for i, line in enumerate(lines):
        if not _ENUM_MARKER.search(line):
            continue
        by_region = "based on" in line.lower()
        tail = line.split(":", 1)[1] if ":" in line else ""
        inline = [c.strip(" `.;") for c in re.split(r"[,/]| or ", tail) if c.strip(" `.;")]
        if len(inline) >= 2 and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", c) for c in inline):
            found += inline
            continue
        k = i + 1
        while k < len(lines) and not lines[k]:
            k += 1
        while k < len(lines):
            cur = lines[k]
            nxt = lines[k + 1] if k + 1 < len(lines) else ""
            if not cur or (not _BULLET_ANY.match(cur) and by_region and _BULLET_ANY.match(nxt)):
                if _BULLET_ANY.match(nxt):
                    k += 1
                    continue
                break
            if by_region and _BULLET_ANY.match(cur):
                found += _region_values(cur)
            elif bm := _BULLET.match(cur):
                found.append(bm.group(1))
            else:
                break
            k += 1
    if not found:
        m = _ONLY_SUPPORTS.search(desc)
        return [m.group(1)] if m else None
    if all(t.lower() in ("true", "false") for t in found):
        return None
    return sorted(set(found))


def constraints(desc: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m := _RANGE.search(desc):
        lo, hi = _bound(m.group(1)), _bound(m.group(2))
        if Decimal(str(lo)) <= Decimal(str(hi)):
            out["range"] = [lo, hi]  # integers as numbers, decimal bounds ("0.01") as exact strings
    if m := _MAX_COUNT.search(desc):
        out["max_count"] = _int(m.group(1))
    if m := _MAX_LEN.search(desc):
        out["max_length"] = _int(m.group(1))
    return out


def param_fact(p: dict[str, Any], with_constraints: bool = True) -> dict[str, Any]:
    typ = norm_type(p.get("type", ""))
    fact: dict[str, Any] = {"type": typ, "required": str(p.get("required", "N")).upper() == "Y"}
    desc = p.get("desc") or ""
    enum = extract_enum(desc, typ)
    if enum:
        fact["enum"] = enum
    if with_constraints:
        fact.update(constraints(desc))
    return fact


def build_tree(params: list[dict[str, Any]], request: bool) -> dict[str, Any]:
    """Flattened '^'-depth parameter lists → nested {name: fact(+fields)} trees."""
    root: dict[str, Any] = {}
    stack: list[dict[str, Any]] = [root]
    for p in params:
        raw = p.get("name") or ""
        depth = len(raw) - len(raw.lstrip("^"))
        name = raw.lstrip("^").strip()
        if not name:
            continue
        fact = param_fact(p) if request else {"type": norm_type(p.get("type", ""))}
        if not request and (enum := extract_enum(p.get("desc") or "", fact["type"])):
            fact["enum"] = enum
        depth = min(depth, len(stack) - 1)
        del stack[depth + 1 :]
        parent = stack[depth]
        parent[name] = fact
        if fact["type"] in ("object", "[]object"):
            fact["fields"] = {}
            stack.append(fact["fields"])
        else:
            stack.append({})  # children of a scalar (rare doc glitch) are dropped
    return root


def short_name(msg: str) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", (msg or "").strip(), maxsplit=1)[0]
    return first[:80].strip()


def digest_endpoint(path: Path, rel: str) -> dict[str, Any] | None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    meta = doc.get("document_api_meta") or {}
    route = meta.get("interface_path")
    method = METHODS.get(meta.get("method"))
    if not route or not method:
        return None
    parts = route.strip("/").split("/")
    version = parts[1] if len(parts) > 1 and parts[1].isdigit() else ""
    headers = {h["name"].lower(): {"required": str(h.get("required", "N")).upper() == "Y"}
               for h in meta.get("request_header_param") or [] if h.get("name")}
    content_type = "application/json"
    for h in meta.get("request_header_param") or []:
        if (h.get("name") or "").lower() == "content-type" and "multipart" in (h.get("desc") or "").lower():
            content_type = "multipart/form-data"
    query = {p["name"]: param_fact(p) for p in meta.get("request_query_param") or [] if p.get("name")}
    path_params = {p["name"]: param_fact(p, False) for p in meta.get("request_path_param") or [] if p.get("name")}
    errors: dict[str, str] = {}
    for e in meta.get("error_code_list") or []:
        code = str(e.get("code", "")).strip()
        if code.isdigit():
            errors.setdefault(code, short_name(e.get("msg", "")))
    shop_cipher = "shop_cipher" in query or bool(meta.get("is_shop_chiper_exist"))
    if parts and parts[0] in ("authorization", "seller"):
        shop_cipher = False
    return {
        "id": doc.get("document_id") or rel,
        "method": method,
        "path": route,
        "version": version,
        "module": parts[0] if parts else "",
        "file": rel,
        "content_type": content_type,
        "headers": headers,
        "shop_cipher": shop_cipher,
        "path_params": path_params,
        "query": query,
        "body": build_tree(meta.get("request_body_param") or [], request=True),
        "response": build_tree(meta.get("response_param") or [], request=False),
        "errors": dict(sorted(errors.items(), key=lambda kv: int(kv[0]))),
        "scopes": sorted({s.get("scope_key") for s in meta.get("scope_list") or [] if s.get("scope_key")}),
    }


# ----------------------------------------------------------------------------------- webhooks
_TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")


def _repair_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        fixed = re.sub(r'("|\d|true|false|null|\]|\})\s*\n(\s*")', r"\1,\n\2", text)
        try:
            return json.loads(fixed)
        except json.JSONDecodeError:
            return None


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "number"
    if isinstance(v, list):
        return "[]object" if v and isinstance(v[0], dict) else "[]string"
    if isinstance(v, dict):
        return "object"
    return "string"


def _fields_from_example(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        fact: dict[str, Any] = {"type": _json_type(v)}
        if isinstance(v, dict):
            fact["fields"] = _fields_from_example(v)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            fact["fields"] = _fields_from_example(v[0])
        out[k] = fact
    return out


def digest_webhook(path: Path) -> dict[str, Any] | None:
    m = re.match(r"(\d+)-(.+)\.json$", path.name)
    if not m:
        return None
    content = json.loads(path.read_text(encoding="utf-8")).get("content") or ""
    topic = m.group(2).replace("-", "_").upper()
    example = None
    if em := re.search(r"```(?:json|JSON)?\s*\n(\{.*?\})\s*```", content, re.DOTALL):
        example = _repair_json(em.group(1))
    data_fields: dict[str, Any] = {}
    if isinstance(example, dict) and isinstance(example.get("data"), dict):
        data_fields = _fields_from_example(example["data"])
    # enums and names from the parameter table
    header: list[str] | None = None
    for line in content.splitlines():
        row = _TABLE_ROW.match(line.strip())
        if not row:
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in row.group(1).split("|")]
        if header is None:
            header = [c.strip("* ").lower() for c in cells]
            continue
        if set(cells[0]) <= {"-", " "}:
            continue
        name = cells[0].replace("└", "").strip()
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in ("type", "shop_id", "timestamp", "data"):
            continue
        desc = " ".join(cells[1:])
        enum = None
        if "possible values" in desc.lower():
            enum = sorted({t for t in re.findall(r"\*\s+`?([A-Z][A-Z0-9_]+)`?", desc)}) or None
        target = data_fields.get(name)
        if target is None:
            nested = next((f["fields"] for f in data_fields.values() if name in f.get("fields", {})), None)
            target = nested.get(name) if nested else None
        if target is None:
            target = data_fields.setdefault(name, {"type": "string"})
        if enum:
            target["enum"] = enum
    return {"type": int(m.group(1)), "topic": topic, "category": path.parent.name, "data": data_fields}


_ROLE_HEADINGS = (
    ("buyer initiates", "buyer_initiate"),
    ("seller reject", "seller_reject"),
    ("seller initiates", "seller_initiate"),
    ("system", "system"),
    ("operator", "operator"),
)
REASON_MARKETS = {"US": "US", "UK": "GB"}


def digest_reasons(path: Path) -> dict[str, Any]:
    """Reason names per market (US, UK→GB) and role, with the order statuses they apply to."""
    content = json.loads(path.read_text(encoding="utf-8")).get("content") or ""
    out: dict[str, Any] = {}
    market = role = None
    status = ""
    for line in content.splitlines():
        s = line.strip()
        if s.startswith("# "):
            m = re.match(r"#\s+(\w+)\s+market", s)
            market = REASON_MARKETS.get(m.group(1)) if m else None
            role = None
            continue
        if s.startswith("## "):
            low = s.lower()
            role = next((r for key, r in _ROLE_HEADINGS if key in low), None)
            status = ""
            continue
        row = _TABLE_ROW.match(s)
        if not (market and role and row):
            continue
        cells = [c.strip() for c in row.group(1).split("|")]
        if cells[0].startswith("**") or (cells[0] and set(cells[0]) <= {"-", " "}):
            continue
        name = cells[-1]
        if not re.fullmatch(r"[a-z0-9_]+", name):
            continue
        if len(cells) >= 3:
            status = cells[0] or status
        statuses = sorted({t for t in re.findall(r"[A-Z][A-Z_]{3,}", status)}) if len(cells) >= 3 else []
        label = short_name(cells[-2])[:60]
        bucket = out.setdefault(market, {}).setdefault(role, [])
        if not any(r["name"] == name and r["statuses"] == statuses for r in bucket):
            bucket.append({"name": name, "label": label, "statuses": statuses})
    return out


def build(specs: Path) -> dict[str, Any]:
    docs = specs / "partner-center-docs"
    endpoints = []
    for p in sorted((docs / "api-reference").rglob("*.spec.json")):
        ep = digest_endpoint(p, str(p.relative_to(docs)))
        if ep:
            endpoints.append(ep)
    endpoints.sort(key=lambda e: (e["path"], e["method"]))
    prior = documented_202309(docs)
    for ep in endpoints:
        slug = re.sub(r"-\d{6}$", "", ep["id"])
        live = slug in prior and ep["version"] != "202309" and slug not in RETIRED_202309
        ep["prior_versions"] = ["202309"] if live else []
    webhooks = []
    for p in sorted((docs / "webhooks").rglob("*.json")):
        wh = digest_webhook(p)
        if wh:
            webhooks.append(wh)
    webhooks.sort(key=lambda w: w["type"])
    rr = docs / "api-reference" / "return-and-refund"
    reasons = {kind: digest_reasons(rr / f"{kind}-reasons.json") for kind in ("cancel", "return", "refund")
               if (rr / f"{kind}-reasons.json").is_file()}
    return {
        "reasons": reasons,
        "source": "TikTok Shop Partner Center API reference pages (facts only: paths, params, types, enums, codes)",
        "endpoints": endpoints,
        "webhooks": webhooks,
    }


# The project's protocol facts (DESIGN §4): the 202309 finance transaction APIs are retired (202501 serves).
RETIRED_202309 = frozenset({"get-transactions-by-statement", "get-transactions-by-order"})
_UPGRADE_GUIDE = "developer-guide/tiktok-shop-api-concepts/upgrading-to-api-version-202309.json"
_GUIDE_LINK = re.compile(r"\]\(([a-z0-9][a-z0-9-]*)\)")


def documented_202309(docs: Path) -> set[str]:
    """API page slugs the "Upgrading to API version 202309" guide lists as v202309 endpoints (its
    mapping tables link each one). Where an API's reference page now shows a later version, the
    202309 version is a documented one; the versioning page keeps a prior version available after a
    new one is released until a retirement is announced."""
    guide = docs / _UPGRADE_GUIDE
    if not guide.is_file():
        return set()
    content = json.loads(guide.read_text(encoding="utf-8")).get("content") or ""
    table = content[content.find("Use the tables below"):]
    return {m.group(1) for line in table.splitlines() if line.startswith("|") for m in _GUIDE_LINK.finditer(line)}


def vectors(specs: Path) -> dict[str, Any]:
    raw = json.loads((specs / "test-vectors" / "signing.json").read_text(encoding="utf-8"))
    keep_req = ("id", "app_secret", "method", "path", "query", "body", "expected_sign")
    keep_wh = ("id", "app_key", "app_secret", "raw_body", "expected_authorization_header")
    return {
        "request_signing": [{k: v[k] for k in keep_req if k in v} for v in raw["request_signing"]],
        "webhook_signing": [{k: v[k] for k in keep_wh if k in v} for v in raw["webhook_signing"]],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="?", default=str(DEFAULT_SPECS))
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--vectors-out", default=None, help="also write the signing vectors (test data) here")
    args = ap.parse_args(argv)
    specs = Path(args.specs)
    if not (specs / "partner-center-docs").is_dir():
        print(f"not a TikTok specs directory: {specs}", file=sys.stderr)
        return 2
    data = build(specs)
    out = Path(args.out)
    out.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(data['endpoints'])} endpoints, {len(data['webhooks'])} webhook topics)")
    if args.vectors_out:
        vo = Path(args.vectors_out)
        vo.write_text(json.dumps(vectors(specs), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {vo}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
