"""Pure fulfillment mapping: a NetSuite item fulfillment → the TikTok packages it ships.

TikTok order line items carry no quantity (one line item = one unit), NetSuite fulfillment lines
do. ``plan_shipments`` turns the fulfillment's lines and packages into shipments, each a tracking
number with the TikTok line-item ids it carries:

1. **Units.** Each fulfilled line takes ``quantity`` ids, in order, from its candidates: the ids
   NetSuite put on the line (``custcol_ttns_line_item_ids``, copied from the sales order line), or
   else the ids of the order's allocation lines for the same item (``links.data.allocation``,
   NetSuite line order). Ids that are *unavailable* — shipped by another fulfillment, shipped on
   TikTok by someone else, or cancelled — are skipped, so each unit is shipped once across every
   fulfillment of an order. Units NetSuite fulfilled that have no open TikTok line item left are
   reported as ``unmatched``.
2. **Packages.** A line with a package number (``custcol_ttns_package``, 1-based in the order of
   the fulfillment's package lines) ships in that package. Lines without one are split evenly over
   the packages no line names (over all packages when every package is named): in line order, the
   first ``ceil(n/p)`` units go to the first such package, the next to the second … so a line's
   units stay together where they can. A fulfillment with one package (the common case) ships
   everything in it. A package left without units is reported in ``empty_packages``.

``resolve_provider`` maps the NetSuite carrier to a TikTok shipping provider with
``carriers.yaml`` and the providers TikTok offers for the order's delivery option.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.errors import Evidence, NeedsHumanError
from bridge.mapping.carriers_spec import CarrierSettings

SHIPPED = "C"


def split_ids(value: Any) -> tuple[str, ...]:
    """``"L1, L2"`` → ``("L1", "L2")`` (empty parts dropped)."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in str(value).split(",") if p.strip())


_MAX_QUANTITY = 2**53 - 1  # NetSuite's numbers are doubles: beyond this no count is exact


def _int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = Decimal(str(value))  # exact digits, never through a float
    except ArithmeticError:  # InvalidOperation: not a number
        return default
    if not number.is_finite() or abs(number) > _MAX_QUANTITY:
        return default
    return int(number)


@dataclass(frozen=True)
class FulfillmentLine:
    line: str
    item_id: str
    sku: str
    quantity: int
    order_line: str = ""
    line_item_ids: tuple[str, ...] = ()
    package_index: int | None = None


@dataclass(frozen=True)
class FulfillmentPackage:
    index: int
    tracking_number: str
    carrier: str = ""


@dataclass(frozen=True)
class Fulfillment:
    """The ``item_fulfillment.saved`` / ``.deleted`` event data (docs/suitecloud.md)."""

    fulfillment_id: str
    shop_id: str
    order_id: str
    status: str = SHIPPED
    context_type: str = "create"
    tran_id: str = ""
    sales_order_id: str = ""
    ship_method_id: str = ""
    ship_method_text: str = ""
    carrier: str = ""
    shipped_at: str | None = None
    shipped_by: str = ""
    packages: tuple[FulfillmentPackage, ...] = ()
    lines: tuple[FulfillmentLine, ...] = ()

    @property
    def shipped(self) -> bool:
        return self.status == SHIPPED

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> Fulfillment:
        """Read the event data; ``ValueError`` names what is missing."""
        fid = str(data.get("fulfillment_id") or "").strip()
        shop = str(data.get("tiktok_shop_id") or "").strip()
        order = str(data.get("tiktok_order_id") or "").strip()
        if not fid or not shop or not order:
            raise ValueError("item fulfillment event lacks fulfillment_id, tiktok_shop_id or tiktok_order_id")
        method = data.get("ship_method") if isinstance(data.get("ship_method"), dict) else {}
        packages = []
        for i, p in enumerate(data.get("packages") or []):
            if isinstance(p, dict):
                packages.append(FulfillmentPackage(_int(p.get("index"), i + 1),
                                                   str(p.get("tracking_number") or "").strip(),
                                                   str(p.get("carrier") or "").strip()))
        lines = []
        for i, ln in enumerate(data.get("lines") or []):
            if not isinstance(ln, dict):
                continue
            qty = _int(ln.get("quantity"))
            if qty <= 0:
                continue
            pkg = ln.get("package_index")
            lines.append(FulfillmentLine(
                line=str(ln.get("line") or i + 1), item_id=str(ln.get("item_id") or ""), sku=str(ln.get("sku") or ""),
                quantity=qty, order_line=str(ln.get("order_line") or ""),
                line_item_ids=split_ids(ln.get("tiktok_line_item_ids")),
                package_index=None if pkg in (None, "") else _int(pkg)))
        return cls(
            fulfillment_id=fid, shop_id=shop, order_id=order, status=str(data.get("status") or SHIPPED),
            context_type=str(data.get("context_type") or "create"), tran_id=str(data.get("tran_id") or ""),
            sales_order_id=str(data.get("sales_order_id") or ""), ship_method_id=str((method or {}).get("id") or ""),
            ship_method_text=str((method or {}).get("text") or ""), carrier=str(data.get("carrier") or ""),
            shipped_at=str(data["shipped_at"]) if data.get("shipped_at") else None,
            shipped_by=str(data.get("shipped_by") or ""),
            packages=tuple(sorted(packages, key=lambda p: p.index)), lines=tuple(lines))


@dataclass(frozen=True)
class AllocationLine:
    """One sales order line as the orders flow wrote it (``links.data.allocation``)."""

    sku: str
    item_id: str
    quantity: int
    line_item_ids: tuple[str, ...]

    @classmethod
    def parse(cls, rows: Iterable[Mapping[str, Any]]) -> list[AllocationLine]:
        return [cls(str(r.get("sku") or ""), str(r.get("item_id") or ""), _int(r.get("quantity")),
                    split_ids(r.get("line_item_ids"))) for r in rows or ()]


@dataclass(frozen=True)
class PlannedShipment:
    package_index: int
    tracking_number: str
    carrier: str
    line_item_ids: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    shipments: tuple[PlannedShipment, ...]
    unmatched: tuple[tuple[str, int], ...] = ()  # (NetSuite fulfillment line, units without an open TikTok unit)
    empty_packages: tuple[int, ...] = ()
    reduced: tuple[tuple[str, int], ...] = ()  # (line, units fewer than this fulfillment already shipped)
    notes: tuple[str, ...] = ()

    @property
    def line_item_ids(self) -> tuple[str, ...]:
        return tuple(i for s in self.shipments for i in s.line_item_ids)


def _candidates(line: FulfillmentLine, allocation: Sequence[AllocationLine]) -> tuple[str, ...]:
    if line.line_item_ids:
        return line.line_item_ids
    same_item = [a for a in allocation if (line.item_id and a.item_id == line.item_id)]
    if not same_item and line.sku:
        same_item = [a for a in allocation if a.sku == line.sku]
    return tuple(i for a in same_item for i in a.line_item_ids)


def _chunks(units: Sequence[tuple[str, str]], parts: int) -> list[list[tuple[str, str]]]:
    """``units`` split into ``parts`` contiguous runs whose sizes differ by at most one."""
    out: list[list[tuple[str, str]]] = []
    start = 0
    for k in range(parts):
        size = math.ceil((len(units) - start) / (parts - k)) if parts - k else 0
        out.append(list(units[start:start + size]))
        start += size
    return out


def plan_shipments(f: Fulfillment, *, allocation: Sequence[AllocationLine] = (),
                   unavailable: Iterable[str] = (), already: Iterable[str] = ()) -> Plan:
    """The shipments ``f`` makes (pure; the module docstring states the rules).

    ``already``: units this fulfillment shipped before (an earlier save of it). They count towards
    their line's quantity and stay in the package they went out in; only the rest is planned, so an
    edit that adds a unit or a package never moves or re-ships what TikTok already has.
    """
    blocked = set(unavailable)
    done = set(already)
    taken: set[str] = set()
    notes: list[str] = []
    unmatched: list[tuple[str, int]] = []
    reduced: list[tuple[str, int]] = []
    packages = list(f.packages) or [FulfillmentPackage(1, "", f.carrier)]
    indexes = [p.index for p in packages]
    explicit: dict[int, list[tuple[str, str]]] = {i: [] for i in indexes}
    loose: list[tuple[str, str]] = []  # (line, line item id) without a package number
    for line in f.lines:
        candidates = _candidates(line, allocation)
        shipped_here = [i for i in candidates if i in done and i not in taken]
        taken.update(shipped_here)
        if len(shipped_here) > line.quantity:
            reduced.append((line.line, len(shipped_here) - line.quantity))
        want = max(0, line.quantity - len(shipped_here))
        ids = [i for i in candidates if i not in blocked and i not in taken and i not in done][:want]
        taken.update(ids)
        if len(ids) < want:
            unmatched.append((line.line, want - len(ids)))
        units = [(line.line, i) for i in ids]
        if line.package_index is not None and line.package_index in explicit:
            explicit[line.package_index].extend(units)
        else:
            if line.package_index is not None:
                notes.append(f"line {line.line} names package {line.package_index}, which the fulfillment does "
                             f"not have; its units are split over the packages")
            loose.extend(units)
    named = [i for i in indexes if explicit[i]]
    targets = [i for i in indexes if i not in named] or indexes
    for index, chunk in zip(targets, _chunks(loose, len(targets)), strict=True):
        explicit[index].extend(chunk)
    shipments: list[PlannedShipment] = []
    empty: list[int] = []
    for p in packages:
        units_in = tuple(i for _line, i in explicit[p.index])
        if units_in:
            shipments.append(PlannedShipment(p.index, p.tracking_number, p.carrier or f.carrier, units_in))
        else:
            empty.append(p.index)
    return Plan(tuple(shipments), unmatched=tuple(unmatched), empty_packages=tuple(empty), reduced=tuple(reduced),
                notes=tuple(notes))


# --- carriers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    id: str
    name: str


@dataclass(frozen=True)
class ProviderChoice:
    provider: Provider
    matched_by: str  # ship_method | alias:<text> | name:<text> | tracking_number | default


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _tokens(text: str) -> set[str]:
    return set(norm(text).split())


@dataclass
class _Matcher:
    settings: CarrierSettings
    names: dict[str, str] = field(default_factory=dict)  # normalized alias -> provider key

    def __post_init__(self) -> None:
        for key, spec in self.settings.providers.items():
            self.names[norm(key)] = key
            for alias in spec.aliases:
                self.names[norm(alias)] = key

    def by_text(self, text: str, offered: Sequence[Provider]) -> str | None:
        """The provider a carrier or ship method text names: an exact alias, else the one provider
        whose name or alias tokens all appear in the text (ambiguous texts name nothing)."""
        n = norm(text)
        if not n:
            return None
        if n in self.names:
            return self.names[n]
        offered_names = {norm(p.name): p.name for p in offered}
        if n in offered_names:
            return offered_names[n]
        words = _tokens(text)
        hits = {norm(key): key for alias, key in self.names.items() if alias and set(alias.split()) <= words}
        for o, name in offered_names.items():
            if o and set(o.split()) <= words:
                hits.setdefault(o, name)
        return next(iter(hits.values())) if len(hits) == 1 else None

    def by_tracking(self, tracking: str) -> str | None:
        if not tracking or not self.settings.match_tracking_numbers:
            return None
        hits = [k for k, s in self.settings.providers.items()
                if s.tracking_pattern and re.fullmatch(s.tracking_pattern, tracking)]
        return hits[0] if len(hits) == 1 else None


def resolve_provider(settings: CarrierSettings, *, offered: Sequence[Provider], tracking_number: str,
                     package_carrier: str = "", carrier: str = "", ship_method_id: str = "",
                     ship_method_text: str = "", entity: str = "") -> ProviderChoice:
    """The TikTok provider for one package, valid for the order's delivery option (``offered``).

    Tried in order: ``ship_methods[ship method id]``; the package carrier, the fulfillment's carrier
    and the ship method name against the aliases (and the offered providers' own names); the
    tracking number pattern; ``default_provider``. Raises ``CARRIER_UNMAPPED`` (admin) when nothing
    names a provider and ``CARRIER_NOT_OFFERED`` (ops) when TikTok does not offer it here.
    """
    m = _Matcher(settings)
    key: str | None = None
    how = ""
    if ship_method_id and ship_method_id in settings.ship_methods:
        key, how = settings.ship_methods[ship_method_id], "ship_method"
    if key is None:
        for label, text in (("package carrier", package_carrier), ("carrier", carrier),
                            ("ship method", ship_method_text)):
            key = m.by_text(text, offered)
            if key is not None:
                how = f"{label} {text!r}"
                break
    if key is None:
        key = m.by_tracking(tracking_number)
        how = "tracking number" if key else ""
    if key is None and settings.default_provider:
        key, how = settings.default_provider, "default_provider"
    said = {"ship method": ship_method_text or ship_method_id, "carrier": carrier or package_carrier,
            "tracking number": tracking_number}
    if key is None:
        names = ", ".join(f"{k} {v!r}" for k, v in said.items() if v) or "no carrier at all"
        raise NeedsHumanError(
            f"No TikTok shipping provider is mapped for this shipment ({names}); TikTok offers "
            f"{', '.join(p.name for p in offered) or 'no provider'} for the order's delivery option",
            code="CARRIER_UNMAPPED", owner="admin",
            fix_hint="Add the NetSuite ship method or carrier name as an alias of a TikTok provider in "
            "mapping_specs/carriers.yaml (providers.<TikTok name>.aliases, or ship_methods.<ship item id>), "
            "then replay this exception.",
            evidence=Evidence.of("bridge", "map carrier", details={**said, "offered": [p.name for p in offered]}),
            entity=entity)
    spec = settings.providers.get(key)
    found = None
    if spec is not None and spec.provider_id:
        found = next((p for p in offered if p.id == spec.provider_id), None)
    if found is None:
        found = next((p for p in offered if norm(p.name) == norm(key)), None)
    if found is None:
        raise NeedsHumanError(
            f"TikTok does not offer {key} for this order's delivery option (it offers "
            f"{', '.join(p.name for p in offered) or 'no provider'})",
            code="CARRIER_NOT_OFFERED", owner="ops",
            fix_hint="Ship with a provider TikTok offers for the order's delivery option and correct the carrier "
            "or tracking number on the NetSuite fulfillment (the edit is sent again), or fix the alias in "
            "carriers.yaml if it names the wrong provider.",
            evidence=Evidence.of("bridge", "map carrier", details={**said, "provider": key, "matched_by": how,
                                                                   "offered": [p.name for p in offered]}),
            entity=entity)
    return ProviderChoice(found, how)


def mark_shipped_available(settings: CarrierSettings, region: str) -> bool:
    """Whether Mark Package As Shipped is the API for a shop in ``region``."""
    if settings.shipping.api != "auto":
        return settings.shipping.api == "mark_package_shipped"
    return region.upper() in {m.upper() for m in settings.shipping.mark_shipped_markets}


__all__ = [
    "AllocationLine",
    "Fulfillment",
    "FulfillmentLine",
    "FulfillmentPackage",
    "Plan",
    "PlannedShipment",
    "Provider",
    "ProviderChoice",
    "mark_shipped_available",
    "plan_shipments",
    "resolve_provider",
    "split_ids",
]
