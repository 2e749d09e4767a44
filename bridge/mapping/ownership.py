"""What the bridge owns on a sales order, and the three-way merge that keeps people's edits (pure).

NetSuite is the system of record (DESIGN.md guarantee 6). The bridge owns:

- the **lines it created**: product lines keyed by their TikTok line-item ids
  (``custcol_ttns_line_item_ids``), and its discount, shipping, tax, fee and rounding lines keyed by
  kind and description (``line_key``) and by the NetSuite ``line`` number it learned for them;
- its **custom fields** (``custbody_ttns_*``, ``custcol_ttns_*``);
- the **body fields its spec maps** (memo, location, dates, addresses … whatever ``orders.yaml``
  produces), but only as long as nobody changed them in NetSuite.

Before an update the flow reads the sales order and compares it with what the bridge last wrote
(``Snapshot``, kept on the order's link). A field or line a person changed (current ≠ last written)
is left as the person made it when TikTok did not change it; when TikTok changed it too (new value ≠
last written ≠ current) it is a *conflict*: the order is not written at all and an exception shows
both versions. Lines a person added are sent back as ``{"line": n}`` so a ``replace=item`` write
keeps them, unchanged and with their numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

OWN_PREFIXES = ("custbody_ttns_", "custcol_ttns_")
IDS = "custcol_ttns_line_item_ids"
# Keys NetSuite adds to what it returns; never compared.
IGNORED = frozenset({"links", "refName", "line", "id"})
MISSING: Any = object()


def norm(value: Any) -> Any:
    """A comparable form of a value as sent or as NetSuite returns it (refs → id, numbers → Decimal)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | int | float):
        return Decimal(str(value)).normalize()
    if isinstance(value, Mapping):
        if "items" in value and isinstance(value["items"], list):
            return [norm(v) for v in value["items"]]
        return {str(k): norm(v) for k, v in value.items() if k not in IGNORED or k == "id"}
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    if isinstance(value, str):
        try:
            if value.strip() and value.strip().lstrip("-").replace(".", "", 1).isdigit():
                return Decimal(value.strip()).normalize()
        except InvalidOperation:
            pass
        return value
    return str(value)


def same(current: Any, reference: Any) -> bool:
    """Whether NetSuite's ``current`` value still equals ``reference`` (what was sent). Keys NetSuite
    does not return (an external-id reference, a subrecord field it dropped) cannot show a change."""
    if current is MISSING:
        return True
    c, r = norm(current), norm(reference)
    if isinstance(r, dict):
        if not isinstance(c, dict):
            return c in (None, "") and not any(v not in (None, "") for v in r.values())
        return all(k not in c or same(c[k], v) for k, v in r.items())
    if r in (None, "") and c in (None, ""):
        return True
    return bool(c == r)


@dataclass(frozen=True)
class Conflict:
    """One place a person and TikTok both changed since the bridge's last write."""

    where: str  # "memo", "line 3 (product SKU-1) rate"
    netsuite: Any  # the person's value, as NetSuite holds it now
    tiktok: Any  # what the bridge would write for TikTok's new version
    last_written: Any
    line_key: str = ""  # the bridge's line (its line_key) for a line conflict; "" for a body field

    def as_evidence(self) -> dict[str, Any]:
        out = {"where": self.where, "netsuite": _text(self.netsuite), "tiktok": _text(self.tiktok),
               "last_written": _text(self.last_written)}
        if self.line_key:
            out["line_key"] = self.line_key
        return out


@dataclass(frozen=True)
class Merge:
    record: dict[str, Any]  # what to send (with ``line`` numbers; person lines as {"line": n})
    conflicts: tuple[Conflict, ...] = ()
    kept: tuple[str, ...] = ()  # people's changes left as they are
    person_lines: tuple[int, ...] = ()
    line_numbers: dict[str, int] = field(default_factory=dict)  # line_key → NetSuite line, as matched
    base: Mapping[str, Any] | None = None  # the snapshot merged against (after ``adopt``), for ``carry_adopted``


def _text(v: Any) -> Any:
    v = norm(v)
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dict):
        return {k: _text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_text(x) for x in v]
    return v


def owned_field(name: str) -> bool:
    return name.startswith(OWN_PREFIXES)


def _ids(value: Any) -> set[str]:
    return {s.strip() for s in str(value or "").split(",") if s.strip()}


def snapshot(record: Mapping[str, Any], line_keys: Sequence[str], line_numbers: Mapping[str, int] | None = None,
             *, max_line: int = 0) -> dict[str, Any]:
    """What the bridge wrote (its desired record), to merge against next time (JSON-able)."""
    rows = (record.get("item") or {}).get("items") or [] if isinstance(record.get("item"), Mapping) else []
    fields = {k: _text(v) for k, v in record.items() if k not in ("item", "externalId")}
    lines = []
    for key, row in zip(line_keys, rows, strict=False):
        entry: dict[str, Any] = {"key": key, "fields": {k: _text(v) for k, v in row.items() if k != "line"}}
        if line_numbers and key in line_numbers:
            entry["line"] = int(line_numbers[key])
        lines.append(entry)
    return {"fields": fields, "lines": lines, "max_line": max_line, "has_lines": "item" in record}


def merge(desired: Mapping[str, Any], line_keys: Sequence[str], written: Mapping[str, Any] | None,
          current: Mapping[str, Any], *, force: bool = False) -> Merge:
    """The write that moves NetSuite to ``desired`` without undoing what people changed.

    ``desired`` is the mapped record (lines in ``desired["item"]["items"]``, one ``line_keys`` entry
    each); ``written`` the last ``snapshot`` (None: nothing known, every mapped field is ours);
    ``current`` the sales order as NetSuite returns it (lines expanded). ``force`` resolves conflicts
    in TikTok's favour (the one action on a conflict exception)."""
    w_fields: Mapping[str, Any] = (written or {}).get("fields") or {}
    t_fields: Mapping[str, Any] = (written or {}).get("tiktok") or {}
    conflicts: list[Conflict] = []
    kept: list[str] = []
    out: dict[str, Any] = {}
    for name, value in desired.items():
        if name == "item":
            continue
        if owned_field(name) or name == "externalId" or name not in w_fields:
            out[name] = value
            continue
        cur = current.get(name, MISSING)
        base = w_fields[name]  # NetSuite's value as the bridge last knew it
        tiktok_base = t_fields.get(name, base)  # TikTok's value that base stands for (differs once adopted)
        if same(cur, value):
            continue
        if same(value, tiktok_base):
            kept.append(name)  # TikTok did not change it: the person's (or the adopted) value stays
        elif same(cur, base) or force:
            out[name] = value
        else:
            conflicts.append(Conflict(name, cur, value, base))
    if "item" not in desired:
        return Merge(out, tuple(conflicts), tuple(kept), base=written)

    rows: list[dict[str, Any]] = list((desired["item"] or {}).get("items") or [])
    cur_lines: list[dict[str, Any]] = [dict(ln) for ln in ((current.get("item") or {}).get("items") or [])]
    cur_lines.sort(key=lambda ln: int(ln.get("line") or 0))
    w_lines: list[dict[str, Any]] = list((written or {}).get("lines") or [])
    if not written:
        # An order written before the bridge kept snapshots: its non-product lines are found by item.
        w_lines = [{"key": k, "fields": {"item": _text(r.get("item"))}} for k, r in zip(line_keys, rows, strict=False)
                   if not _ids(r.get(IDS))]
    max_line = int((written or {}).get("max_line") or 0)
    claimed: set[int] = set()

    def number(ln: Mapping[str, Any]) -> int:
        return int(ln.get("line") or 0)

    # The bridge's non-product lines in NetSuite: by the line number it learned, else (first update after
    # the create) by item, in line order, among lines added since its last write that carry no TikTok ids.
    resolved: dict[str, int] = {}
    for e in w_lines:
        if _ids((e.get("fields") or {}).get(IDS)):
            continue
        key = str(e.get("key"))
        if e.get("line") is not None:
            if any(number(ln) == int(e["line"]) for ln in cur_lines):
                resolved[key] = int(e["line"])
            continue
        item = (e.get("fields") or {}).get("item")
        hit = next((ln for ln in cur_lines if number(ln) > max_line and number(ln) not in resolved.values()
                    and not _ids(ln.get(IDS)) and same(ln.get("item"), item)), None)
        if hit is not None:
            resolved[key] = number(hit)

    def match_current(key: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
        ids = _ids(row.get(IDS))
        if ids:
            best, hit = 0, None
            for ln in cur_lines:
                overlap = len(ids & _ids(ln.get(IDS)))
                if number(ln) not in claimed and overlap > best:
                    best, hit = overlap, ln
            return hit
        if key not in resolved:
            return None  # a line the bridge has not written before: it is new
        return next((ln for ln in cur_lines if number(ln) == resolved[key] and number(ln) not in claimed), None)

    def written_line(key: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
        ids = _ids(row.get(IDS))
        if ids:
            best, hit = 0, None
            for e in w_lines:
                overlap = len(ids & _ids((e.get("fields") or {}).get(IDS)))
                if overlap > best:
                    best, hit = overlap, e
            return hit
        return next((e for e in w_lines if e.get("key") == key), None)

    line_numbers: dict[str, int] = {}
    sent: list[dict[str, Any]] = []
    for key, row in zip(line_keys, rows, strict=True):
        ln = match_current(key, row)
        if ln is None:
            sent.append(dict(row))
            continue
        claimed.add(number(ln))
        line_numbers[key] = number(ln)
        entry = written_line(key, row)
        base_fields: Mapping[str, Any] = (entry or {}).get("fields") or {}
        line_tiktok: Mapping[str, Any] = (entry or {}).get("tiktok") or {}
        merged: dict[str, Any] = {"line": number(ln)}
        # A line is one thing: a person's change to it merges only when TikTok left the line alone.
        edited = [k for k, v in base_fields.items() if not owned_field(k) and not same(ln.get(k, MISSING), v)]
        tiktok = [k for k, v in row.items() if not owned_field(k) and k in base_fields
                  and not same(v, line_tiktok.get(k, base_fields[k])) and not same(ln.get(k, MISSING), v)]
        # values adopted from NetSuite (an ignored conflict) stay while TikTok still says what it said then
        adopted = [k for k, v in line_tiktok.items() if same(row.get(k), v) and not same(ln.get(k, MISSING), v)]
        if edited and tiktok and not force:
            conflicts.append(Conflict(f"line {number(ln)} ({key})",
                                      {k: ln.get(k) for k in sorted(set(edited) | set(tiktok))},
                                      {k: row.get(k) for k in sorted(set(edited) | set(tiktok))},
                                      {k: base_fields.get(k) for k in sorted(set(edited) | set(tiktok))}, key))
        for name, value in row.items():
            if (name in edited or name in adopted) and not force:
                kept.append(f"line {number(ln)} {name}")
                continue
            merged[name] = value
        sent.append(merged)
    person: list[int] = []
    for ln in cur_lines:
        n = number(ln)
        if n in claimed:
            continue
        if _ids(ln.get(IDS)) or n in resolved.values():
            # The bridge's line that TikTok no longer has: removed, unless a person changed it.
            entry = next((e for e in w_lines if resolved.get(str(e.get("key"))) == n), None) or next(
                (e for e in w_lines if _ids((e.get("fields") or {}).get(IDS)) & _ids(ln.get(IDS))), None)
            changed = [k for k, v in ((entry or {}).get("fields") or {}).items()
                       if not owned_field(k) and not same(ln.get(k, MISSING), v)]
            if changed and not force:
                conflicts.append(Conflict(f"line {n} ({(entry or {}).get('key', 'product')}) removed by TikTok",
                                          {k: ln.get(k) for k in changed},
                                          None, {k: (entry or {}).get("fields", {}).get(k) for k in changed}))
            elif _ids(ln.get(IDS)):
                # A product line TikTok cancelled whole: closed at no charge rather than deleted, so the
                # sales order keeps what was ordered and cancelled, its stock is released and its total
                # is TikTok's (a closed line still counts in NetSuite's total, hence the zero amount).
                sent.append({"line": n, "isClosed": True, "rate": 0, "amount": 0})
            continue
        person.append(n)
        sent.append({"line": n})
    out["item"] = {"items": sent}
    return Merge(out, tuple(conflicts), tuple(kept), tuple(person), line_numbers, base=written)


def adopt(written: Mapping[str, Any] | None, conflicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The snapshot after a person chose to keep NetSuite's version of a conflict (ignored it): each
    conflicting field's base becomes NetSuite's value, remembered beside the TikTok value it answered
    (``tiktok``), so the merge keeps it until TikTok changes that field again, and then writes TikTok's
    new value only if nobody changed it since. A line TikTok removed cannot be adopted (it stays a conflict)."""
    snap: dict[str, Any] = {**(written or {})}
    fields_ = dict(snap.get("fields") or {})
    tiktok = dict(snap.get("tiktok") or {})
    lines = [dict(e) for e in (snap.get("lines") or [])]
    for c in conflicts:
        key = str(c.get("line_key") or "")
        if not key:
            where = str(c.get("where"))
            fields_[where], tiktok[where] = c.get("netsuite"), c.get("tiktok")
            continue
        ns, tt = c.get("netsuite"), c.get("tiktok")
        if not isinstance(ns, Mapping) or not isinstance(tt, Mapping):
            continue
        for e in lines:
            if e.get("key") == key:
                e["fields"] = {**(e.get("fields") or {}), **{k: ns.get(k) for k in tt}}
                e["tiktok"] = {**(e.get("tiktok") or {}), **{k: tt.get(k) for k in tt}}
    snap.update(fields=fields_, tiktok=tiktok, lines=lines)
    return snap


def carry_adopted(snap: dict[str, Any], base: Mapping[str, Any] | None) -> dict[str, Any]:
    """``snap`` (what this write set) keeping the adopted NetSuite values of ``base`` whose TikTok value
    has not changed since (they were not written, so they are still the base)."""
    if not base:
        return snap
    tb = base.get("tiktok") or {}
    fields_ = snap.get("fields") or {}
    keep = {k: v for k, v in tb.items() if k in fields_ and same(fields_[k], v)}
    if keep:
        snap["fields"] = {**fields_, **{k: (base.get("fields") or {}).get(k) for k in keep}}
        snap["tiktok"] = keep
    by_key = {str(e.get("key")): e for e in (base.get("lines") or []) if e.get("tiktok")}
    for e in snap.get("lines") or []:
        old = by_key.get(str(e.get("key")))
        if old is None:
            continue
        lk = {k: v for k, v in (old.get("tiktok") or {}).items() if same((e.get("fields") or {}).get(k), v)}
        if lk:
            e["fields"] = {**(e.get("fields") or {}), **{k: (old.get("fields") or {}).get(k) for k in lk}}
            e["tiktok"] = lk
    return snap


def max_line_number(current: Mapping[str, Any]) -> int:
    return max((int(ln.get("line") or 0) for ln in ((current.get("item") or {}).get("items") or [])), default=0)


# Sublists NetSuite lists with every candidate row and a checkbox (a payment's open invoices, a deposit's
# undeposited payments): an unselected row is a candidate, not a line of the record.
SELECTION_FLAGS = ("apply", "deposit")


def _shows(current: Any, sent: Any) -> bool:
    """Whether NetSuite's value shows the value sent: ``same``, except that a field NetSuite does not
    return is empty (its REST GET omits empty fields), a reference by external id (which NetSuite
    returns by internal id) cannot show a difference, and an enumeration it returns as ``{"id": …}``
    may have been sent as the bare value."""
    if current is MISSING:
        current = None
    if isinstance(sent, Mapping):
        if not isinstance(current, Mapping):
            return all(v in (None, "") for v in sent.values())
        return all(_shows(current.get(k, MISSING), v) for k, v in sent.items()
                   if k not in ("links", "refName") and not (k == "externalId" and k not in current))
    if isinstance(current, Mapping):
        current = current.get("id", current)
    if sent is False and current is None:
        return True
    return same(current, sent)


def _rows(value: Any) -> list[Mapping[str, Any]] | None:
    if isinstance(value, Mapping) and isinstance(value.get("items"), list):
        return [r for r in value["items"] if isinstance(r, Mapping)]
    return None


def _row_shows(current: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    return all(_shows(current.get(k, MISSING), v) for k, v in sent.items() if k != "line")


def _sublist_shows(current: list[Mapping[str, Any]], sent: list[Mapping[str, Any]], *, exact: bool) -> bool:
    claimed: set[int] = set()
    for row in sent:
        if row.get("line") is not None:  # the line it names, with the fields sent
            hit = next((i for i, c in enumerate(current) if i not in claimed
                        and str(c.get("line")) == str(row["line"]) and _row_shows(c, row)), None)
        else:
            hit = next((i for i, c in enumerate(current) if i not in claimed and _row_shows(c, row)), None)
        if hit is None:
            return False
        claimed.add(hit)
    if not exact:
        return True
    return all(i in claimed or any(f in c and not c[f] for f in SELECTION_FLAGS) for i, c in enumerate(current))


def rows_not_shown(current: Any, sent: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of ``sent`` that no distinct line of the sublist ``current`` (as NetSuite returns it,
    expanded) shows: the lines a write added whose answer was lost before it applied."""
    rows = _rows(current) or []
    claimed: set[int] = set()
    out = []
    for row in sent:
        hit = next((i for i, c in enumerate(rows) if i not in claimed and _row_shows(c, row)), None)
        if hit is None:
            out.append(row)
        else:
            claimed.add(hit)
    return out


def carries(record: Mapping[str, Any], body: Mapping[str, Any], *, replace: Sequence[str] = ()) -> bool:
    """Whether ``record`` (as NetSuite's REST GET returns it, sublists expanded) shows every field of
    ``body`` (what a write sent): the test that a write whose answer was lost applied, or that the
    record already is what it asked for. Body fields by ``same``; sublist rows each by a distinct line
    (a row naming ``line`` by that line); a sublist named in ``replace`` holds nothing else. A sublist
    NetSuite did not return expanded shows nothing. False negatives only cost a write sent again."""
    for name, value in body.items():
        if name == "externalId":
            continue
        sent_rows = _rows(value)
        if sent_rows is not None:
            current_rows = _rows(record.get(name))
            if current_rows is None or not _sublist_shows(current_rows, sent_rows, exact=name in replace):
                return False
        elif not _shows(record.get(name, MISSING), value):
            return False
    return True
