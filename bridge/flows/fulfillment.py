"""Fulfillment: what a warehouse ships in NetSuite appears on TikTok within seconds, once.

Triggers and jobs (all keyed by the order, ``bridge.domain.keys.order_key``, so one order's fulfillment,
cancellation and order jobs never run at the same time):

* ``item_fulfillment.saved`` / ``.deleted`` (the SuiteScript user event) → ``fulfillment.push``:
  map the fulfillment's lines and packages to TikTok line items (``bridge.mapping.fulfillment``),
  map the carrier with ``carriers.yaml``, ship each package (Mark Package As Shipped where TikTok
  offers it, else Ship Package with ``self_shipment``; orders with TikTok shipping take the label
  path: Ship Package without a tracking number, TikTok buys the label), correct an edited tracking
  number within the window (Update Package Shipping Info). Each package is recorded before TikTok
  is called, so a redelivered event or a retried job never ships twice. When every unit of the
  order is shipped the order link records it (``OrderMemory.fulfilled``).
* webhook 4 (PACKAGE_UPDATE) and the ``fulfillment.fbt_poll`` package search → ``fulfillment.tiktok``:
  an FBT order TikTok shipped gets its item fulfillment in NetSuite (transform, with TikTok's
  tracking, marked ``custbody_ttns_shipped_by = TIKTOK`` so the user event does not push it back).
* ``fulfillment.sla`` (schedule): orders approaching their ship-by time unshipped raise alerts.
* ``fulfillment.fbt_stock`` (daily, webhook 24, ``ttns fulfillment fbt-stock``): the FBT location's
  NetSuite stock against TikTok's FBT inventory; differences are reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bridge.alerts import Alert, Alerter
from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import LineItem, Order
from bridge.errors import Evidence, NeedsHumanError, Owner, RetriableError, SkippableError
from bridge.flows.accounting import policy_for
from bridge.mapping.accounting import invoice_external_id
from bridge.mapping.carriers_spec import CarrierSettings, CarriersSpec
from bridge.mapping.fulfillment import (
    AllocationLine,
    Fulfillment,
    PlannedShipment,
    Provider,
    mark_shipped_available,
    plan_shipments,
    resolve_provider,
)
from bridge.mapping.specs import SpecError
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import LineChange, NetSuiteFulfillment, NsDocument, SoLine
from bridge.ports.specs import Specs
from bridge.ports.tiktok import TikTokRefusal, TikTokShipping
from bridge.store import Store
from bridge.store.queue import JobSpec
from bridge.store.repos import Link, Shop
from bridge.store.tables_fulfillment import FulfillmentStore, Shipment, UnitConflict

log = logging.getLogger("bridge.flows.fulfillment")

FLOW = "fulfillment"
KIND_PUSH = "fulfillment.push"
KIND_TIKTOK = "fulfillment.tiktok"
KIND_FBT_POLL = "fulfillment.fbt_poll"
KIND_SLA = "fulfillment.sla"
KIND_FBT_STOCK = "fulfillment.fbt_stock"
NETSUITE_TOPICS = ("item_fulfillment.saved", "item_fulfillment.deleted")
SHIPPED_BY_TIKTOK = "TIKTOK"
HOLD_RETRY_MINUTES = 10
HOLD_RETRY_MAX = 12
FBT_POLL_SECONDS = 600
FBT_POLL_OVERLAP = timedelta(minutes=10)
SLA_SECONDS = 900
SHIPPABLE = ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")
SHIPPED_DISPLAY = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
SHIPPED_PACKAGE = frozenset({"PROCESSING", "FULFILLING", "COMPLETED"})

# TikTok refusals of a shipment → (exception code, owner, fix hint). {tracking}, {provider}, {package},
# {tran} are filled in. Anything else is TIKTOK_REFUSED_SHIPMENT.
_REFUSALS: dict[str, tuple[str, Owner, str]] = {}


def _refusal(codes: Iterable[str], code: str, owner: Owner, hint: str) -> None:
    for c in codes:
        _REFUSALS[c] = (code, owner, hint)


_refusal(("21042057", "21011012"), "ORDER_ON_HOLD", "ops",
         "TikTok does not accept shipments for this order yet (on hold, or not awaiting shipment): do not ship it "
         "before the hold ends. The bridge tries again by itself after the hold; resolve this if it did not.")
_refusal(("21004012", "21004015", "11028006", "21011022", "21004016"), "INVALID_TRACKING", "ops",
         "TikTok refused tracking number {tracking} for {provider}: correct the tracking number or the carrier on "
         "package {package} of NetSuite fulfillment {tran} and save it — the edit is sent again by itself.")
_refusal(("21011025", "21034012", "21011026"), "DUPLICATE_TRACKING", "ops",
         "Tracking number {tracking} is already used for another TikTok order: correct it on package {package} of "
         "NetSuite fulfillment {tran} and save it.")
_refusal(("21008099", "21011006", "21011020", "21042056", "11006021", "21011040", "21011027"), "ALREADY_SHIPPED",
         "ops", "TikTok already shows these units shipped (in Seller Center, or by another fulfillment). Compare "
         "the tracking TikTok shows with NetSuite fulfillment {tran}; correct it in Seller Center if needed, then "
         "resolve this exception.")
_refusal(("21011003", "21011041", "21011007", "21008044"), "SHIPPED_CANCELLED_UNITS", "ops",
         "The units were cancelled on TikTok or have an after-sale request open: stop the parcel with the carrier if "
         "you can, otherwise handle it as a return when it comes back; then resolve this exception.")
_refusal(("21008025",), "FBT_ORDER", "ops",
         "TikTok fulfills this order (FBT): delete NetSuite fulfillment {tran}; the bridge records TikTok's own "
         "shipment in NetSuite when TikTok ships.")
_TRACKING_UPDATE_REFUSED: tuple[str, Owner, str] = ("TRACKING_UPDATE_REFUSED", "ops",
                            "TikTok no longer accepts a new tracking number for this package (collected, delivered "
                            "or updated too often): correct it in Seller Center if it still matters, then resolve.")



def shipped_on_tiktok(li: LineItem) -> bool:
    """The unit left the seller on TikTok's records (a tracking number, or a shipped status)."""
    return not li.cancelled and (bool(li.tracking_number) or li.display_status in SHIPPED_DISPLAY
                                 or li.package_status in SHIPPED_PACKAGE)


# --- routing (pure) -------------------------------------------------------------------------------


def route_netsuite(event: InboundEvent) -> list[JobSpec]:
    """``item_fulfillment.saved`` / ``.deleted``: one push job per event, on the order's key."""
    data = event.data.get("data") if isinstance(event.data.get("data"), dict) else {}
    shop = str((data or {}).get("tiktok_shop_id") or "")
    order = str((data or {}).get("tiktok_order_id") or "")
    if not shop or not order:
        return []
    return [JobSpec(kind=KIND_PUSH, key=order_key(shop, order),
                    payload={"shop_id": shop, "order_id": order, "topic": event.topic, "event_id": event.event_id,
                             "fulfillment": data},
                    idempotency_key=f"{KIND_PUSH}:{event.source}:{event.event_id}"[:191], priority=20)]


def route_package(event: InboundEvent) -> list[JobSpec]:
    """Webhook 4 (PACKAGE_UPDATE): check each order it names (FBT shipments become NetSuite fulfillments)."""
    data = event.data.get("data") or {}
    shop = event.shop_id or str(event.data.get("shop_id") or "")
    if not shop:
        return []
    orders = sorted({str(o) for p in data.get("package_list") or [] if isinstance(p, dict)
                     for o in p.get("order_id_list") or []})
    return [JobSpec(kind=KIND_TIKTOK, key=order_key(shop, o), payload={"shop_id": shop, "order_id": o,
                                                                          "reason": "webhook 4"},
                    idempotency_key=f"{KIND_TIKTOK}:{event.source}:{event.event_id}:{o}"[:191], priority=30)
            for o in orders]


def route_fbt_inventory(event: InboundEvent) -> list[JobSpec]:
    """Webhook 24 (FBT inventory update): compare FBT stock, at most once per 10 minutes per shop
    (the event names a seller, not always a shop: then every shop is checked)."""
    shop = event.shop_id or str(event.data.get("shop_id") or "")
    try:
        bucket = str(int(event.data.get("timestamp") or 0) // 600 or event.event_id)
    except (TypeError, ValueError):
        bucket = event.event_id
    return [JobSpec(kind=KIND_FBT_STOCK, key=f"fbt_stock:{shop or '*'}", payload={"shop_id": shop},
                    idempotency_key=f"{KIND_FBT_STOCK}:{shop or '*'}:{bucket}"[:191], priority=90, coalesce=True)]


# --- the service ------------------------------------------------------------------------------------


@dataclass
class Problem:
    code: str
    owner: Owner
    message: str
    hint: str
    details: dict[str, Any] = field(default_factory=dict)


class HoldError(NeedsHumanError):
    """The order is on hold on TikTok: an exception now, and a retry after the hold."""


@dataclass
class FulfillmentSync:
    store: Store
    shipments: FulfillmentStore
    tiktok: TikTokShipping
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    alerter: Alerter | None = None

    # -- settings --------------------------------------------------------------------------------
    def carriers(self, shop: Shop) -> CarrierSettings:
        try:
            spec = self.specs.get("carriers", CarriersSpec)
        except SpecError:
            return CarrierSettings()
        return spec.for_shop(shop.id, shop.name)

    def _shop(self, shop_id: str) -> Shop:
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled(FLOW):
            raise SkippableError(f"the fulfillment flow is off for shop {shop_id}")
        return shop

    # -- NetSuite fulfillment → TikTok ------------------------------------------------------------
    def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            f = Fulfillment.from_event(payload.get("fulfillment") or {})
        except ValueError as exc:
            raise SkippableError(str(exc)) from None
        shop = self._shop(f.shop_id)
        entity = order_key(f.shop_id, f.order_id)
        if payload.get("topic") == "item_fulfillment.deleted":
            return self.deleted(f)
        if f.shipped_by.upper() == SHIPPED_BY_TIKTOK:
            return {"action": "skipped", "reason": "TikTok shipped it (FBT fulfillment made by the bridge)"}
        settings = self.carriers(shop)
        if not f.shipped and settings.shipping.only_shipped_status:
            self._link(f, "waiting", note=f"ship status {f.status}: pushed once it is Shipped (C)")
            return {"action": "waiting", "status": f.status}
        order = self.tiktok.get_order(f.shop_id, f.order_id)
        if order is None:
            raise RetriableError(f"TikTok did not return order {f.order_id}",
                                 Evidence.of("tiktok", "order detail", details={"order_id": f.order_id}))
        if order.is_fbt:
            self._link(f, "refused", note="FBT order")
            raise NeedsHumanError(
                f"NetSuite fulfillment {f.tran_id or f.fulfillment_id} ships TikTok FBT order {f.order_id}",
                code="FBT_FULFILLED_IN_NETSUITE", owner="ops",
                fix_hint="TikTok fulfills FBT orders from its own warehouse: delete this fulfillment in NetSuite. "
                "The bridge creates the fulfillment itself (at the FBT location) when TikTok ships.",
                evidence=Evidence.of("bridge", "fulfillment", details={"fulfillment": f.fulfillment_id}),
                entity=entity)
        if order.status in ("UNPAID", "ON_HOLD"):
            raise HoldError(
                f"TikTok order {f.order_id} is {order.status}: it cannot be shipped yet",
                code="ORDER_ON_HOLD", owner="ops",
                fix_hint="TikTok holds new US/UK orders for up to an hour (the address is hidden) and refuses "
                "shipments meanwhile. Do not hand the parcel over before the hold ends; the bridge sends the "
                "shipment again after the hold and this exception resolves itself.",
                evidence=Evidence.of("tiktok", "order detail", details={"status": order.status}), entity=entity)
        return self._ship_fulfillment(shop, settings, f, order)

    def _ship_fulfillment(self, shop: Shop, settings: CarrierSettings, f: Fulfillment,
                          order: Order) -> dict[str, Any]:
        entity = order_key(f.shop_id, f.order_id)
        link = self.store.links.get("order", f.shop_id, f.order_id)
        allocation = AllocationLine.parse(OrderMemory.parse(link.data if link else None).allocation or [])
        existing = self.shipments.shipments(f.shop_id, f.order_id, f.fulfillment_id)
        mine_shipped = {i for s in existing if s.status == "shipped" for i in s.line_item_ids}
        mine = {i for s in existing if s.status in ("shipped", "sending") for i in s.line_item_ids}
        units = self.shipments.units(f.shop_id, f.order_id)
        elsewhere = {i for i, fid in units.items() if fid != f.fulfillment_id}
        on_tiktok = {li.id for li in order.line_items if shipped_on_tiktok(li)}
        cancelled = {li.id for li in order.line_items if li.cancelled}
        unavailable = elsewhere | (on_tiktok - mine) | cancelled
        plan = plan_shipments(f, allocation=allocation, unavailable=unavailable, already=mine_shipped)
        problems: list[Problem] = []
        results: list[dict[str, Any]] = []
        for line, count in plan.unmatched:
            problems.append(self._unmatched(f, line, count, cancelled))
        for line, count in plan.reduced:
            problems.append(Problem(
                "FULFILLMENT_REDUCED_AFTER_PUSH", "ops",
                f"line {line} of NetSuite fulfillment {f.tran_id or f.fulfillment_id} now ships {count} unit(s) fewer "
                "than TikTok was told", "TikTok cannot take a shipped unit back: if the unit did not leave, ask TikTok "
                "seller support to correct the package; otherwise restore the quantity in NetSuite. Then resolve.",
                {"line": line, "units": count}))
        problems += self._tracking_edits(settings, f, order, existing)
        shipped_now: list[str] = []
        for s in plan.shipments:
            seq = self._seq_for(existing, s.package_index)
            tracking = s.tracking_number or next((e.tracking_number for e in existing
                                                  if e.package_index == s.package_index and e.status == "shipped"), "")
            shipment = PlannedShipment(s.package_index, tracking, s.carrier, s.line_item_ids)
            outcome = self._ship_one(shop, settings, f, order, shipment, seq, on_tiktok)
            if isinstance(outcome, Problem):
                problems.append(outcome)
                results.append({"package": s.package_index, "status": "refused", "code": outcome.code})
                continue
            results.append(outcome)
            shipped_now += list(s.line_item_ids)
            if outcome.get("method") != "mark_package_shipped" and outcome.get("action") == "shipped":
                fresh = self.tiktok.get_order(f.shop_id, f.order_id)
                order = fresh or order
        fully = self._maybe_fulfilled(f.shop_id, order, extra=set(shipped_now))
        status = "pushed" if not problems else ("partial" if any(r.get("status") == "shipped" for r in results)
                                                else "refused")
        self._link(f, status, results=results, problems=problems)
        if problems:
            raise self._error(f, problems, entity)
        return {"action": "pushed", "shipments": results, "order_fulfilled": fully, "notes": list(plan.notes),
                "empty_packages": list(plan.empty_packages)}

    @staticmethod
    def _seq_for(existing: Sequence[Shipment], index: int) -> int:
        """The row for a package's planned units: an unfinished one is reused (a retry); units an edit
        adds to an already shipped package get the next ``seq``."""
        rows = [e for e in existing if e.package_index == index]
        pending = [e.seq for e in rows if e.status in ("sending", "refused")]
        if pending:
            return max(pending)
        return 1 + max((e.seq for e in rows), default=-1)

    def _unmatched(self, f: Fulfillment, line: str, count: int, cancelled: set[str]) -> Problem:
        fl = next((x for x in f.lines if x.line == line), None)
        ids = set(fl.line_item_ids if fl else ())
        if ids & cancelled:
            return Problem("SHIPPED_CANCELLED_UNITS", "ops",
                           f"NetSuite fulfillment {f.tran_id or f.fulfillment_id} ships {count} unit(s) of line {line} "
                           "that were cancelled on TikTok",
                           "Stop the parcel with the carrier if you can; otherwise handle it as a return when it comes "
                           "back. Then resolve this exception.", {"line": line, "units": count,
                                                                  "cancelled": sorted(ids & cancelled)})
        return Problem("FULFILLMENT_EXCEEDS_ORDER", "ops",
                       f"NetSuite fulfillment {f.tran_id or f.fulfillment_id} ships {count} unit(s) of line {line} "
                       "that TikTok has no open unit for (already shipped by another fulfillment or in Seller Center)",
                       "Check the order's other fulfillments and the packages in Seller Center; correct the NetSuite "
                       "fulfillment if it ships too much, then resolve.", {"line": line, "units": count})

    def _ship_one(self, shop: Shop, settings: CarrierSettings, f: Fulfillment, order: Order,
                  s: PlannedShipment, seq: int, on_tiktok: set[str]) -> dict[str, Any] | Problem:
        label = order.shipping_type.upper() == "TIKTOK"
        package = next((p for p in f.packages if p.index == s.package_index), None)
        provider: Provider | None = None
        if not label:
            if not s.tracking_number:
                return Problem("TRACKING_MISSING", "ops",
                               f"package {s.package_index} of NetSuite fulfillment {f.tran_id or f.fulfillment_id} has "
                               "no tracking number", "Enter the tracking number on the fulfillment's package and save "
                               "it; the shipment is sent by itself.", {"package": s.package_index})
            offered = self.tiktok.shipping_providers(f.shop_id, order.delivery_option_id)
            try:
                provider = resolve_provider(settings, offered=offered, tracking_number=s.tracking_number,
                                            package_carrier=package.carrier if package else "", carrier=f.carrier,
                                            ship_method_id=f.ship_method_id, ship_method_text=f.ship_method_text,
                                            entity=order_key(f.shop_id, f.order_id)).provider
            except NeedsHumanError as exc:
                return Problem(exc.code, exc.owner, exc.message, exc.fix_hint, exc.evidence.details)
        method = "label" if label else ("mark_package_shipped" if mark_shipped_available(settings, shop.region)
                                        else "ship_package")
        try:
            row = self.shipments.begin(
                shop_id=f.shop_id, order_id=f.order_id, fulfillment_id=f.fulfillment_id, package_index=s.package_index,
                seq=seq, tracking_number=s.tracking_number, carrier=(package.carrier if package else f.carrier),
                provider_id=provider.id if provider else "", provider_name=provider.name if provider else "",
                line_item_ids=s.line_item_ids, method=method)
        except UnitConflict as exc:
            return Problem("FULFILLMENT_EXCEEDS_ORDER", "ops",
                           f"units {sorted(exc.taken)} are already shipped by another NetSuite fulfillment",
                           "Check the order's fulfillments in NetSuite; correct the one that ships too much, then "
                           "resolve.", {"taken": exc.taken})
        # A previous attempt may have shipped it and lost the answer: TikTok's state decides.
        by_id = {li.id: li for li in order.line_items}
        if row.attempts > 1 and all(i in on_tiktok for i in s.line_item_ids):
            pkg = next((by_id[i].package_id for i in s.line_item_ids if i in by_id), "")
            self.shipments.shipped(row.id, tiktok_package_id=pkg,
                                   tracking_number=by_id[s.line_item_ids[0]].tracking_number or None)
            return {"package": s.package_index, "status": "shipped", "action": "found_shipped", "method": method,
                    "tiktok_package_id": pkg}
        try:
            if method == "mark_package_shipped":
                assert provider is not None
                pkg = self.tiktok.mark_package_shipped(f.shop_id, f.order_id, tracking_number=s.tracking_number,
                                                       provider_id=provider.id, line_item_ids=s.line_item_ids)
                tracking: str | None = None
            else:
                pkg = self._package_for(f.shop_id, order, s.line_item_ids)
                if label:
                    self.tiktok.ship_package(f.shop_id, pkg)
                    got = self.tiktok.get_package(f.shop_id, pkg)
                    tracking = got.tracking_number
                    provider = Provider(got.shipping_provider_id, got.shipping_provider_name)
                else:
                    assert provider is not None
                    self.tiktok.ship_package(f.shop_id, pkg, tracking_number=s.tracking_number, provider_id=provider.id)
                    tracking = None
        except TikTokRefusal as r:
            self.shipments.refused(row.id, str(r))
            code, owner, hint = _REFUSALS.get(r.code, ("TIKTOK_REFUSED_SHIPMENT", "ops",
                                                       "Read TikTok's message in the evidence, fix the shipment in "
                                                       "NetSuite or Seller Center, then replay."))
            return Problem(code, owner, f"TikTok refused package {s.package_index} of NetSuite fulfillment "
                           f"{f.tran_id or f.fulfillment_id}: {r.tiktok_message} ({r.code})",
                           hint.format(tracking=s.tracking_number or "-", provider=provider.name if provider else "-",
                                       package=s.package_index, tran=f.tran_id or f.fulfillment_id),
                           {"tiktok_code": r.code, "tiktok_message": r.tiktok_message, "package": s.package_index,
                            "tracking_number": s.tracking_number, "line_item_ids": list(s.line_item_ids)})
        self.shipments.shipped(row.id, tiktok_package_id=pkg, tracking_number=tracking,
                               provider_id=provider.id if provider else None,
                               provider_name=provider.name if provider else None)
        log.info("package shipped on TikTok", extra={"order_id": f.order_id, "package": pkg, "method": method,
                                                     "units": len(s.line_item_ids)})
        return {"package": s.package_index, "status": "shipped", "action": "shipped", "method": method,
                "tiktok_package_id": pkg, "tracking_number": tracking or s.tracking_number,
                "provider": provider.name if provider else "", "line_item_ids": list(s.line_item_ids)}

    def _package_for(self, shop_id: str, order: Order, ids: Sequence[str]) -> str:
        """The TikTok package holding exactly ``ids`` (split off the order's unshipped units if needed)."""
        wanted = set(ids)
        unshipped = [li for li in order.line_items if not li.cancelled and not shipped_on_tiktok(li)]
        by_pkg: dict[str, set[str]] = {}
        for li in unshipped:
            by_pkg.setdefault(li.package_id, set()).add(li.id)
        for pkg, members in by_pkg.items():
            if pkg and members == wanted:
                return pkg
        rest = [li.id for li in unshipped if li.id not in wanted]
        if not rest:
            raise RetriableError(f"order {order.id}: the units to ship are spread over several TikTok packages",
                                 Evidence.of("tiktok", "package for units", details={"packages": {
                                     k: sorted(v) for k, v in by_pkg.items()}}))
        groups = {"ship": list(ids), "rest": rest}
        return self.tiktok.split(shop_id, order.id, groups)["ship"]

    def _tracking_edits(self, settings: CarrierSettings, f: Fulfillment, order: Order,
                        existing: Sequence[Shipment]) -> list[Problem]:
        problems: list[Problem] = []
        window = timedelta(hours=settings.shipping.tracking_update_hours)
        for p in f.packages:
            rows = [e for e in existing if e.package_index == p.index and e.status == "shipped" and e.method != "label"]
            for row in rows:
                if not p.tracking_number or p.tracking_number == row.tracking_number:
                    continue
                shipped_at = row.shipped_at or row.created_at
                if self.clock.now() - shipped_at > window:
                    problems.append(Problem(
                        "TRACKING_UPDATE_WINDOW_CLOSED", "ops",
                        f"tracking number of package {p.index} changed from {row.tracking_number} to "
                        f"{p.tracking_number} more than {settings.shipping.tracking_update_hours} h after shipping",
                        "TikTok takes tracking corrections only shortly after shipping: correct it in Seller Center "
                        "if it still matters, then resolve.", {"package": p.index}))
                    continue
                try:
                    offered = self.tiktok.shipping_providers(f.shop_id, order.delivery_option_id)
                    provider = resolve_provider(settings, offered=offered, tracking_number=p.tracking_number,
                                                package_carrier=p.carrier, carrier=f.carrier,
                                                ship_method_id=f.ship_method_id, ship_method_text=f.ship_method_text,
                                                entity=order_key(f.shop_id, f.order_id)).provider
                    self.tiktok.update_package_shipping_info(f.shop_id, row.tiktok_package_id,
                                                             tracking_number=p.tracking_number, provider_id=provider.id)
                except NeedsHumanError as exc:
                    problems.append(Problem(exc.code, exc.owner, exc.message, exc.fix_hint))
                    continue
                except TikTokRefusal as r:
                    code, owner, hint = _REFUSALS.get(r.code, _TRACKING_UPDATE_REFUSED)
                    if code == "ALREADY_SHIPPED":
                        code, owner, hint = _TRACKING_UPDATE_REFUSED
                    self.shipments.note_error(row.id, str(r))
                    problems.append(Problem(code, owner, f"TikTok refused the new tracking number {p.tracking_number} "
                                            f"of package {p.index}: {r.tiktok_message} ({r.code})",
                                            hint.format(tracking=p.tracking_number, provider="-", package=p.index,
                                                        tran=f.tran_id or f.fulfillment_id),
                                            {"tiktok_code": r.code}))
                    continue
                self.shipments.tracking_updated(row.id, tracking_number=p.tracking_number, provider_id=provider.id,
                                                provider_name=provider.name, carrier=p.carrier)
        return problems

    def deleted(self, f: Fulfillment) -> dict[str, Any]:
        shipped = self.shipments.mark_deleted(f.shop_id, f.order_id, f.fulfillment_id)
        self._link(f, "deleted")
        if shipped:
            raise NeedsHumanError(
                f"NetSuite fulfillment {f.tran_id or f.fulfillment_id} was deleted after TikTok was told it shipped "
                f"({', '.join(s.tracking_number or s.tiktok_package_id for s in shipped)})",
                code="FULFILLMENT_DELETED_AFTER_SHIPPING", owner="ops",
                fix_hint="TikTok keeps these packages shipped. If the goods did not leave, ask TikTok seller support "
                "to cancel the shipment; if they did, re-create the fulfillment in NetSuite so stock is right. Then "
                "resolve this exception.",
                evidence=Evidence.of("bridge", "fulfillment deleted", details={
                    "packages": [{"tiktok_package_id": s.tiktok_package_id, "tracking_number": s.tracking_number}
                                 for s in shipped]}),
                entity=order_key(f.shop_id, f.order_id))
        return {"action": "deleted"}

    # -- bookkeeping ----------------------------------------------------------------------------
    def _error(self, f: Fulfillment, problems: Sequence[Problem], entity: str) -> NeedsHumanError:
        first = problems[0]
        message = first.message if len(problems) == 1 else (
            f"{first.message} (and {len(problems) - 1} more problem(s) with this fulfillment)")
        return NeedsHumanError(message, code=first.code, owner=first.owner,
                               fix_hint=first.hint, entity=entity,
                               evidence=Evidence.of("bridge", "push fulfillment", details={
                                   "fulfillment": f.fulfillment_id, "tran_id": f.tran_id,
                                   "problems": [{"code": p.code, "message": p.message, **p.details}
                                                for p in problems]}))

    def _link(self, f: Fulfillment, status: str, *, note: str = "", results: Sequence[dict[str, Any]] = (),
              problems: Sequence[Problem] = ()) -> None:
        self.store.links.upsert(Link(
            "fulfillment", f.shop_id, f.fulfillment_id, f.fulfillment_id, "itemFulfillment", f.tran_id, "", status,
            {"order_id": f.order_id, "tran_id": f.tran_id, "note": note, "results": list(results),
             "problems": [p.code for p in problems]}, self.clock.now()))

    def _maybe_fulfilled(self, shop_id: str, order: Order, extra: Iterable[str] = ()) -> bool:
        """Set ``fulfilled`` on the order link once every live unit is shipped."""
        live = {li.id for li in order.line_items if not li.cancelled}
        shipped = {li.id for li in order.line_items if shipped_on_tiktok(li)} | set(extra)
        recorded = {i for s in self.shipments.shipments(shop_id, order.id) if s.status == "shipped"
                    for i in s.line_item_ids}
        if not live or not live <= (shipped | recorded):
            return False
        link = self.store.links.get("order", shop_id, order.id)
        if link is not None and not OrderMemory.parse(link.data).fulfilled:
            fulfilled = OrderMemory.parse(link.data).with_(fulfilled=True, fulfilled_at=self.clock.now().isoformat())
            link = Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                        link.external_id, link.content_hash, link.status, fulfilled.dump(), link.synced_at)
            self.store.links.upsert(link)
        if link is not None:
            self._finish_order(shop_id, order.id, link)
        self._resolve_sla(shop_id, order.id)
        return True

    def _finish_order(self, shop_id: str, order_id: str, link: Link) -> None:
        """A fully fulfilled sales order reaches its final state (docs/accounting.md): closed where
        the statement recognises the revenue (summary), billed with one invoice where the order
        documents do (receivable modes), left alone while settlement does not post for the shop."""
        finished = OrderMemory.parse(link.data).finished
        if not link.netsuite_id or link.netsuite_type not in ("", "salesOrder") or finished:
            return
        policy = policy_for(self.specs, shop_id, self.store.shops.get(shop_id))
        action = policy.on_fulfilled
        if action == "keep":
            return
        done: dict[str, Any] = {"finished": action}
        if action == "close":
            lines = self.netsuite.order_lines("salesOrder", link.netsuite_id)
            # every line but a unit line still waiting to ship: discount, shipping and charge lines hold
            # no TikTok units and have nothing to fulfil (NetSuite may still show them a quantity of 1),
            # so they close too; the order reaches Closed, nothing is left for billing
            changes = [LineChange(ln.line, close=True) for ln in lines
                       if not ln.closed and (not ln.quantity or ln.fulfilled >= ln.quantity or not ln.line_item_ids)]
            if changes:
                self.netsuite.change_order_lines("salesOrder", link.netsuite_id, changes)
            done["closed_lines"] = len(changes)
        else:
            day = policy.date_of(self.clock.now())
            written = self.netsuite.create_document(NsDocument(
                "invoice", invoice_external_id(shop_id, order_id),
                {"tranDate": day.isoformat(), "memo": f"TikTok Shop order {order_id} (billed at shipment)",
                 "custbody_ttns_order_id": order_id, "custbody_ttns_source": "TTNS"},
                "salesOrder", link.netsuite_id, replace_items=False))
            done["invoice_id"] = written.id
        fresh = self.store.links.get("order", shop_id, order_id) or link
        self.store.links.upsert(replace(fresh, data=OrderMemory.parse(fresh.data).with_(**done).dump()))
        self.store.audit.record("worker", f"order.{action}d_after_fulfillment", entity=order_key(shop_id, order_id),
                                detail={"sales_order": link.netsuite_id, "mode": policy.mode, **done})

    def _resolve_sla(self, shop_id: str, order_id: str) -> None:
        for exc in self.store.exceptions.list(entity=order_key(shop_id, order_id)):
            if exc.code == "SLA_AT_RISK":
                self.store.exceptions.close(exc.id, status="resolved", by="fulfillment",
                                            note="the order shipped")
        if self.alerter is not None:
            try:
                self.alerter.clear(f"sla:{shop_id}:{order_id}")
            except Exception:  # alerts never break a flow
                log.exception("clearing an SLA alert failed")

    # -- TikTok shipped it (FBT) → NetSuite ---------------------------------------------------------
    def tiktok_shipped(self, shop_id: str, order_id: str) -> dict[str, Any]:
        self._shop(shop_id)
        order = self.tiktok.get_order(shop_id, order_id)
        if order is None:
            raise RetriableError(f"TikTok did not return order {order_id}")
        if not order.is_fbt:
            return {"action": "ignored", "reason": "seller-shipped order: NetSuite fulfillments drive it"}
        link = self.store.links.get("order", shop_id, order_id)
        if link is None or not link.netsuite_id:
            raise RetriableError(f"FBT order {order_id} has no sales order in NetSuite yet; tried again later",
                                 retry_after=60)
        packages: dict[str, list[LineItem]] = {}
        for li in order.line_items:
            if shipped_on_tiktok(li):
                packages.setdefault(li.package_id or f"tracking:{li.tracking_number}", []).append(li)
        if not packages:
            return {"action": "nothing shipped yet", "status": order.status}
        done = {s.tiktok_package_id for s in self.shipments.shipments(shop_id, order_id) if s.method == "fbt"
                and s.status == "shipped"}
        created = []
        lines: list[SoLine] | None = None
        for pkg, items in sorted(packages.items()):
            if pkg in done:
                continue
            if lines is None:
                lines = self.netsuite.order_lines(link.netsuite_type or "salesOrder", link.netsuite_id)
            ids = {li.id for li in items}
            rows = []
            for ln in lines:
                hit = [i for i in ln.line_item_ids if i in ids]
                if hit and not ln.closed:
                    rows.append({"orderLine": ln.line, "quantity": len(hit), "itemReceive": True})
            if not rows:
                raise NeedsHumanError(
                    f"TikTok shipped FBT package {pkg} of order {order_id} but no sales order line holds its units",
                    code="FBT_LINES_MISSING", owner="ops",
                    fix_hint="Check the sales order lines (custcol_ttns_line_item_ids) against the TikTok order, "
                    "then replay.", entity=order_key(shop_id, order_id),
                    evidence=Evidence.of("bridge", "fbt fulfillment", details={"package": pkg, "units": sorted(ids)}))
            first = items[0]
            shipped_on = policy_for(self.specs, shop_id).date_of(self.clock.now())  # COGS lands on this local day
            body = {"shipStatus": {"id": "C"}, "custbody_ttns_shipped_by": SHIPPED_BY_TIKTOK,
                    "tranDate": shipped_on.isoformat(),
                    "memo": f"Shipped by TikTok (FBT) package {pkg}"[:999],
                    "item": {"items": rows},
                    "package": {"items": [{"packageTrackingNumber": first.tracking_number or "", "packageWeight": 1,
                                           "packageDescr": f"TikTok FBT {first.shipping_provider_name}"[:100]}]}}
            written = self.netsuite.create_document(NsDocument(
                "itemFulfillment", f"TTS-FBT-{shop_id}-{pkg}"[:100], body, "salesOrder", link.netsuite_id))
            self.shipments.record_external(
                shop_id=shop_id, order_id=order_id, fulfillment_id=written.id, package_index=1,
                tracking_number=first.tracking_number, provider_id=first.shipping_provider_id,
                provider_name=first.shipping_provider_name, line_item_ids=sorted(ids), method="fbt",
                tiktok_package_id=pkg)
            created.append({"package": pkg, "item_fulfillment": written.id, "created": written.created,
                            "tracking_number": first.tracking_number})
            self.store.audit.record("worker", "fbt.fulfilled", entity=order_key(shop_id, order_id),
                                    detail={"package": pkg, "item_fulfillment": written.id})
        fully = self._maybe_fulfilled(shop_id, order)
        return {"action": "fbt_fulfilled" if created else "unchanged", "fulfillments": created,
                "order_fulfilled": fully}

    def fbt_poll(self) -> dict[str, Any]:
        """The backstop for webhook 4: packages updated since the last run whose FBT order is open."""
        now = self.clock.now()
        enqueued = 0
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(FLOW):
                continue
            name = f"{KIND_FBT_POLL}:{shop.id}"
            raw = self.store.cursors.get(name)
            since = datetime.fromisoformat(raw) if raw else now - timedelta(hours=6)
            orders: set[str] = set()
            for pkg in self.tiktok.search_packages(shop.id, update_time_ge=since - FBT_POLL_OVERLAP):
                orders.update(o.id for o in pkg.orders)
            links = self.store.links.get_many("order", shop.id, sorted(orders))
            specs = [JobSpec(kind=KIND_TIKTOK, key=order_key(shop.id, oid), payload={"shop_id": shop.id,
                                                                                  "order_id": oid, "reason": "poll"},
                             idempotency_key=f"{KIND_TIKTOK}:poll:{shop.id}:{oid}:{int(now.timestamp()) // 60}",
                             priority=60)
                     for oid, ln in links.items()
                     if (memory := OrderMemory.parse(ln.data)).is_fbt and not memory.fulfilled]
            if specs:
                enqueued += sum(1 for r in self.store.queue.enqueue_many(specs) if r.created)
            self.store.cursors.set(name, now.isoformat())
        return {"enqueued": enqueued}

    # -- SLA ----------------------------------------------------------------------------------------
    def sla_scan(self) -> dict[str, Any]:
        now = self.clock.now()
        raised: list[dict[str, Any]] = []
        watched = 0
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(FLOW):
                continue
            sla = self.carriers(shop).sla
            if not sla.enabled:
                continue
            orders = [o for status in SHIPPABLE for o in self.tiktok.search_orders(shop.id, status=status)]
            levels = self.shipments.sla_levels(shop.id, [o.id for o in orders])
            for o in orders:
                if o.is_fbt:
                    continue
                deadline = _deadline(o, sla.deadline)
                if deadline is None:
                    continue
                watched += 1
                left = deadline - now
                level = ("missed" if left <= timedelta(0) else "critical" if left <= timedelta(hours=sla.critical_hours)
                         else "warning" if left <= timedelta(hours=sla.warn_hours) else "")
                if not level or level in levels.get(o.id, set()):
                    continue
                if not self.shipments.claim_sla_alert(shop.id, o.id, level, deadline):
                    continue
                raised.append(self._sla_alert(shop, o, level, deadline, left))
        return {"watched": watched, "alerts": raised}

    def _sla_alert(self, shop: Shop, o: Order, level: str, deadline: datetime, left: timedelta) -> dict[str, Any]:
        entity = order_key(shop.id, o.id)
        hours = left.total_seconds() / 3600
        when = deadline.strftime("%Y-%m-%d %H:%M UTC")
        title = (f"TikTok order {o.id} missed its ship-by time ({when})" if level == "missed" else
                 f"TikTok order {o.id} must ship by {when} ({hours:.1f} h left) and has no fulfillment")
        self.store.exceptions.raise_(
            code="SLA_AT_RISK", owner="ops", title=title,
            fix_hint="Ship it in NetSuite (item fulfillment with the tracking number) before the deadline: TikTok "
            "ranks sellers on dispatch time and penalises late shipments. It resolves itself when the order ships.",
            evidence={"deadline": deadline.isoformat(), "level": level, "status": o.status,
                      "hours_left": round(hours, 2), "units": len([li for li in o.line_items if not li.cancelled])},
            entity=entity, shop_id=shop.id)
        if self.alerter is not None:
            try:
                self.alerter.fire(Alert(key=f"sla:{shop.id}:{o.id}", title=title, monitor="fulfillment_sla",
                                        severity="warning" if level == "warning" else "critical",
                                        text=f"Ship-by deadline {when}; status {o.status}.",
                                        path=f"/console/orders/{shop.id}/{o.id}"))
            except Exception:  # alerts never break a flow
                log.exception("sending an SLA alert failed")
        return {"order_id": o.id, "level": level, "deadline": deadline.isoformat()}

    # -- FBT stock --------------------------------------------------------------------------------
    def _fbt_adjust(self, shop_id: str, location: str, policy: Any, diffs: list[dict[str, Any]],
                    tt: Any) -> list[dict[str, Any]]:
        """One inventory adjustment at the FBT location making NetSuite's on-hand TikTok's, for the
        SKUs within the policy; each line's memo carries TikTok's and NetSuite's figures. Returns the
        SKUs adjusted (SKUs NetSuite has no item for stay differences)."""
        from bridge.mapping.orders import ns_ref

        ids = self.netsuite.item_ids([d["sku"] for d in diffs])
        rows = [d for d in diffs if d["sku"] in ids]
        if not rows:
            return []
        read_at = self.clock.now().strftime("%Y-%m-%d %H:%M UTC")
        eid = fbt_adjustment_external_id(shop_id, location, [(d["sku"], int(d["tiktok"]), int(d["netsuite"]))
                                                             for d in rows])
        body: dict[str, Any] = {
            "account": ns_ref(policy.account), "adjLocation": {"id": location}, "tranDate": self.clock.now().date()
            .isoformat(), "memo": f"TikTok FBT stock ({tt.source}) of shop {shop_id}, read {read_at}",
            "inventory": {"items": [{"item": {"id": ids[d["sku"]]}, "location": {"id": location},
                                     "adjustQtyBy": -int(d["difference"]),
                                     "memo": f"TikTok FBT on hand {d['tiktok']}; NetSuite had {d['netsuite']}"}
                                    for d in rows]}}
        if policy.subsidiary:
            body["subsidiary"] = ns_ref(policy.subsidiary)
        written = self.netsuite.create_document(NsDocument("inventoryAdjustment", eid, body))
        log.info("FBT stock adjusted in NetSuite", extra={"shop_id": shop_id, "adjustment": written.id,
                                                          "skus": len(rows), "new_record": written.created})
        return [{**d, "adjustment_id": written.id, "external_id": eid} for d in rows]

    def _fbt_compare(self, shop_id: str, managed: Sequence[Any]
                     ) -> tuple[list[str], list[str], Any, dict[str, int], list[dict[str, Any]]]:
        """Read both sides for one shop's FBT warehouses: (warehouse ids, location ids, TikTok's
        stock, NetSuite's on-hand per SKU, the SKUs that differ)."""
        warehouses = self.tiktok.warehouses(shop_id)
        wh_ids = [w.id for m in managed for w in warehouses if m.warehouse in (w.id, w.name)]
        loc_ids = sorted({loc for m in managed for loc in m.locations})
        tt = self.tiktok.fbt_stock(shop_id, wh_ids)
        ns = self.netsuite.on_hand(loc_ids)
        diffs: list[dict[str, Any]] = [
            {"sku": sku, "netsuite": ns.get(sku, 0), "tiktok": tt.on_hand.get(sku, 0),
             "difference": ns.get(sku, 0) - tt.on_hand.get(sku, 0)}
            for sku in sorted(set(ns) | set(tt.on_hand)) if ns.get(sku, 0) != tt.on_hand.get(sku, 0)]
        return wh_ids, loc_ids, tt, ns, diffs

    def fbt_drift(self) -> list[dict[str, Any]]:
        """FBT SKUs whose NetSuite on-hand (FBT locations) differs from TikTok's, per shop — reads
        only (the drift monitor); ``fbt_stock`` is the check that adjusts and raises."""
        from bridge.mapping.locations_spec import LocationsSpec

        try:
            locations = self.specs.get("locations", LocationsSpec)
        except SpecError:
            return []
        rows: list[dict[str, Any]] = []
        for shop in self.store.shops.list(status="active"):
            managed = [w for w in locations.for_shop(shop.id, shop.name).warehouses if w.tiktok_managed]
            if managed:
                rows += [{"shop_id": shop.id, **d} for d in self._fbt_compare(shop.id, managed)[4]]
        return rows

    def fbt_stock(self, shop_id: str | None = None) -> dict[str, Any]:
        """NetSuite on-hand at the FBT locations against TikTok's FBT stock, per shop."""
        from bridge.mapping.locations_spec import LocationsSpec

        out: dict[str, Any] = {}
        try:
            locations: LocationsSpec | None = self.specs.get("locations", LocationsSpec)
        except SpecError:
            locations = None
        for shop in self.store.shops.list(status="active"):
            if shop_id and shop.id != shop_id:
                continue
            entity = f"fbt:{shop.id}"
            managed = [w for w in (locations.for_shop(shop.id, shop.name).warehouses if locations else [])
                       if w.tiktok_managed]
            if not managed:
                out[shop.id] = {"status": "not_configured",
                                "note": "no tiktok_managed warehouse in locations.yaml for this shop"}
                continue
            wh_ids, loc_ids, tt, ns, diffs = self._fbt_compare(shop.id, managed)
            policy = locations.fbt_adjustments if locations else None
            adjusted: list[dict[str, Any]] = []
            held = diffs
            if policy is not None and policy.policy == "adjust" and diffs and loc_ids:
                auto = [d for d in diffs if policy.within(-int(d["difference"]), int(d["tiktok"]))]
                adjusted = self._fbt_adjust(shop.id, loc_ids[0], policy, auto, tt) if auto else []
                done = {d["sku"] for d in adjusted}
                held = [d for d in diffs if d["sku"] not in done]
            report = {"status": "differences" if held else ("adjusted" if adjusted else "ok"), "source": tt.source,
                      "note": tt.note, "warehouses": wh_ids, "locations": loc_ids,
                      "skus": len(set(ns) | set(tt.on_hand)), "differences": held, "adjusted": adjusted}
            out[shop.id] = report
            open_ = [e for e in self.store.exceptions.list(entity=entity) if e.code == "FBT_STOCK_DIFFERENCE"]
            if held:
                above = (f" (above fbt_adjustments: {policy.max_units} units / {policy.max_percent}%)"
                         if policy is not None and policy.policy == "adjust" else "")
                self.store.exceptions.raise_(
                    code="FBT_STOCK_DIFFERENCE", owner="ops",
                    title=f"FBT stock differs for {len(held)} SKU(s) between NetSuite locations {', '.join(loc_ids)} "
                    f"and TikTok's FBT warehouse{above}",
                    fix_hint="Check inbound shipments to TikTok's warehouse (transfer orders not yet received), "
                    "damaged or lost units TikTok reported, and FBT orders not yet fulfilled in NetSuite; adjust the "
                    "FBT location in NetSuite to match (or raise fbt_adjustments in locations.yaml to let the bridge "
                    "do it), then resolve. `ttns fulfillment fbt-stock` re-runs the check.",
                    evidence={"differences": held[:200], "adjusted": adjusted[:200], "source": tt.source,
                              "note": tt.note},
                    entity=entity, shop_id=shop.id)
            else:
                for e in open_:
                    self.store.exceptions.close(e.id, status="resolved", by="fulfillment",
                                                note="FBT stock matches again")
        return out

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_push(self, ctx: JobContext) -> dict[str, Any]:
        try:
            return self.push(ctx.payload)
        except HoldError:
            n = int(ctx.payload.get("hold_retries") or 0)
            if n < HOLD_RETRY_MAX:
                ctx.enqueue(JobSpec(kind=KIND_PUSH, key=ctx.job.key, payload={**ctx.payload, "hold_retries": n + 1},
                                    idempotency_key=f"{KIND_PUSH}:hold:{ctx.job.id}:{n + 1}"[:191],
                                    run_at=ctx.started_at + timedelta(minutes=HOLD_RETRY_MINUTES), priority=20))
            raise

    def handle_tiktok(self, ctx: JobContext) -> dict[str, Any]:
        return self.tiktok_shipped(str(ctx.payload["shop_id"]), str(ctx.payload["order_id"]))

    def handle_fbt_poll(self, ctx: JobContext) -> dict[str, Any]:
        return self.fbt_poll()

    def handle_sla(self, ctx: JobContext) -> dict[str, Any]:
        return self.sla_scan()

    def handle_fbt_stock(self, ctx: JobContext) -> dict[str, Any]:
        return self.fbt_stock(str(ctx.payload.get("shop_id") or "") or None)

    # -- the monitoring hook ------------------------------------------------------------------------
    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[dict[str, str]]:
        """Shipments made in NetSuite and not on TikTok since before ``older_than`` (for the monitors)."""
        rows = self.shipments.unshipped(older_than=older_than, limit=limit)
        return [{"entity": order_key(r.shop_id, r.order_id),
                 "label": f"order {r.order_id}, fulfillment {r.fulfillment_id}, package {r.package_index}",
                 "detail": f"{r.status} since {r.updated_at:%Y-%m-%d %H:%M} UTC"
                           + (f": {r.last_error[:120]}" if r.last_error else "")} for r in rows]


def fbt_adjustment_external_id(shop_id: str, location_id: str, lines: Sequence[tuple[str, int, int]]) -> str:
    """The adjustment's external id: the same TikTok and NetSuite figures make the same id, so a
    repeated check (or a lost answer) never posts twice (pure)."""
    import hashlib

    blob = ";".join(f"{sku}:{tiktok}:{netsuite}" for sku, tiktok, netsuite in sorted(lines))
    return f"TTS-FBT-ADJ-{shop_id}-{location_id}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _deadline(order: Order, first: str) -> datetime | None:
    order_of = [first] + [f for f in ("rts_sla_time", "shipping_due_time", "tts_sla_time") if f != first]
    for name in order_of:
        value = getattr(order, name, None)
        if isinstance(value, datetime):
            return value
    return None


__all__ = [
    "KIND_FBT_POLL",
    "KIND_FBT_STOCK",
    "KIND_PUSH",
    "KIND_SLA",
    "KIND_TIKTOK",
    "FulfillmentSync",
    "order_key",
    "route_netsuite",
    "route_package",
    "shipped_on_tiktok",
]
