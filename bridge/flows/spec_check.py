"""What `ttns specs check` and `ttns specs diff` need: the NetSuite ids a spec names, and a spec
as it was at a git revision."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from bridge.mapping.orders_spec import OrderSettings, OrdersSpec, references
from bridge.mapping.specs import SpecError, SpecModel, SpecProblem, SpecSet, is_placeholder, load_spec
from bridge.ports.netsuite import NetSuiteLookup
from bridge.ports.store import Shop

M = TypeVar("M", bound=SpecModel)

# (SuiteQL table, what to call it in a message) → {id: {where it is used}}
Refs = dict[tuple[str, str], dict[str, set[str]]]


def _add(refs: Refs, table: str, label: str, ref_id: str | None, where: str) -> None:
    if ref_id and not is_placeholder(ref_id):  # placeholders are reported as such, never looked up
        refs.setdefault((table, label), {}).setdefault(ref_id, set()).add(where)


def _order_settings(refs: Refs, s: OrderSettings, prefix: str) -> None:
    for path, table, label, value in references(s):
        _add(refs, table, label, value, f"{prefix}.{path}")


def referenced_ids(spec_set: SpecSet) -> Refs:
    """Every NetSuite id the loaded specs name, with where each is used (placeholders left out)."""
    refs: Refs = {}
    orders = spec_set.specs.get("orders")
    if isinstance(orders, OrdersSpec):
        _order_settings(refs, orders.defaults, "orders.yaml: defaults")
        for region in orders.markets:
            _order_settings(refs, orders.for_shop("", region), f"orders.yaml: markets.{region}")
        for shop_id in orders.shops:
            _order_settings(refs, orders.for_shop(shop_id), f"orders.yaml: shops.{shop_id}")
    for name, spec in spec_set:
        extra = getattr(spec, "netsuite_refs", None)
        if callable(extra):
            for (table, label), ids in extra().items():
                for ref_id, wheres in ids.items():
                    for where in wheres:
                        _add(refs, table, label, ref_id, f"{name}.yaml: {where}")
    return refs


def clearing_account_problems(spec_set: SpecSet, lookup: NetSuiteLookup) -> list[str]:
    """The settlement clearing account must be a Bank account: a deposit into it (a payout of nothing,
    a cancelled order's customer deposit) and a customer refund paid from it name it as their
    ``account``, and NetSuite offers only Bank accounts there. One message per key that names another
    type, with the account and the fix (a missing account is reported by the reference check)."""
    from bridge.mapping.settlement_spec import SettlementSpec

    spec = spec_set.specs.get("settlement")
    if not isinstance(spec, SettlementSpec):
        return []
    keys: dict[str, str] = {}
    for where, settings in [("defaults", spec.defaults)] + [(f"shops.{s}", spec.for_shop(s)) for s in spec.shops]:
        if settings.enabled and not is_placeholder(settings.clearing_account):
            keys[f"{where}.clearing_account"] = settings.clearing_account
    if not keys:
        return []
    types = lookup.account_types(sorted(set(keys.values())))
    return [f"settlement.yaml: {key} {value!r} is a NetSuite account of type {types[value]}, not Bank: a deposit "
            "into the clearing account and a customer refund paid from it are refused | fix: make the TikTok Shop "
            "clearing account a Bank-type account in NetSuite (e.g. a Bank account \"TikTok Shop Clearing\") and "
            f"name it at {key}"
            for key, value in sorted(keys.items()) if value in types and types[value] != "Bank"]


def clearing_currency_problems(spec_set: SpecSet, lookup: NetSuiteLookup, shops: Sequence[Shop]) -> list[str]:
    """A bank account holds one currency: a shop's clearing account must be in the currency the shop sells in
    (its payouts of nothing and cancelled orders' customer deposits are deposited into it, its customer refunds
    paid from it, and NetSuite refuses a bank account of another currency there). One message per shop whose
    clearing account is a NetSuite account in another currency, naming the key that sets it and the fix (a
    merchant selling in two currencies needs one clearing account per currency)."""
    from bridge.flows.catalog import currency_of
    from bridge.mapping.settlement_spec import SettlementSpec

    spec = spec_set.specs.get("settlement")
    if not isinstance(spec, SettlementSpec) or not shops:
        return []
    wanted: dict[str, tuple[str, str, str]] = {}  # shop -> (key, account, currency)
    for shop in shops:
        settings = spec.for_shop(shop.id, shop.region)
        if not settings.enabled or is_placeholder(settings.clearing_account):
            continue
        own, market = spec.shops.get(shop.id), spec.markets.get(shop.region.upper())
        key = ("shops." + shop.id if own and "clearing_account" in own
               else f"markets.{shop.region.upper()}" if market and "clearing_account" in market
               else "defaults") + ".clearing_account"
        wanted[shop.id] = (key, str(settings.clearing_account), currency_of(shop))
    found = lookup.account_currencies(sorted({a for _k, a, _c in wanted.values()}))
    out = []
    for shop_id, (key, account, currency) in sorted(wanted.items()):
        held = found.get(account)
        if held and held != currency:
            out.append(f"settlement.yaml: {key} {account!r} is a NetSuite bank account in {held}, but shop {shop_id} "
                       f"sells in {currency}: NetSuite refuses its {currency} deposits into the clearing account and "
                       f"customer refunds paid from it | fix: create a Bank account in {currency} (e.g. \"TikTok Shop "
                       f"Clearing {currency}\") and name it at shops.{shop_id}.clearing_account (or markets.<region>."
                       "clearing_account for every shop of the market): a merchant selling in two currencies needs one "
                       "clearing account per currency")
    return out


def spec_at_revision(ref: str, path: Path, model: type[M]) -> M:
    """``path`` as committed at git revision ``ref``, validated."""
    try:
        root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True,
                              cwd=path.resolve().parent).stdout.strip()
        rel = path.resolve().relative_to(root)
        text = subprocess.run(["git", "show", f"{ref}:{rel}"], capture_output=True, text=True, check=True,
                              cwd=root).stdout
    except (subprocess.CalledProcessError, ValueError, FileNotFoundError) as exc:
        raise SpecError([SpecProblem(str(path), "", f"cannot be read at git revision {ref!r}",
                                     "give a revision that has the file (e.g. HEAD, main, a tag)")]) from exc
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / path.name
        tmp.write_text(text)
        return load_spec(tmp, model)
