"""Shipments: what a warehouse ships in NetSuite appears on TikTok within seconds, once.

``item_fulfillment.saved`` / ``.deleted`` (the SuiteScript user event) → ``fulfillment.push``, keyed by the
order (``bridge.domain.keys.order_key``, so one order's fulfillment, cancellation and order jobs never run at
the same time): map the fulfillment's lines and packages to TikTok line items (``bridge.mapping.fulfillment``),
map the carrier with ``carriers.yaml``, ship each package (Mark Package As Shipped where TikTok offers it,
else Ship Package with ``self_shipment``; orders with TikTok shipping take the label path: Ship Package
without a tracking number, TikTok buys the label), correct an edited tracking number within the window
(Update Package Shipping Info). Each package is recorded before TikTok is called, so a redelivered event or
a retried job never ships twice. When every unit of the order is shipped, ``completion`` finishes the order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import Order
from bridge.errors import Evidence, NeedsHumanError, Owner, RetriableError, SkippableError, tiktok_refusal
from bridge.flows.fulfillment.common import SHIPPED_BY_TIKTOK, active_shop, carriers, shipped_on_tiktok
from bridge.flows.fulfillment.completion import OrderCompletion
from bridge.mapping.carriers_spec import CarrierSettings
from bridge.mapping.fulfillment import (
    AllocationLine,
    Fulfillment,
    PlannedShipment,
    Provider,
    mark_shipped_available,
    plan_shipments,
    resolve_provider,
)
from bridge.ports.fulfillment import Shipment, ShipmentRepository, UnitConflict
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import NetSuiteFulfillment
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories, Shop
from bridge.ports.tiktok import TikTokRefusal, TikTokShipping

log = logging.getLogger("bridge.flows.fulfillment")

KIND_PUSH = "fulfillment.push"
NETSUITE_TOPICS = ("item_fulfillment.saved", "item_fulfillment.deleted")
HOLD_RETRY_MINUTES = 10
HOLD_RETRY_MAX = 12

# What a person is told about TikTok refusing a shipment, by what the refusal means
# (``bridge.errors.TIKTOK_REFUSALS``): the exception's owner and fix hint; {tracking}, {provider},
# {package}, {tran} are filled in. Any other refusal is TIKTOK_REFUSED_SHIPMENT.
_REFUSALS: dict[str, tuple[Owner, str]] = {
    "ORDER_ON_HOLD": ("ops", "TikTok does not accept shipments for this order yet (on hold, or not awaiting shipment): "
                      "do not ship it before the hold ends. The bridge tries again by itself after the hold; resolve "
                      "this if it did not."),
    "INVALID_TRACKING": ("ops", "TikTok refused tracking number {tracking} for {provider}: correct the tracking number "
                         "or the carrier on package {package} of NetSuite fulfillment {tran} and save it — the edit is "
                         "sent again by itself."),
    "DUPLICATE_TRACKING": ("ops", "Tracking number {tracking} is already used for another TikTok order: correct it on "
                           "package {package} of NetSuite fulfillment {tran} and save it."),
    "ALREADY_SHIPPED": ("ops", "TikTok already shows these units shipped (in Seller Center, or by another "
                        "fulfillment). Compare the tracking TikTok shows with NetSuite fulfillment {tran}; "
                        "correct it in Seller Center if needed, then resolve this exception."),
    "SHIPPED_CANCELLED_UNITS": ("ops", "The units were cancelled on TikTok or have an after-sale request open: "
                                "stop the parcel with the carrier if you can, otherwise handle it as a return when it "
                                "comes back; then resolve this exception."),
    "FBT_ORDER": ("ops", "TikTok fulfills this order (FBT): delete NetSuite fulfillment {tran}; the bridge records "
                  "TikTok's own shipment in NetSuite when TikTok ships."),
}


def _refusal(tiktok_code: str, default: tuple[str, Owner, str]) -> tuple[str, Owner, str]:
    """(exception code, owner, hint) for a TikTok refusal of a shipment."""
    name = tiktok_refusal(tiktok_code)
    if name in _REFUSALS:
        return (name, *_REFUSALS[name])
    return default


_TRACKING_UPDATE_REFUSED: tuple[str, Owner, str] = ("TRACKING_UPDATE_REFUSED", "ops",
                            "TikTok no longer accepts a new tracking number for this package (collected, delivered "
                            "or updated too often): correct it in Seller Center if it still matters, then resolve.")






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
class ShipmentPush:
    store: Repositories
    shipments: ShipmentRepository
    tiktok: TikTokShipping
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    completion: OrderCompletion

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

    # -- NetSuite fulfillment → TikTok ------------------------------------------------------------
    def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            f = Fulfillment.from_event(payload.get("fulfillment") or {})
        except ValueError as exc:
            raise SkippableError(str(exc)) from None
        shop = active_shop(self.store, f.shop_id)
        entity = order_key(f.shop_id, f.order_id)
        if payload.get("topic") == "item_fulfillment.deleted":
            return self.deleted(f)
        if f.shipped_by.upper() == SHIPPED_BY_TIKTOK:
            return {"action": "skipped", "reason": "TikTok shipped it (FBT fulfillment made by the bridge)"}
        settings = carriers(self.specs, shop)
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
        fully = self.completion.maybe_fulfilled(f.shop_id, order, extra=set(shipped_now))
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
            code, owner, hint = _refusal(r.code, ("TIKTOK_REFUSED_SHIPMENT", "ops",
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
                    code, owner, hint = _refusal(r.code, _TRACKING_UPDATE_REFUSED)
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

    # -- the monitoring hook ------------------------------------------------------------------------
    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[dict[str, str]]:
        """Shipments made in NetSuite and not on TikTok since before ``older_than`` (for the monitors)."""
        rows = self.shipments.unshipped(older_than=older_than, limit=limit)
        return [{"entity": order_key(r.shop_id, r.order_id),
                 "label": f"order {r.order_id}, fulfillment {r.fulfillment_id}, package {r.package_index}",
                 "detail": f"{r.status} since {r.updated_at:%Y-%m-%d %H:%M} UTC"
                           + (f": {r.last_error[:120]}" if r.last_error else "")} for r in rows]
