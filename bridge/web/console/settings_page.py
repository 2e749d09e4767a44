"""What the admin's Settings page shows: the effective typed settings (secrets only as set / not set),
the mapping specs with their check status, and each shop's settings with the file and key that set
them. Only the per-shop flow switches live in the database and change from the console; everything
else is read at start from the environment, the configuration file or the spec files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bridge.settings import ENV_PREFIX, Settings, config_file, redact_url, setting_sources

GROUPS = (
    ("TikTok Shop", ("tiktok_",)),
    ("NetSuite", ("netsuite_",)),
    ("Web and console", ("web_", "session_", "metrics_", "trusted_", "public_url")),
    ("Worker and queue", ("worker_", "lease_", "max_attempts", "retry_", "shutdown_", "queue_")),
    ("Schedules", ("order_", "inventory_", "settlement_")),
    ("Alerts", ("smtp_", "alert_")),
    ("Core", ("",)),
)

#: The flows a shop can switch off (``ttns shops flows``), in the order the page lists them.
SHOP_FLOWS = ("orders", "inventory", "catalog", "fulfillment", "returns", "settlement", "monitoring")


@dataclass(frozen=True)
class SettingRow:
    name: str
    env: str
    value: str
    source: str
    secret: bool
    description: str


def _group(name: str) -> str:
    for title, prefixes in GROUPS:
        if any(name.startswith(p) for p in prefixes):
            return title
    return "Core"


def effective_settings(settings: Settings) -> list[tuple[str, list[SettingRow]]]:
    """Every setting by group: its variable, the value in effect (a secret only as "set" / "not set",
    the database URL without its password) and where the value came from."""
    sources = setting_sources(settings)
    groups: dict[str, list[SettingRow]] = {title: [] for title, _ in GROUPS}
    for name, info in type(settings).model_fields.items():
        raw = getattr(settings, name)
        secret = isinstance(raw, SecretStr) or info.annotation in (SecretStr, SecretStr | None)
        if secret:
            value = "set" if isinstance(raw, SecretStr) and raw.get_secret_value() else "not set"
        elif name == "database_url":
            value = redact_url(str(raw))
        elif raw is None or raw == "":
            value = ""
        elif isinstance(raw, Path):
            value = str(raw)
        else:
            value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        groups[_group(name)].append(SettingRow(name, f"{ENV_PREFIX}{name.upper()}", value, sources.get(name, ""),
                                               secret, info.description or ""))
    return [(title, rows) for title, rows in groups.items() if rows]


def configuration_file() -> str:
    path = config_file()
    return str(path) if path is not None else ""


@dataclass
class ShopValue:
    label: str
    value: str
    where: str  # file and key that set it


@dataclass
class ShopSettings:
    id: str
    name: str
    region: str
    status: str
    flows: dict[str, bool]
    values: list[ShopValue] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _where(file: str, shop_id: str, layers: list[tuple[str, dict[str, Any] | None]], key: str) -> str:
    """``file key``: the most specific layer whose mapping names the first part of ``key``."""
    head = key.split(".", maxsplit=1)[0]
    for prefix, layer in layers:
        if layer and head in layer:
            return f"{file} {prefix}.{key}"
    return f"{file} defaults.{key}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _text(value: Any) -> str:
    if value is None or value in ("", {}):
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} → {v}" for k, v in sorted(value.items()))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def shop_settings(shops: list[Any], models: dict[str, Any], specs_dir: Path) -> list[ShopSettings]:
    """Each shop's values from the spec files, merged as the flows merge them (``for_shop``), each with
    the file and key to edit; a spec that does not load or merge is named as a problem, not hidden."""
    out = []
    d = specs_dir.name
    for shop in shops:
        row = ShopSettings(shop.id, shop.name or shop.id, shop.region, shop.status,
                           {f: bool(shop.flows.get(f, True)) for f in SHOP_FLOWS})
        orders = models.get("orders")
        if orders is not None:
            try:
                o = orders.for_shop(shop.id, shop.region)
            except Exception as exc:  # a spec that validates alone but not merged for this shop
                row.problems.append(f"{d}/orders.yaml for this shop: {_first_line(exc)}")
            else:
                layers = [(f"shops.{shop.id}", orders.shops.get(shop.id)),
                          (f"markets.{shop.region.upper()}", orders.markets.get(shop.region.upper()))]
                for label, key, value in (
                        ("Orders written as", "record_type", o.record_type),
                        ("Subsidiary", "subsidiary", o.subsidiary),
                        ("Currencies (TikTok → NetSuite)", "currencies", o.currencies),
                        ("Hold policy (TikTok ON_HOLD)", "hold_policy", o.hold_policy),
                        ("Hold window, minutes", "hold_minutes", o.hold_minutes),
                        ("Customer", "customer.strategy", o.customer.strategy),
                        ("Tax", "tax.mode", o.tax.mode),
                        ("Customer deposit", "deposit.enabled", o.deposit.enabled)):
                    row.values.append(ShopValue(label, _text(value), _where(f"{d}/orders.yaml", shop.id, layers, key)))
        settlement = models.get("settlement")
        if settlement is not None:
            try:
                st = settlement.for_shop(shop.id)
                zone = settlement.time_zone(shop.id)
            except Exception as exc:
                row.problems.append(f"{d}/settlement.yaml for this shop: {_first_line(exc)}")
            else:
                layers = [(f"shops.{shop.id}", settlement.shops.get(shop.id))]
                zone_from = (_where(f"{d}/settlement.yaml", shop.id, layers, "time_zone") if st.time_zone else
                             f"{d}/settlement.yaml subsidiaries.{st.subsidiary}.time_zone"
                             if st.subsidiary and st.subsidiary in settlement.subsidiaries else
                             f"{d}/settlement.yaml defaults.time_zone (not set: UTC)")
                row.values.append(ShopValue("Time zone documents are dated in", zone, zone_from))
                for label, key, value in (("Settlement posting", "mode", st.mode),
                                          ("Statements posted", "enabled", st.enabled),
                                          ("Post after import", "posting.auto", st.posting.auto)):
                    row.values.append(ShopValue(label, _text(value),
                                                _where(f"{d}/settlement.yaml", shop.id, layers, key)))
        inventory = models.get("inventory")
        if inventory is not None:
            key = inventory.shop_key(shop.id, shop.name)
            prefix = f"shops.{key}" if key is not None else ""
            own = inventory.shops.get(key) if key is not None else None
            row.values.append(ShopValue(
                "Sold-out strategy", inventory.sold_out_for(shop.id, shop.name),
                f"{d}/inventory.yaml {prefix}.sold_out.strategy" if own is not None and own.sold_out is not None
                else f"{d}/inventory.yaml sold_out.strategy"))
            row.values.append(ShopValue(
                "TikTok SKUs without a NetSuite item", inventory.unmatched_for(shop.id, shop.name),
                f"{d}/inventory.yaml {prefix}.unmatched" if own is not None and own.unmatched is not None
                else f"{d}/inventory.yaml unmatched"))
            rule = inventory.rule_for(shop.id, "")
            row.values.append(ShopValue(
                "Stock sent (allocation, buffer, dynamic buffer up to)",
                f"{rule.allocation:%}, {rule.buffer}, {rule.buffer_max if rule.dynamic else 'off'}",
                f"{d}/inventory.yaml {rule.sources[-1] if rule.sources else 'defaults'}"))
        out.append(row)
    return out


__all__ = ["SHOP_FLOWS", "SettingRow", "ShopSettings", "ShopValue", "configuration_file", "effective_settings",
           "shop_settings"]
