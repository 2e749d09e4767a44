"""`ttns doctor` checks for inventory: the specs load, every TikTok merchant warehouse sells at least
one NetSuite location, every NetSuite location is sold somewhere (or deliberately ignored), and
the SKU index exists and matches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.check import Check

if TYPE_CHECKING:
    from bridge.bootstrap import App


def doctor_checks(container: App) -> Iterator[Check]:
    from bridge.errors import ConfigurationError
    from bridge.mapping.specs import SpecError

    try:
        svc = container.flows.inventory
    except KeyError:
        yield Check("inventory", False, "the inventory flow is not wired", "check bridge.bootstrap FLOW_MODULES")
        return
    except ConfigurationError as exc:
        yield Check("inventory", False, f"not checked: {exc}", "configure both connections (see their checks)")
        return
    try:
        spec = svc.locations_spec()
    except SpecError as exc:
        yield Check("locations.yaml", False, str(exc).splitlines()[0],
                    "create or fix mapping_specs/locations.yaml (`ttns locations pull`, then `ttns locations link`)")
        return
    yield Check("locations.yaml", True, f"{sum(len(s.warehouses) for s in spec.shops.values())} warehouse link(s)")
    if not svc.inv.places("location") and not svc.inv.places("warehouse"):
        try:
            counts = svc.pull_places()
            yield Check("locations pulled", True, f"{counts['locations']} NetSuite locations, "
                                                  f"{counts['warehouses']} TikTok warehouses (pulled now)")
        except Exception as exc:
            yield Check("locations pulled", False, f"could not pull: {type(exc).__name__}: {exc}",
                        "check both connections, then run `ttns locations pull`", warning=True)
            return
    linked: set[str] = set()
    for shop in container.store.shops.list(status="active"):
        m = svc.location_map(shop)
        linked |= m.locations() | m.fbt_locations()
        label = shop.name or shop.id
        if m.unlinked:
            names = {p.place_id: p.name for p in svc.inv.places("warehouse", shop.id)}
            yield Check(f"warehouses of {label}", False,
                        "not linked to any NetSuite location: " + ", ".join(
                            f"{w} ({names.get(w, '?')})" for w in m.unlinked),
                        "link each in locations.yaml: `ttns locations link <warehouse> <location id>…` (an FBT "
                        "warehouse: `--tiktok-managed`), or list it under ignore_warehouses")
        else:
            yield Check(f"warehouses of {label}", True, f"{len(m.links)} linked, {len(m.fbt)} TikTok-managed")
        if m.unknown:
            yield Check(f"locations.yaml for {label}", False, "names warehouses TikTok does not list: "
                        + ", ".join(repr(u) for u in m.unknown), "correct the id or name (`ttns locations list`)",
                        warning=True)
    loose = [p for p in svc.inv.places("location") if p.place_id not in linked
             and p.place_id not in spec.ignore_locations and not p.data.get("inactive")
             and p.data.get("make_inventory_available", True)]
    if loose:
        yield Check("NetSuite locations", False, "sold on no TikTok warehouse: " + ", ".join(
            f"{p.place_id} ({p.name})" for p in loose), "link them (`ttns locations link`) or list them under "
            "ignore_locations in locations.yaml", warning=True)
    else:
        yield Check("NetSuite locations", True, "every active location is linked or ignored")
    counts = svc.inv.counts()
    if not counts["skus"]:
        yield Check("SKU index", False, "empty: the bridge does not know which TikTok SKU sells which item",
                    "run `ttns skus match`", warning=True)
    else:
        unmatched = counts["skus"] - counts["matched"]
        yield Check("SKU index", unmatched == 0, f"{counts['matched']} of {counts['skus']} TikTok SKUs matched "
                    f"({counts['products']} products)", "run `ttns skus match --csv unmatched.csv` and fix seller SKUs "
                    "or match.overrides in catalog.yaml", warning=unmatched > 0)


__all__ = ["doctor_checks"]
