"""FBT stock (``fulfillment.fbt_stock``: daily, webhook 24, ``ttns fulfillment fbt-stock``): each FBT
warehouse's TikTok inventory against the NetSuite on-hand of the locations ``locations.yaml`` links to
it. Differences within ``fbt_adjustments`` become one inventory adjustment per FBT location (at the
first location listed for the warehouse; idempotent by its external id); larger ones are
``FBT_STOCK_DIFFERENCE`` for a person. ``fbt_drift`` is the read-only comparison the drift monitor uses."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.clock import Clock
from bridge.mapping.specs import SpecError
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import NetSuiteFulfillment, NsDocument
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories
from bridge.ports.tiktok import TikTokShipping

log = logging.getLogger("bridge.flows.fulfillment")

KIND_FBT_STOCK = "fulfillment.fbt_stock"


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


@dataclass
class FbtStock:
    store: Repositories
    tiktok: TikTokShipping
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock

    def handle_fbt_stock(self, ctx: JobContext) -> dict[str, Any]:
        return self.fbt_stock(str(ctx.payload.get("shop_id") or "") or None)

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
        """Read both sides for one shop's FBT warehouses, each against its own NetSuite locations:
        (warehouse ids, location ids, TikTok's stock, NetSuite's on-hand per SKU over all of them,
        the SKUs that differ, each with its ``warehouse`` and the ``location`` an adjustment posts to
        (the first listed for that warehouse; "" when none is))."""
        warehouses = self.tiktok.warehouses(shop_id)
        pairs = [(w.id, list(m.locations)) for m in managed for w in warehouses if m.warehouse in (w.id, w.name)]
        wh_ids = [wh for wh, _locs in pairs]
        loc_ids = sorted({loc for _wh, locs in pairs for loc in locs})
        tt = self.tiktok.fbt_stock(shop_id, wh_ids)
        total: dict[str, int] = {}
        diffs: list[dict[str, Any]] = []
        for wh, locs in pairs:
            ns = self.netsuite.on_hand(sorted(locs)) if locs else {}
            for sku, q in ns.items():
                total[sku] = total.get(sku, 0) + q
            there = tt.at(wh)
            diffs += [{"sku": sku, "netsuite": ns.get(sku, 0), "tiktok": there.get(sku, 0),
                       "difference": ns.get(sku, 0) - there.get(sku, 0), "warehouse": wh,
                       "location": locs[0] if locs else ""}
                      for sku in sorted(set(ns) | set(there)) if ns.get(sku, 0) != there.get(sku, 0)]
        return wh_ids, loc_ids, tt, total, diffs

    def fbt_drift(self) -> list[dict[str, Any]]:
        """FBT SKUs whose NetSuite on-hand (FBT locations) differs from TikTok's, per shop and FBT
        warehouse — reads only (the drift monitor); ``fbt_stock`` is the check that adjusts and raises."""
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
            if policy is not None and policy.policy == "adjust" and diffs:
                auto = [d for d in diffs if d["location"] and policy.within(-int(d["difference"]), int(d["tiktok"]))]
                for location in sorted({d["location"] for d in auto}):  # one adjustment per FBT location
                    adjusted += self._fbt_adjust(shop.id, location, policy,
                                                 [d for d in auto if d["location"] == location], tt)
                done = {(d["sku"], d["warehouse"]) for d in adjusted}
                held = [d for d in diffs if (d["sku"], d["warehouse"]) not in done]
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


def fbt_adjustment_external_id(shop_id: str, location_id: str, lines: Sequence[tuple[str, int, int]]) -> str:
    """The adjustment's external id: the same TikTok and NetSuite figures make the same id, so a
    repeated check (or a lost answer) never posts twice (pure)."""
    blob = ";".join(f"{sku}:{tiktok}:{netsuite}" for sku, tiktok, netsuite in sorted(lines))
    return f"TTS-FBT-ADJ-{shop_id}-{location_id}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"

